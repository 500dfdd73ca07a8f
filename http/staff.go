package http

import (
	"net/http"
	"time"

	"github.com/hebaopay/hebao"
)

// staffLogin signs a staff member in: POST /v1/staff/sessions {username, password}
// → 201 {token, role}.
func (s *Server) staffLogin(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.staff == nil {
		return notConfigured("staff accounts")
	}
	out, err := s.staff.Login(r.Context(), req.Username, req.Password)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, struct {
		Token string `json:"token"`
		Role  string `json:"role"`
	}{out.Token, string(out.Staff.Role)})
}

// staffLogout ends the staff session whose token the request carries: DELETE
// /v1/staff/sessions/current → 204.
// Errors: unauthenticated, forbidden (a customer's token), unavailable.
func (s *Server) staffLogout(w http.ResponseWriter, r *http.Request) error {
	if s.staff == nil {
		return notConfigured("staff accounts")
	}
	p, err := s.principal(w, r)
	if err != nil {
		return err
	}
	if p.Staff == nil || p.StaffSession == nil {
		return hebao.Errorf(hebao.CodeForbidden, "this route is for staff: sign in at /staff")
	}
	if err := s.staff.Logout(r.Context(), *p.Staff, *p.StaffSession); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// verifyLedger proves the whole ledger: GET /v1/admin/ledger/verify (admin). A
// broken ledger is a report with ok false, still 200: the request succeeded.
func (s *Server) verifyLedger(w http.ResponseWriter, r *http.Request, _ hebao.Staff) error {
	if s.ledger == nil {
		return notConfigured("ledger verification")
	}
	rep, err := s.ledger.Verify(r.Context())
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, rep)
}

// auditJSON is one audit record as GET /v1/admin/audit shows it.
type auditJSON struct {
	ID    string    `json:"id"`
	At    time.Time `json:"at"`
	Actor struct {
		Kind string `json:"kind"`
		ID   string `json:"id"`
	} `json:"actor"`
	Action    string            `json:"action"`
	Subject   string            `json:"subject"`
	RequestID string            `json:"request_id"`
	Detail    map[string]string `json:"detail"`
}

// listAudit pages through the audit log, newest first: GET /v1/admin/audit?limit=&cursor=
// (admin) → {items, next_cursor}; next_cursor is null on the last page.
func (s *Server) listAudit(w http.ResponseWriter, r *http.Request, _ hebao.Staff) error {
	if s.audit == nil {
		return notConfigured("the audit log")
	}
	q := r.URL.Query()
	limit, err := hebao.ParsePageSize(q.Get("limit"))
	if err != nil {
		return err
	}
	page, err := s.audit.List(r.Context(), limit, q.Get("cursor"))
	if err != nil {
		return err
	}
	out := struct {
		Items      []auditJSON `json:"items"`
		NextCursor *string     `json:"next_cursor"`
	}{Items: []auditJSON{}}
	for _, rec := range page.Records {
		a := auditJSON{ID: rec.ID, At: rec.At.UTC(), Action: rec.Action, Subject: rec.Subject, RequestID: rec.RequestID, Detail: rec.Detail}
		a.Actor.Kind, a.Actor.ID = string(rec.Actor.Kind), rec.Actor.ID
		if a.Detail == nil {
			a.Detail = map[string]string{}
		}
		out.Items = append(out.Items, a)
	}
	if page.Next != "" {
		out.NextCursor = &page.Next
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}
