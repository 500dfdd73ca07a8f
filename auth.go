package hebao

import (
	"context"
	"strings"
)

// Principal is who a bearer token speaks for: a customer's session, or a staff
// member. Exactly one of Customer and Staff is set.
type Principal struct {
	Customer     *Session
	Staff        *Staff
	StaffSession *StaffSession
}

// Authenticator resolves bearer tokens of both kinds: a customer's (CustomerTokenPrefix)
// and a staff member's (StaffTokenPrefix).
type Authenticator struct {
	Customers *CustomerService
	Staff     *StaffService
}

// Authenticate resolves token to its principal.
// Errors: unauthenticated (no token, a malformed, unknown or expired one).
func (a *Authenticator) Authenticate(ctx context.Context, token string) (Principal, error) {
	switch {
	case token == "":
		return Principal{}, Errorf(CodeUnauthenticated, "this route needs a bearer token: send Authorization: Bearer <token> from sign-in")
	case strings.HasPrefix(token, StaffTokenPrefix) && a.Staff != nil:
		st, sess, err := a.Staff.Authenticate(ctx, token)
		if err != nil {
			return Principal{}, err
		}
		return Principal{Staff: &st, StaffSession: &sess}, nil
	case strings.HasPrefix(token, CustomerTokenPrefix) && a.Customers != nil:
		sess, err := a.Customers.Authenticate(ctx, token)
		if err != nil {
			return Principal{}, err
		}
		return Principal{Customer: &sess}, nil
	}
	return Principal{}, errBadToken
}

// AsCustomer returns the customer's session, for a customer's route.
// Errors: forbidden (a staff member).
func (p Principal) AsCustomer() (Session, error) {
	if p.Customer == nil {
		return Session{}, Errorf(CodeForbidden, "this route is for customers; a staff token cannot use it")
	}
	return *p.Customer, nil
}

// AsStaff returns the staff member, for a route that needs role.
// Errors: forbidden (a customer, or a staff member whose role does not allow it).
func (p Principal) AsStaff(role StaffRole) (Staff, error) {
	if p.Staff == nil {
		return Staff{}, Errorf(CodeForbidden, "this route is for staff; a customer token cannot use it")
	}
	if !p.Staff.Role.Allows(role) {
		return Staff{}, Errorf(CodeForbidden, "this route needs the %s role; this account is %s", role, p.Staff.Role)
	}
	return *p.Staff, nil
}
