package http

import (
	"net/http"
	"strings"

	"github.com/hebaopay/hebao"
)

// bearer returns the token of an Authorization: Bearer header, or "" when there is
// no Authorization header.
// Errors: unauthenticated (another scheme, or no token after Bearer).
func bearer(r *http.Request) (string, error) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", nil
	}
	scheme, tok, _ := strings.Cut(h, " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", hebao.Errorf(hebao.CodeUnauthenticated, "the Authorization header must be Bearer and a token")
	}
	return tok, nil
}

// principal resolves the request's bearer token. A failure asks the client, in the
// WWW-Authenticate header, for a bearer token (RFC 6750).
// Errors: unauthenticated.
func (s *Server) principal(w http.ResponseWriter, r *http.Request) (hebao.Principal, error) {
	tok, err := bearer(r)
	if err == nil {
		var p hebao.Principal
		if p, err = s.auth.Authenticate(r.Context(), tok); err == nil {
			return p, nil
		}
	}
	if hebao.ErrorCode(err) == hebao.CodeUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="hebao"`)
	}
	return hebao.Principal{}, err
}

// customerHandler serves a customer's route for the customer of sess, and only
// ever shows that customer's own things.
type customerHandler func(w http.ResponseWriter, r *http.Request, sess hebao.Session) error

// asCustomer lets only a signed-in customer through to h.
// Errors: unavailable (no customer accounts configured), unauthenticated,
// forbidden (a staff token).
func (s *Server) asCustomer(h customerHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.customers == nil {
			return notConfigured("customer accounts")
		}
		p, err := s.principal(w, r)
		if err != nil {
			return err
		}
		sess, err := p.AsCustomer()
		if err != nil {
			return err
		}
		return h(w, r, sess)
	}
}

// staffHandler serves a staff route for the staff member st.
type staffHandler func(w http.ResponseWriter, r *http.Request, st hebao.Staff) error

// asStaff lets only a signed-in staff member whose role allows role through to h.
// Errors: unavailable (no staff accounts configured), unauthenticated, forbidden
// (a customer token, or a role that does not allow it).
func (s *Server) asStaff(role hebao.StaffRole, h staffHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.staff == nil {
			return notConfigured("staff accounts")
		}
		p, err := s.principal(w, r)
		if err != nil {
			return err
		}
		st, err := p.AsStaff(role)
		if err != nil {
			return err
		}
		return h(w, r, st)
	}
}

func notConfigured(what string) error {
	return hebao.Errorf(hebao.CodeUnavailable, "%s are not configured on this server", what)
}
