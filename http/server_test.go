package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// fakeStore is a hebao.Store whose methods are fields, so each test says what the
// database does.
type fakeStore struct {
	TransactFn func(ctx context.Context, fn func(hebao.Tx) error) error
	PingFn     func(ctx context.Context) error
	ViewFn     func(ctx context.Context, fn func(hebao.Tx) error) error
}

var _ hebao.Store = (*fakeStore)(nil)

func (s *fakeStore) Transact(ctx context.Context, fn func(hebao.Tx) error) error {
	if s.TransactFn == nil {
		return errors.New("fakeStore: Transact not expected")
	}
	return s.TransactFn(ctx, fn)
}

func (s *fakeStore) View(ctx context.Context, fn func(hebao.Tx) error) error {
	if s.ViewFn == nil {
		return errors.New("fakeStore: View not expected")
	}
	return s.ViewFn(ctx, fn)
}

func (s *fakeStore) Ping(ctx context.Context) error {
	if s.PingFn == nil {
		return nil
	}
	return s.PingFn(ctx)
}

// syncBuffer is a log destination that many handler goroutines may write to.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// lines returns the JSON log records written so far.
func (b *syncBuffer) lines(t *testing.T) []map[string]any {
	t.Helper()
	var out []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(b.String()), "\n") {
		if l == "" {
			continue
		}
		var m map[string]any
		if err := json.Unmarshal([]byte(l), &m); err != nil {
			t.Fatalf("log line %q: %v", l, err)
		}
		out = append(out, m)
	}
	return out
}

type testServer struct {
	*Server
	logs *syncBuffer
}

// newTestServer returns a server logging JSON to a buffer, with extra routes that
// exist only in tests, to exercise the edge with every kind of handler.
func newTestServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	logs := &syncBuffer{}
	cfg.Logger = slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	if cfg.Store == nil {
		cfg.Store = &fakeStore{}
	}
	s, err := NewServer(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &testServer{Server: s, logs: logs}
}

// addTestRoutes registers the routes that only tests have.
func (s *testServer) addTestRoutes() {
	s.handle("POST /test/echo", func(w http.ResponseWriter, r *http.Request) error {
		var req struct {
			Amount int64  `json:"amount"`
			Memo   string `json:"memo"`
		}
		if err := decode(r, &req); err != nil {
			return err
		}
		return writeJSON(w, http.StatusOK, req)
	})
	s.handle("GET /test/panic", func(w http.ResponseWriter, r *http.Request) error {
		panic("boom: card 6222020000000001 secret")
	})
	s.handle("GET /test/panic-after-write", func(w http.ResponseWriter, r *http.Request) error {
		w.WriteHeader(http.StatusOK)
		w.Write([]byte(`{"partial":`))
		panic("boom after write")
	})
	s.handle("GET /test/fail", func(w http.ResponseWriter, r *http.Request) error {
		return fmt.Errorf("load wallet: %w", errors.New("pq: password authentication failed for user hebao"))
	})
	s.handle("GET /test/error/{code}", func(w http.ResponseWriter, r *http.Request) error {
		return hebao.Errorf(r.PathValue("code"), "the %s rule said no", r.PathValue("code"))
	})
}

// do serves one request and returns the recorded response.
func (s *testServer) do(t *testing.T, method, target string, header http.Header, body string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	for k, v := range header {
		req.Header[k] = v
	}
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	return rec
}

// problemOf decodes a problem document, failing the test if the response is not one.
func problemOf(t *testing.T, rec *httptest.ResponseRecorder) problem {
	t.Helper()
	if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type = %q, want application/problem+json; body %s", ct, rec.Body)
	}
	var p problem
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		t.Fatalf("problem document %s: %v", rec.Body, err)
	}
	return p
}

func jsonHeader(kv ...string) http.Header {
	h := http.Header{"Content-Type": {"application/json"}}
	for i := 0; i+1 < len(kv); i += 2 {
		h.Set(kv[i], kv[i+1])
	}
	return h
}

func wantProblem(status int, code, detail, requestID string) problem {
	p := problemFor(status, code, detail)
	p.RequestID = requestID
	return p
}

func TestProblems(t *testing.T) {
	s := newTestServer(t, Config{})
	s.addTestRoutes()
	const rid = "test-request-1"

	tests := []struct {
		name   string
		method string
		target string
		header http.Header
		body   string
		want   problem
	}{
		{
			name: "malformed JSON", method: "POST", target: "/test/echo",
			header: jsonHeader(), body: `{"amount": 1 x}`,
			want: wantProblem(400, "invalid_request", "the request body is not valid JSON: invalid character 'x' after object key:value pair (at byte 14)", rid),
		},
		{
			name: "truncated JSON", method: "POST", target: "/test/echo",
			header: jsonHeader(), body: `{"amount": 1,`,
			want: wantProblem(400, "invalid_request", "the request body is not valid JSON: it ends too early", rid),
		},
		{
			name: "unknown field", method: "POST", target: "/test/echo",
			header: jsonHeader(), body: `{"amount": 1, "balance": 100000}`,
			want: wantProblem(400, "invalid_request", `unknown field "balance"`, rid),
		},
		{
			name: "fractional amount", method: "POST", target: "/test/echo",
			header: jsonHeader(), body: `{"amount": 1.5}`,
			want: wantProblem(400, "invalid_request", `field "amount" must be an integer, not number 1.5`, rid),
		},
		{
			name: "amount as string", method: "POST", target: "/test/echo",
			header: jsonHeader(), body: `{"amount": "100"}`,
			want: wantProblem(400, "invalid_request", `field "amount" must be an integer, not string`, rid),
		},
		{
			name: "array instead of object", method: "POST", target: "/test/echo",
			header: jsonHeader(), body: `[1, 2]`,
			want: wantProblem(400, "invalid_request", `the request body must be an object, not array`, rid),
		},
		{
			name: "oversize body", method: "POST", target: "/test/echo",
			header: jsonHeader(), body: `{"memo": "` + strings.Repeat("a", 64<<10) + `"}`,
			want: wantProblem(400, "invalid_request", "the request body is larger than 64 KiB", rid),
		},
		{
			name: "trailing garbage", method: "POST", target: "/test/echo",
			header: jsonHeader(), body: `{"amount": 1} garbage`,
			want: wantProblem(400, "invalid_request", "the request body has data after its JSON value", rid),
		},
		{
			name: "second JSON value", method: "POST", target: "/test/echo",
			header: jsonHeader(), body: `{"amount": 1} {"amount": 2}`,
			want: wantProblem(400, "invalid_request", "the request body has data after its JSON value", rid),
		},
		{
			name: "empty body", method: "POST", target: "/test/echo",
			header: jsonHeader(), body: ``,
			want: wantProblem(400, "invalid_request", "the request body is empty; send a JSON object", rid),
		},
		{
			name: "form content type", method: "POST", target: "/test/echo",
			header: http.Header{"Content-Type": {"application/x-www-form-urlencoded"}}, body: `amount=1`,
			want: wantProblem(400, "invalid_request", `the Content-Type is "application/x-www-form-urlencoded"; send application/json`, rid),
		},
		{
			name: "no content type", method: "POST", target: "/test/echo",
			body: `{"amount": 1}`,
			want: wantProblem(400, "invalid_request", "the Content-Type header is missing; send application/json", rid),
		},
		{
			name: "unknown route", method: "GET", target: "/v1/nope",
			want: wantProblem(404, "not_found", "there is no route GET /v1/nope", rid),
		},
		{
			name: "wrong method", method: "DELETE", target: "/healthz",
			want: wantProblem(405, "invalid_request", "method DELETE is not allowed here; allowed: GET, HEAD", rid),
		},
		{
			name: "internal error", method: "GET", target: "/test/fail",
			want: wantProblem(500, "internal", internalDetail, rid),
		},
		{
			name: "panic", method: "GET", target: "/test/panic",
			want: wantProblem(500, "internal", internalDetail, rid),
		},
		{
			name: "business rule", method: "GET", target: "/test/error/insufficient_funds",
			want: wantProblem(422, "insufficient_funds", "the insufficient_funds rule said no", rid),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := tt.header.Clone()
			if h == nil {
				h = http.Header{}
			}
			h.Set("X-Request-Id", rid)
			rec := s.do(t, tt.method, tt.target, h, tt.body)
			if rec.Code != tt.want.Status {
				t.Errorf("status = %d, want %d", rec.Code, tt.want.Status)
			}
			if diff := cmp.Diff(tt.want, problemOf(t, rec)); diff != "" {
				t.Errorf("problem (-want +got):\n%s", diff)
			}
			if got := rec.Header().Get("X-Request-Id"); got != rid {
				t.Errorf("X-Request-Id = %q, want %q", got, rid)
			}
		})
	}
}

func TestDecodeAccepts(t *testing.T) {
	s := newTestServer(t, Config{})
	s.addTestRoutes()
	for _, ct := range []string{"application/json", "application/json; charset=utf-8", "Application/JSON"} {
		rec := s.do(t, "POST", "/test/echo", http.Header{"Content-Type": {ct}}, " {\"amount\": 12, \"memo\": \"午饭\"}\n")
		if rec.Code != 200 {
			t.Fatalf("Content-Type %q: status %d, body %s", ct, rec.Code, rec.Body)
		}
		if got, want := rec.Body.String(), "{\"amount\":12,\"memo\":\"午饭\"}\n"; got != want {
			t.Errorf("body = %q, want %q", got, want)
		}
		if got := rec.Header().Get("Content-Type"); got != "application/json" {
			t.Errorf("Content-Type = %q", got)
		}
	}
}

func TestMethodNotAllowedKeepsAllow(t *testing.T) {
	s := newTestServer(t, Config{})
	rec := s.do(t, "POST", "/readyz", nil, "")
	if rec.Code != 405 {
		t.Fatalf("status = %d, want 405", rec.Code)
	}
	if got := rec.Header().Get("Allow"); got != "GET, HEAD" {
		t.Errorf("Allow = %q, want %q", got, "GET, HEAD")
	}
}

func TestKindStatus(t *testing.T) {
	s := newTestServer(t, Config{})
	s.addTestRoutes()
	tests := []struct {
		code   string
		status int
	}{
		{"invalid_request", 400},
		{"unauthenticated", 401},
		{"forbidden", 403},
		{"not_found", 404},
		{"idempotency_key_in_use", 409},
		{"insufficient_funds", 422},
		{"wallet_frozen", 422},
		{"payment_password_locked", 423},
		{"client_upgrade_required", 426},
		{"rate_limited", 429},
		{"internal", 500},
		{"no_such_code", 500},
	}
	for _, tt := range tests {
		rec := s.do(t, "GET", "/test/error/"+tt.code, nil, "")
		if rec.Code != tt.status {
			t.Errorf("%s: status = %d, want %d", tt.code, rec.Code, tt.status)
		}
		if p := problemOf(t, rec); p.Status != tt.status {
			t.Errorf("%s: problem status = %d, want %d", tt.code, p.Status, tt.status)
		}
	}
	// Every kind has a row: a kind added to hebao without one would answer 500.
	for k := hebao.KindInternal; k <= hebao.KindRateLimited; k++ {
		if _, ok := kindStatus[k]; !ok {
			t.Errorf("kind %d has no status", k)
		}
	}
}

func TestInternalErrorsDoNotLeak(t *testing.T) {
	s := newTestServer(t, Config{})
	s.addTestRoutes()
	for _, target := range []string{"/test/fail", "/test/panic"} {
		rec := s.do(t, "GET", target, http.Header{"X-Request-Id": {"leak-check"}}, "")
		for _, secret := range []string{"password", "6222020000000001", "boom", "pq:", "goroutine"} {
			if strings.Contains(rec.Body.String(), secret) {
				t.Errorf("%s: body %s leaks %q", target, rec.Body, secret)
			}
		}
	}
	// The cause is logged once, with the request id; the access line says 500.
	var causes, access int
	for _, l := range s.logs.lines(t) {
		if l["request_id"] != "leak-check" {
			t.Errorf("log line without the request id: %v", l)
		}
		switch l["msg"] {
		case "error":
			causes++
			if l["level"] != "ERROR" {
				t.Errorf("cause logged at %v", l["level"])
			}
			if e, _ := l["error"].(string); !strings.Contains(e, "password authentication failed") && !strings.Contains(e, "panic: boom") {
				t.Errorf("cause not logged: %v", l)
			}
		case "http request":
			access++
			if l["status"] != float64(500) || l["code"] != "internal" {
				t.Errorf("access line %v", l)
			}
		}
	}
	if causes != 2 || access != 2 {
		t.Errorf("logged %d causes and %d access lines, want 2 and 2:\n%s", causes, access, s.logs)
	}
}

func TestPanicAfterWriteAborts(t *testing.T) {
	s := newTestServer(t, Config{})
	s.addTestRoutes()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	resp, err := http.Get(srv.URL + "/test/panic-after-write")
	if err == nil {
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
	}
	if err == nil {
		t.Fatal("a response cut by a panic was delivered as if whole")
	}
	if !strings.Contains(s.logs.String(), "panic: boom after write") {
		t.Errorf("panic not logged:\n%s", s.logs)
	}
}

func TestRequestID(t *testing.T) {
	s := newTestServer(t, Config{})
	tests := []struct {
		name, in string
		echoed   bool
	}{
		{"absent", "", false},
		{"sane", "abc-DEF_123", true},
		{"64 chars", strings.Repeat("a", 64), true},
		{"65 chars", strings.Repeat("a", 65), false},
		{"spaces", "a b", false},
		{"log injection", "x\"}\n{\"level\":\"ERROR\"", false},
		{"unicode", "请求", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.in != "" {
				h.Set("X-Request-Id", tt.in)
			}
			rec := s.do(t, "GET", "/healthz", h, "")
			got := rec.Header().Get("X-Request-Id")
			if tt.echoed {
				if got != tt.in {
					t.Errorf("X-Request-Id = %q, want %q", got, tt.in)
				}
			} else if !hebao.ValidID("req", got) {
				t.Errorf("X-Request-Id = %q, want a new req_ id", got)
			}
		})
	}
	// A new id is made for every request.
	a := s.do(t, "GET", "/healthz", nil, "").Header().Get("X-Request-Id")
	b := s.do(t, "GET", "/healthz", nil, "").Header().Get("X-Request-Id")
	if a == b {
		t.Errorf("two requests got the same id %q", a)
	}
	// Problems carry it too.
	rec := s.do(t, "GET", "/nope", nil, "")
	if p := problemOf(t, rec); p.RequestID != rec.Header().Get("X-Request-Id") || p.RequestID == "" {
		t.Errorf("problem request_id %q, header %q", p.RequestID, rec.Header().Get("X-Request-Id"))
	}
}

func TestAccessLog(t *testing.T) {
	s := newTestServer(t, Config{})
	s.addTestRoutes()
	h := jsonHeader("Authorization", "Bearer sk_live_topsecret", "X-Request-Id", "log-1")
	s.do(t, "POST", "/test/echo?phone=13800138000", h, `{"memo": "body-secret"}`)

	lines := s.logs.lines(t)
	if len(lines) != 1 {
		t.Fatalf("got %d log lines, want 1:\n%s", len(lines), s.logs)
	}
	l := lines[0]
	delete(l, "time")
	if _, ok := l["duration"].(float64); !ok {
		t.Errorf("duration missing: %v", l)
	}
	delete(l, "duration")
	want := map[string]any{
		"level": "INFO", "msg": "http request", "method": "POST", "route": "/test/echo",
		"status": float64(200), "request_id": "log-1",
	}
	if diff := cmp.Diff(want, l); diff != "" {
		t.Errorf("access line (-want +got):\n%s", diff)
	}
	for _, secret := range []string{"topsecret", "body-secret", "13800138000"} {
		if strings.Contains(s.logs.String(), secret) {
			t.Errorf("log leaks %q:\n%s", secret, s.logs)
		}
	}
}

func TestClientVersion(t *testing.T) {
	s := newTestServer(t, Config{MinClientVersion: "2.4.0"})
	tests := []struct {
		header string
		status int
		code   string
	}{
		{"", 200, ""},
		{"2.4.0", 200, ""},
		{"2.4", 200, ""},
		{"2.10.0", 200, ""},
		{"3", 200, ""},
		{"2.4.1-beta.2", 200, ""},
		{"2.3.9", 426, "client_upgrade_required"},
		{"2.3.99+build7", 426, "client_upgrade_required"},
		{"1", 426, "client_upgrade_required"},
		{"abc", 400, "invalid_request"},
		{"2..4", 400, "invalid_request"},
		{"99999999.0", 400, "invalid_request"},
	}
	for _, tt := range tests {
		h := http.Header{}
		if tt.header != "" {
			h.Set("X-Client-Version", tt.header)
		}
		rec := s.do(t, "GET", "/healthz", h, "")
		if rec.Code != tt.status {
			t.Errorf("X-Client-Version %q: status %d, want %d", tt.header, rec.Code, tt.status)
			continue
		}
		if tt.code != "" {
			if p := problemOf(t, rec); p.Code != tt.code {
				t.Errorf("X-Client-Version %q: code %q, want %q", tt.header, p.Code, tt.code)
			}
		}
	}

	if _, err := NewServer(Config{Store: &fakeStore{}, MinClientVersion: "latest"}); err == nil {
		t.Error("NewServer accepted MinClientVersion \"latest\"")
	}
}

func TestVersionCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"1", "1.0.0", 0},
		{"1.2", "1.10", -1},
		{"1.10", "1.9", 1},
		{"2.0.0", "1.99.99", 1},
		{"0.0.1", "0.0.0.1", 1},
		{"1.2.3-rc1", "1.2.3", 0},
	}
	for _, tt := range tests {
		a, okA := parseVersion(tt.a)
		b, okB := parseVersion(tt.b)
		if !okA || !okB {
			t.Fatalf("parse %q %q: %v %v", tt.a, tt.b, okA, okB)
		}
		if got := a.compare(b); got != tt.want {
			t.Errorf("compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestHealth(t *testing.T) {
	pingErr := errors.New("dial tcp 10.0.0.5:5432: connect: connection refused")
	tests := []struct {
		name    string
		ping    func(ctx context.Context) error
		target  string
		status  int
		body    string
		problem *problem
	}{
		{name: "healthz", target: "/healthz", status: 200, body: `{"status":"ok"}` + "\n"},
		{
			name: "healthz without the database", target: "/healthz", status: 200, body: `{"status":"ok"}` + "\n",
			ping: func(context.Context) error { return pingErr },
		},
		{name: "readyz", target: "/readyz", status: 200, body: `{"status":"ok"}` + "\n"},
		{
			name: "readyz without the database", target: "/readyz", status: 503,
			ping:    func(context.Context) error { return pingErr },
			problem: &problem{Type: problemBase + "unavailable", Title: "Service Unavailable", Status: 503, Detail: "the database cannot be reached", Code: "unavailable", RequestID: "h-1"},
		},
		{
			name: "readyz with a hanging database", target: "/readyz", status: 503,
			ping: func(ctx context.Context) error {
				if _, ok := ctx.Deadline(); !ok {
					return errors.New("ping without a deadline")
				}
				return context.DeadlineExceeded // as if the deadline had passed
			},
			problem: &problem{Type: problemBase + "unavailable", Title: "Service Unavailable", Status: 503, Detail: "the database cannot be reached", Code: "unavailable", RequestID: "h-1"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, Config{Store: &fakeStore{PingFn: tt.ping}})
			rec := s.do(t, "GET", tt.target, http.Header{"X-Request-Id": {"h-1"}}, "")
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			if tt.problem != nil {
				if diff := cmp.Diff(*tt.problem, problemOf(t, rec)); diff != "" {
					t.Errorf("problem (-want +got):\n%s", diff)
				}
				if strings.Contains(rec.Body.String(), "10.0.0.5") {
					t.Errorf("body leaks the cause: %s", rec.Body)
				}
				if !strings.Contains(s.logs.String(), `"level":"WARN"`) {
					t.Errorf("cause not logged as a warning:\n%s", s.logs)
				}
				return
			}
			if got := rec.Body.String(); got != tt.body {
				t.Errorf("body = %q, want %q", got, tt.body)
			}
		})
	}
}

func TestMetrics(t *testing.T) {
	s := newTestServer(t, Config{})
	s.addTestRoutes()
	s.do(t, "GET", "/healthz", nil, "")
	s.do(t, "GET", "/healthz", nil, "")
	s.do(t, "GET", "/test/error/not_found", nil, "")
	s.do(t, "GET", "/test/error/wallet_frozen", nil, "")
	s.do(t, "GET", "/no/such/path/123", nil, "")
	s.do(t, "BREW", "/healthz", nil, "")
	s.metrics.ObserveCommit(17, 3*time.Millisecond)
	s.metrics.ObserveCommit(1, time.Millisecond)

	rec := s.do(t, "GET", "/metrics", nil, "")
	if rec.Code != 200 {
		t.Fatalf("status %d", rec.Code)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Errorf("Content-Type = %q", ct)
	}
	body := rec.Body.String()
	for _, want := range []string{
		`hebao_http_requests_total{method="GET",route="/healthz",status="200"} 2`,
		`hebao_http_requests_total{method="GET",route="/test/error/{code}",status="404"} 1`,
		`hebao_http_requests_total{method="GET",route="/test/error/{code}",status="422"} 1`,
		`hebao_http_requests_total{method="GET",route="unmatched",status="404"} 1`,
		`hebao_http_requests_total{method="OTHER",route="unmatched",status="405"} 1`,
		`hebao_http_request_duration_seconds_count{method="GET",route="/healthz"} 2`,
		`hebao_ledger_commit_batch_size_count 2`,
		`hebao_ledger_commit_batch_size_sum 18`,
		`hebao_ledger_commit_duration_seconds_count 2`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("metrics lack %s", want)
		}
	}
	if strings.Contains(body, "/no/such/path") {
		t.Error("a raw path became a label")
	}
}

func TestNewMetricsTwiceOnOneRegistry(t *testing.T) {
	m, err := NewMetrics(nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewMetrics(m.registry); err == nil {
		t.Error("registering the series twice on one registry succeeded")
	}
}

// TestOversizeBodyOverTheWire sends a body far over the limit through a real
// connection: the client must get the problem document, not a reset connection.
func TestOversizeBodyOverTheWire(t *testing.T) {
	s := newTestServer(t, Config{})
	s.addTestRoutes()
	srv := httptest.NewServer(s.Handler())
	defer srv.Close()
	body := `{"memo": "` + strings.Repeat("a", 1<<20) + `"}`
	resp, err := http.Post(srv.URL+"/test/echo", "application/json", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 400 || !strings.Contains(string(b), "larger than 64 KiB") {
		t.Errorf("status %d, body %s", resp.StatusCode, b)
	}
}

func TestUncleanPathRedirects(t *testing.T) {
	s := newTestServer(t, Config{})
	rec := s.do(t, "GET", "/v1/../healthz", nil, "")
	if rec.Code/100 != 3 || rec.Header().Get("Location") != "/healthz" {
		t.Errorf("status %d, Location %q; want a redirect to /healthz", rec.Code, rec.Header().Get("Location"))
	}
	if rec = s.do(t, "HEAD", "/healthz", nil, ""); rec.Code != 200 {
		t.Errorf("HEAD /healthz: status %d", rec.Code)
	}
}
