package http

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"

	"github.com/hebaopay/hebao"
)

// kindStatus is the one table from error kind to HTTP status (SPEC §10).
var kindStatus = map[hebao.Kind]int{
	hebao.KindInvalid:         http.StatusBadRequest,
	hebao.KindUnauthenticated: http.StatusUnauthorized,
	hebao.KindForbidden:       http.StatusForbidden,
	hebao.KindNotFound:        http.StatusNotFound,
	hebao.KindConflict:        http.StatusConflict,
	hebao.KindRejected:        http.StatusUnprocessableEntity,
	hebao.KindLocked:          http.StatusLocked,
	hebao.KindUpgrade:         http.StatusUpgradeRequired,
	hebao.KindRateLimited:     http.StatusTooManyRequests,
	hebao.KindUnavailable:     http.StatusServiceUnavailable,
	hebao.KindInternal:        http.StatusInternalServerError,
}

// problemBase prefixes a code to make a problem document's type URI.
const problemBase = "https://hebao.dev/problems/"

// internalDetail is all a client learns about a real fault.
const internalDetail = "An internal error occurred. It has been logged; quote the request id if you report it."

// statusClientClosed is recorded, never seen, when the client went away before the
// answer was ready (nginx's convention).
const statusClientClosed = 499

// problem is an RFC 9457 problem document with Hebao's two extension members.
type problem struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
}

// statusError carries a status that is about HTTP itself (405) rather than a
// domain rule, so it is not in kindStatus. The problem's code and detail come from err.
type statusError struct {
	status int
	err    *hebao.Error
}

func (e *statusError) Error() string { return e.err.Error() }
func (e *statusError) Unwrap() error { return e.err }

// writeError renders err as a problem document: the status from its kind, its public
// code and message. A 500 says nothing of its cause; the cause is logged here, once,
// with the request id. Handlers return errors and never log them.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	ctx := r.Context()
	ex := exchangeOf(ctx)
	id, route := "", ""
	if ex != nil {
		id, route = ex.id, ex.route
	}

	if ctx.Err() != nil && errors.Is(err, context.Cause(ctx)) {
		s.log.LogAttrs(ctx, slog.LevelInfo, "client went away", slog.String("request_id", id), slog.String("route", route))
		if !started(w) {
			w.WriteHeader(statusClientClosed)
		}
		return
	}

	e := hebao.ErrorOf(err)
	status, ok := kindStatus[e.Kind]
	if !ok {
		status = http.StatusInternalServerError
	}
	var se *statusError
	if errors.As(err, &se) {
		status = se.status
	}
	p := problemFor(status, e.Code, e.Message)
	if status >= 500 {
		level := slog.LevelError
		if status != http.StatusInternalServerError {
			level = slog.LevelWarn // 503 and the like: the outside, not a bug
		}
		s.log.LogAttrs(ctx, level, "error", slog.String("request_id", id), slog.String("route", route),
			slog.Int("status", status), slog.String("error", err.Error()))
	}
	if status == http.StatusInternalServerError {
		p = problemFor(status, hebao.CodeInternal, internalDetail)
	}
	if started(w) {
		if status < 500 {
			s.log.LogAttrs(ctx, slog.LevelError, "error after the response started",
				slog.String("request_id", id), slog.String("route", route), slog.String("error", err.Error()))
		}
		return
	}
	if ex != nil {
		ex.code = p.Code
	}
	p.RequestID = id
	s.writeProblem(w, p)
}

// problemFor fills in a problem document's type and title from its status and code.
func problemFor(status int, code, detail string) problem {
	return problem{
		Type:   problemBase + code,
		Title:  http.StatusText(status),
		Status: status,
		Detail: detail,
		Code:   code,
	}
}

func (s *Server) writeProblem(w http.ResponseWriter, p problem) {
	b, err := json.Marshal(p)
	if err != nil { // only strings and an int: cannot happen
		panic(err)
	}
	h := w.Header()
	h.Set("Content-Type", "application/problem+json")
	h.Set("Cache-Control", "no-store")
	h.Del("Content-Length")
	w.WriteHeader(p.Status)
	w.Write(append(b, '\n'))
}

// started reports whether w has sent its status line already.
func started(w http.ResponseWriter) bool {
	sw, ok := w.(*statusWriter)
	return ok && sw.status != 0
}
