package hebao

import (
	"context"
	"time"
)

// StaffRole is what a staff member may do (SPEC §1).
type StaffRole string

// The staff roles. An admin may also do what an agent may.
const (
	RoleAgent StaffRole = "agent" // customer service
	RoleAdmin StaffRole = "admin" // operator: merchants, campaigns, audits
)

// Valid reports whether r is a known role.
func (r StaffRole) Valid() bool { return r == RoleAgent || r == RoleAdmin }

// Allows reports whether a member with role r may use a route that needs role.
func (r StaffRole) Allows(role StaffRole) bool {
	return r == role || r == RoleAdmin && role == RoleAgent
}

// Staff is a staff account. The password is kept only as an argon2id hash.
type Staff struct {
	ID           string
	Username     string
	PasswordHash string
	Role         StaffRole
	CreatedAt    time.Time
}

// ValidateUsername accepts 3 to 32 of a-z, 0-9, '.', '_' and '-', starting with a
// letter. Errors: invalid_request.
func ValidateUsername(u string) error {
	ok := len(u) >= 3 && len(u) <= 32 && u[0] >= 'a' && u[0] <= 'z'
	for i := 0; ok && i < len(u); i++ {
		c := u[i]
		ok = c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '_' || c == '-'
	}
	if !ok {
		return Errorf(CodeInvalidRequest, "a username is 3 to 32 of a-z, 0-9, '.', '_' and '-', starting with a letter")
	}
	return nil
}

// StaffService manages staff accounts and signs staff in.
type StaffService struct {
	Store Store
	// Argon2 are the parameters of new password hashes; zero is DefaultArgon2.
	Argon2 Argon2Params
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time

	dummy lazyHash
}

// Add creates a staff account, audited as done by by.
// Errors: invalid_request (username, role, a password under 12 characters),
// conflict (the username is taken).
func (s *StaffService) Add(ctx context.Context, by Actor, username, password string, role StaffRole) (Staff, error) {
	if err := ValidateUsername(username); err != nil {
		return Staff{}, err
	}
	if !role.Valid() {
		return Staff{}, Errorf(CodeInvalidRequest, "role must be %s or %s", RoleAgent, RoleAdmin)
	}
	if err := ValidateStaffPassword(password); err != nil {
		return Staff{}, err
	}
	hash, err := HashPassword(s.Argon2, password)
	if err != nil {
		return Staff{}, err
	}
	var out Staff
	err = s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		st := Staff{ID: NewID("stf"), Username: username, PasswordHash: hash, Role: role, CreatedAt: now}
		if err := tx.CreateStaff(ctx, st); err != nil {
			if ErrorCode(err) == CodeConflict {
				e := Errorf(CodeConflict, "there is a staff account %q already", username)
				e.Err = err
				return e
			}
			return err
		}
		rec := audit(ctx, now, by, ActionStaffAdd, st.ID, map[string]string{"username": username, "role": string(role)})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
		out = st
		return nil
	})
	return out, err
}

// StaffSignedIn is a new staff session and its token, shown this once.
type StaffSignedIn struct {
	Staff   Staff
	Session StaffSession
	Token   string
}

var errBadStaffCredentials = Errorf(CodeUnauthenticated, "the username or the password is wrong")

// Login signs a staff member in. Guessing is throttled per username exactly as a
// customer's sign-in is per phone (see CustomerService.Login), and every outcome is
// audited.
// Errors: invalid_request (empty username or password), unauthenticated (unknown
// username or wrong password, the same answer), rate_limited.
func (s *StaffService) Login(ctx context.Context, username, password string) (StaffSignedIn, error) {
	if username == "" || len(username) > 64 || password == "" || len(password) > maxPasswordBytes {
		return StaffSignedIn{}, Errorf(CodeInvalidRequest, "username and password are required")
	}
	subject := "staff:" + username // no phone has a colon
	who := map[string]string{"username": username}
	var (
		st      Staff
		found   bool
		verdict error
	)
	err := s.Store.Transact(ctx, func(tx Tx) error {
		st, found, verdict = Staff{}, false, nil
		now := nowIn(s.Now, tx)
		fails, err := tx.LoginFailures(ctx, subject, now.Add(-2*LoginFailureWindow))
		if err != nil {
			return err
		}
		if verdict = CheckLoginThrottle(fails, now); verdict != nil {
			return tx.AddAudit(ctx, audit(ctx, now, Actor{Kind: ActorAnonymous}, ActionStaffRateLimited, "", who))
		}
		if err := tx.AddLoginFailure(ctx, subject, now); err != nil {
			return err
		}
		if err := tx.DeleteLoginFailures(ctx, subject, now.Add(-2*LoginFailureWindow)); err != nil {
			return err
		}
		switch st, err = tx.StaffByUsername(ctx, username); {
		case err == nil:
			found = true
		case ErrorCode(err) != CodeNotFound:
			return err
		}
		return nil
	})
	if err != nil {
		return StaffSignedIn{}, err
	}
	if verdict != nil {
		return StaffSignedIn{}, verdict
	}
	hash, err := s.dummy.get(s.Argon2)
	if err != nil {
		return StaffSignedIn{}, err
	}
	if found {
		hash = st.PasswordHash
	}
	ok, err := CheckPassword(hash, password)
	if err != nil {
		return StaffSignedIn{}, err
	}
	if !ok || !found {
		err := s.Store.Transact(ctx, func(tx Tx) error {
			return tx.AddAudit(ctx, audit(ctx, nowIn(s.Now, tx), Actor{Kind: ActorAnonymous}, ActionStaffLoginFailed, st.ID, who))
		})
		if err != nil {
			return StaffSignedIn{}, err
		}
		return StaffSignedIn{}, errBadStaffCredentials
	}
	token, th, err := newToken(StaffTokenPrefix)
	if err != nil {
		return StaffSignedIn{}, err
	}
	var out StaffSignedIn
	err = s.Store.Transact(ctx, func(tx Tx) error {
		out = StaffSignedIn{}
		now := nowIn(s.Now, tx)
		cur, err := tx.StaffByID(ctx, st.ID)
		if ErrorCode(err) == CodeNotFound || err == nil && cur.PasswordHash != st.PasswordHash {
			return errBadStaffCredentials // changed since the check
		}
		if err != nil {
			return err
		}
		if err := tx.DeleteLoginFailures(ctx, subject, time.Time{}); err != nil {
			return err
		}
		if _, err := tx.DeleteStaffSessions(ctx, cur.ID, idleCutoff(now, StaffSessionIdle)); err != nil {
			return err
		}
		sess := StaffSession{ID: NewID("sts"), TokenHash: th, StaffID: cur.ID, CreatedAt: now, LastUsedAt: now}
		if err := tx.CreateStaffSession(ctx, sess); err != nil {
			return err
		}
		rec := audit(ctx, now, Actor{ActorStaff, cur.ID}, ActionStaffLogin, cur.ID, map[string]string{"username": cur.Username, "role": string(cur.Role)})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
		out = StaffSignedIn{Staff: cur, Session: sess, Token: token}
		return nil
	})
	if err != nil {
		return StaffSignedIn{}, err
	}
	return out, nil
}

// Logout ends one staff session (DELETE /v1/staff/sessions/current): its token is
// refused from then on. The staff member's other sessions go on.
// Errors: none of its own; the store's.
func (s *StaffService) Logout(ctx context.Context, st Staff, sess StaffSession) error {
	return s.Store.Transact(ctx, func(tx Tx) error {
		if _, err := tx.DeleteStaffSession(ctx, sess.ID); err != nil {
			return err
		}
		rec := audit(ctx, nowIn(s.Now, tx), Actor{ActorStaff, st.ID}, ActionStaffLogout, st.ID, map[string]string{"username": st.Username})
		return tx.AddAudit(ctx, rec)
	})
}

// Authenticate resolves a staff bearer token to the staff member, with the role the
// account has now. A staff session ends after StaffSessionIdle unused; use moves
// it forward, written at most once a minute.
// Errors: unauthenticated (malformed, unknown or expired).
func (s *StaffService) Authenticate(ctx context.Context, token string) (Staff, StaffSession, error) {
	if !wellFormedToken(StaffTokenPrefix, token) {
		return Staff{}, StaffSession{}, errBadToken
	}
	var (
		st   Staff
		sess StaffSession
		now  time.Time
	)
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		now = nowIn(s.Now, tx)
		if sess, err = tx.StaffSessionByToken(ctx, TokenHash(token)); err != nil {
			return err
		}
		st, err = tx.StaffByID(ctx, sess.StaffID)
		return err
	})
	if ErrorCode(err) == CodeNotFound {
		return Staff{}, StaffSession{}, errBadToken
	}
	if err != nil {
		return Staff{}, StaffSession{}, err
	}
	if Idle(sess.LastUsedAt, StaffSessionIdle, now) {
		return Staff{}, StaffSession{}, errExpired
	}
	if needsTouch(sess.LastUsedAt, now) {
		err := s.Store.Transact(ctx, func(tx Tx) error {
			now = nowIn(s.Now, tx)
			return tx.TouchStaffSession(ctx, sess.ID, now)
		})
		if err != nil {
			return Staff{}, StaffSession{}, err
		}
		sess.LastUsedAt = now
	}
	return st, sess, nil
}
