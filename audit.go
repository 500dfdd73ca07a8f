package hebao

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// ActorKind says who did what an audit record records.
type ActorKind string

// The kinds of actor.
const (
	ActorCustomer  ActorKind = "customer"
	ActorStaff     ActorKind = "staff"
	ActorSystem    ActorKind = "system"    // the program itself: a command, the --dev seed
	ActorAnonymous ActorKind = "anonymous" // someone not signed in, e.g. a failed sign-in
)

// Actor is who did something: a kind and, for customers and staff, their id.
type Actor struct {
	Kind ActorKind
	ID   string
}

// The audited actions (SPEC §6): every security event and every staff action.
const (
	ActionRegister         = "customer.register"
	ActionLogin            = "customer.login"
	ActionLoginFailed      = "customer.login_failed"
	ActionLoginRateLimited = "customer.login_rate_limited"
	ActionLogout           = "customer.logout"
	ActionLogoutAll        = "customer.logout_all"
	ActionStaffAdd         = "staff.add"
	ActionStaffLogin       = "staff.login"
	ActionStaffLogout      = "staff.logout"
	ActionStaffLoginFailed = "staff.login_failed"
	ActionStaffRateLimited = "staff.login_rate_limited"
)

// AuditRecord is one entry of the append-only audit log. Detail never holds a
// secret: no password, token, SMS code, card or ID number.
type AuditRecord struct {
	Seq       int64 // assigned by the store, ascending
	ID        string
	At        time.Time
	Actor     Actor
	Action    string
	Subject   string // what was acted on: a customer, wallet or staff id; "" if none
	RequestID string
	Detail    map[string]string
}

// audit builds the record of action, with the request id ctx carries.
func audit(ctx context.Context, at time.Time, by Actor, action, subject string, detail map[string]string) AuditRecord {
	if detail == nil {
		detail = map[string]string{}
	}
	return AuditRecord{ID: NewID("aud"), At: at, Actor: by, Action: action, Subject: subject, RequestID: RequestIDOf(ctx), Detail: detail}
}

type requestIDKey struct{}

// WithRequestID returns ctx carrying the id of the request being served, for the
// audit records written on its behalf.
func WithRequestID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, requestIDKey{}, id)
}

// RequestIDOf returns the request id ctx carries, or "".
func RequestIDOf(ctx context.Context) string {
	id, _ := ctx.Value(requestIDKey{}).(string)
	return id
}

// Page sizes of every list (SPEC §10).
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
)

// ParsePageSize reads a list's ?limit=: empty is DefaultPageSize, else an integer
// from 1 to MaxPageSize. Errors: invalid_request.
func ParsePageSize(s string) (int, error) {
	if s == "" {
		return DefaultPageSize, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > MaxPageSize {
		return 0, Errorf(CodeInvalidRequest, "limit must be an integer from 1 to %d", MaxPageSize)
	}
	return n, nil
}

// cursorPrefix versions the cursor format, which clients must treat as opaque.
const cursorPrefix = "v1."

// encodeCursor makes the opaque cursor that continues a list after seq.
func encodeCursor(seq int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(seq, 10)))
}

// decodeCursor reads a cursor made by encodeCursor; "" is the start of the list.
// Errors: invalid_request.
func decodeCursor(c string) (int64, error) {
	if c == "" {
		return 0, nil
	}
	bad := Errorf(CodeInvalidRequest, "cursor is not one this server gave out")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, bad
	}
	num, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, bad
	}
	seq, err := strconv.ParseInt(num, 10, 64)
	if err != nil || seq < 1 || strconv.FormatInt(seq, 10) != num {
		return 0, bad
	}
	return seq, nil
}

// AuditService reads the audit log for admins.
type AuditService struct {
	Store Store
}

// AuditPage is one page of the audit log, newest first. Next continues it; "" at
// the end.
type AuditPage struct {
	Records []AuditRecord
	Next    string
}

// List returns up to limit records (1 to MaxPageSize) after cursor, newest first.
// Errors: invalid_request (limit, cursor).
func (s *AuditService) List(ctx context.Context, limit int, cursor string) (AuditPage, error) {
	if limit < 1 || limit > MaxPageSize {
		return AuditPage{}, Errorf(CodeInvalidRequest, "limit must be an integer from 1 to %d", MaxPageSize)
	}
	before, err := decodeCursor(cursor)
	if err != nil {
		return AuditPage{}, err
	}
	var page AuditPage
	err = s.Store.View(ctx, func(tx Tx) error {
		rs, err := tx.AuditLog(ctx, before, limit+1)
		if err != nil {
			return err
		}
		page = AuditPage{Records: rs}
		if len(rs) > limit {
			page.Records = rs[:limit]
			page.Next = encodeCursor(rs[limit-1].Seq)
		}
		return nil
	})
	return page, err
}
