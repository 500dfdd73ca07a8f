package main

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb"
)

// syncBuffer collects what the program prints while it runs in another goroutine.
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

// run runs one command of the real program to its end.
func run(t *testing.T, env map[string]string, args ...string) (stdout, stderr string, err error) {
	t.Helper()
	var out, errOut syncBuffer
	m := &Main{Stdout: &out, Stderr: &errOut, Getenv: func(k string) string { return env[k] }}
	err = m.Run(t.Context(), args)
	return out.String(), errOut.String(), err
}

// server is the real program serving on a free port.
type server struct {
	url    string
	stdout *syncBuffer
	stderr *syncBuffer // the log
	stop   func() error
}

// startServer runs `hebao serve` on 127.0.0.1:0 until stop is called; without
// --dev it gives a new card keyring unless args name one.
func startServer(t *testing.T, args ...string) *server {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	listening := make(chan string, 1)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	if !slices.Contains(args, "--dev") && !slices.Contains(args, "--card-key-file") {
		args = append(args, "--card-key-file", cardKeyFile(t))
	}
	m := &Main{Stdout: stdout, Stderr: stderr, Getenv: func(string) string { return "" }, Listening: listening}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)) }()

	s := &server{stdout: stdout, stderr: stderr}
	var stopped bool
	var stopErr error
	s.stop = func() error {
		if !stopped {
			stopped = true
			cancel()
			stopErr = <-done
		}
		return stopErr
	}
	t.Cleanup(func() { s.stop() })
	select {
	case addr := <-listening:
		s.url = "http://" + addr
	case err := <-done:
		t.Fatalf("serve ended before listening: %v\n%s", err, stderr)
	case <-time.After(30 * time.Second):
		t.Fatalf("serve did not start in 30s\n%s", stderr)
	}
	return s
}

func (s *server) do(t *testing.T, method, path string, header http.Header, body string) (*http.Response, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, s.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, b
}

type problemDoc struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Detail    string `json:"detail"`
	Code      string `json:"code"`
	RequestID string `json:"request_id"`
}

// TestServeThenVerify runs the real program: serve on a new data dir, answer the
// operational routes, stop cleanly, then verify the ledger it made.
func TestServeThenVerify(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "--data-dir", dir, "--dev")

	if out := s.stdout.String(); !strings.Contains(out, s.url) || !strings.Contains(out, "Development mode is on") ||
		!strings.Contains(out, "SMS inbox        "+s.url+"/v1/dev/sms?phone=") {
		t.Errorf("startup text lacks the address, the dev notice or the SMS inbox:\n%s", out)
	}
	jsonHeader := func(requestID string) http.Header {
		return http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {requestID}}
	}

	tests := []struct {
		name        string
		method      string
		path        string
		header      http.Header
		body        string
		status      int
		contentType string
		contains    string
		problem     *problemDoc
	}{
		{name: "healthz", method: "GET", path: "/healthz", status: 200, contentType: "application/json", contains: `{"status":"ok"}`},
		{name: "readyz", method: "GET", path: "/readyz", status: 200, contentType: "application/json", contains: `{"status":"ok"}`},
		{name: "openapi", method: "GET", path: "/openapi.json", status: 200, contentType: "application/json", contains: `"openapi": "3.1.0"`},
		{
			name: "unknown route", method: "POST", path: "/v1/nowhere", header: http.Header{"Content-Type": {"application/json"}, "X-Request-Id": {"e2e-1"}},
			body: `{"amount": 1,`, status: 404, contentType: "application/problem+json",
			problem: &problemDoc{Type: "https://hebao.dev/problems/not_found", Title: "Not Found", Status: 404, Detail: "there is no route POST /v1/nowhere", Code: "not_found", RequestID: "e2e-1"},
		},
		{
			name: "wrong method", method: "POST", path: "/healthz", header: http.Header{"X-Request-Id": {"e2e-2"}},
			status: 405, contentType: "application/problem+json",
			problem: &problemDoc{Type: "https://hebao.dev/problems/invalid_request", Title: "Method Not Allowed", Status: 405, Detail: "method POST is not allowed here; allowed: GET, HEAD", Code: "invalid_request", RequestID: "e2e-2"},
		},
		{
			name: "otp, malformed JSON", method: "POST", path: "/v1/otp", header: jsonHeader("e2e-3"),
			body: `{"phone": "13800138000",`, status: 400, contentType: "application/problem+json",
			problem: &problemDoc{Type: "https://hebao.dev/problems/invalid_request", Title: "Bad Request", Status: 400, Detail: "the request body is not valid JSON: it ends too early", Code: "invalid_request", RequestID: "e2e-3"},
		},
		{
			name: "otp, unknown field", method: "POST", path: "/v1/otp", header: jsonHeader("e2e-4"),
			body: `{"phone": "13800138000", "purpose": "register", "balance": 100}`, status: 400, contentType: "application/problem+json",
			problem: &problemDoc{Type: "https://hebao.dev/problems/invalid_request", Title: "Bad Request", Status: 400, Detail: `unknown field "balance"`, Code: "invalid_request", RequestID: "e2e-4"},
		},
		{
			name: "otp", method: "POST", path: "/v1/otp", header: jsonHeader("e2e-5"),
			body: `{"phone": "13800138000", "purpose": "register"}`, status: 202, contentType: "application/json", contains: `{"expires_in":300}`,
		},
		{
			name: "otp again at once", method: "POST", path: "/v1/otp", header: jsonHeader("e2e-6"),
			body: `{"phone": "13800138000", "purpose": "register"}`, status: 429, contentType: "application/problem+json",
			problem: &problemDoc{Type: "https://hebao.dev/problems/rate_limited", Title: "Too Many Requests", Status: 429, Code: "rate_limited", RequestID: "e2e-6"},
		},
		// Last, so that it counts the requests above.
		{name: "metrics", method: "GET", path: "/metrics", status: 200, contentType: "text/plain", contains: `hebao_http_requests_total{method="GET",route="/healthz",status="200"} 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := s.do(t, tt.method, tt.path, tt.header, tt.body)
			if resp.StatusCode != tt.status {
				t.Fatalf("status = %d, want %d; body %s", resp.StatusCode, tt.status, body)
			}
			if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, tt.contentType) {
				t.Errorf("Content-Type = %q, want %s", ct, tt.contentType)
			}
			if resp.Header.Get("X-Request-Id") == "" {
				t.Error("no X-Request-Id")
			}
			if tt.contains != "" && !bytes.Contains(body, []byte(tt.contains)) {
				t.Errorf("body lacks %s:\n%.2000s", tt.contains, body)
			}
			if tt.problem != nil {
				var got problemDoc
				if err := json.Unmarshal(body, &got); err != nil {
					t.Fatalf("problem %s: %v", body, err)
				}
				if tt.problem.Detail == "" {
					got.Detail = "" // varies: not checked
				}
				if diff := cmp.Diff(*tt.problem, got); diff != "" {
					t.Errorf("problem (-want +got):\n%s", diff)
				}
				if h := resp.Header.Get("X-Request-Id"); got.RequestID != h {
					t.Errorf("request_id %q, X-Request-Id %q", got.RequestID, h)
				}
			}
		})
	}

	// The code sent above is in the development inbox and on the console, and in no
	// log line.
	resp, body := s.do(t, "GET", "/v1/dev/sms?phone=13800138000", nil, "")
	var inbox struct {
		Messages []struct {
			Phone, Text string
		} `json:"messages"`
	}
	if err := json.Unmarshal(body, &inbox); resp.StatusCode != 200 || err != nil || len(inbox.Messages) != 1 {
		t.Fatalf("GET /v1/dev/sms: %d %s (%v), want one message", resp.StatusCode, body, err)
	}
	m := regexp.MustCompile(`验证码 (\d{6})，`).FindStringSubmatch(inbox.Messages[0].Text)
	if m == nil || inbox.Messages[0].Phone != "13800138000" {
		t.Fatalf("message %+v has no code", inbox.Messages[0])
	}
	code := m[1]
	if out := s.stdout.String(); !strings.Contains(out, "[development SMS gateway, not sent]") || !strings.Contains(out, code) {
		t.Errorf("the console does not show the message:\n%s", out)
	}
	if strings.Contains(s.stderr.String(), code) {
		t.Errorf("the log shows the code %s:\n%s", code, s.stderr)
	}

	if err := s.stop(); err != nil {
		t.Fatalf("serve returned %v after a clean stop", err)
	}
	for _, name := range []string{"hebao.db", "hebao.db-wal"} {
		if b, _ := os.ReadFile(filepath.Join(dir, name)); bytes.Contains(b, []byte(code)) {
			t.Errorf("the code %s is in the raw bytes of %s", code, name)
		}
	}

	out, stderr, err := run(t, nil, "verify", "--data-dir", dir)
	if err != nil {
		t.Fatalf("verify: %v\n%s\n%s", err, out, stderr)
	}
	if !strings.Contains(out, "OK:") {
		t.Errorf("verify printed:\n%s", out)
	}
}

func TestVerifyWithoutKeyFile(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := run(t, nil, "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	keyFile := filepath.Join(dir, "keys.json")
	if err := os.Rename(keyFile, keyFile+".away"); err != nil {
		t.Fatal(err)
	}

	_, _, err := run(t, nil, "verify", "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "keys.json does not exist") {
		t.Fatalf("verify without a key file: err = %v, want one naming the missing file", err)
	}
	if _, err := os.Stat(keyFile); !os.IsNotExist(err) {
		t.Error("verify created a key file")
	}

	// With the key file given by flag (or environment), it verifies.
	if _, _, err := run(t, nil, "verify", "--data-dir", dir, "--key-file", keyFile+".away"); err != nil {
		t.Errorf("verify --key-file: %v", err)
	}
	env := map[string]string{"HEBAO_DATA_DIR": dir, "HEBAO_KEY_FILE": keyFile + ".away"}
	if _, _, err := run(t, env, "verify"); err != nil {
		t.Errorf("verify with HEBAO_DATA_DIR and HEBAO_KEY_FILE: %v", err)
	}
}

func TestVerifyWithWrongKey(t *testing.T) {
	dir := t.TempDir()
	if _, _, err := run(t, nil, "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "other-keys.json")
	key := base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))
	if err := os.WriteFile(other, []byte(`{"ledger_key":"`+key+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, nil, "verify", "--data-dir", dir, "--key-file", other); err == nil {
		t.Fatal("verify under another ledger's key succeeded")
	}
}

func TestVerifyWithoutDatabase(t *testing.T) {
	dir := t.TempDir()
	if _, err := loadKeys(filepath.Join(dir, "keys.json"), true); err != nil {
		t.Fatal(err)
	}
	_, _, err := run(t, nil, "verify", "--data-dir", dir)
	if err == nil || !strings.Contains(err.Error(), "no database") {
		t.Fatalf("err = %v, want no database", err)
	}
	if _, err := os.Stat(filepath.Join(dir, "hebao.db")); !os.IsNotExist(err) {
		t.Error("verify created a database")
	}
}

func TestMigrate(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	out, _, err := run(t, nil, "migrate", "--data-dir", dir)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "migrated: SQLite in "+filepath.Join(dir, "hebao.db")) {
		t.Errorf("migrate printed %q", out)
	}
	// Again: nothing to do, same answer, same key.
	key1, _ := os.ReadFile(filepath.Join(dir, "keys.json"))
	if _, _, err := run(t, nil, "migrate", "--data-dir", dir); err != nil {
		t.Fatal(err)
	}
	key2, _ := os.ReadFile(filepath.Join(dir, "keys.json"))
	if !bytes.Equal(key1, key2) || len(key1) == 0 {
		t.Error("the second migrate changed the key file")
	}
}

func TestCommandLine(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		usage   bool // a usageError
		wantErr string
		stdout  string
	}{
		{name: "no command", args: nil, usage: true, wantErr: "no command given"},
		{name: "unknown command", args: []string{"deploy"}, usage: true, wantErr: `unknown command "deploy"`},
		{name: "help", args: []string{"help"}, stdout: "Usage:"},
		{name: "unknown flag", args: []string{"verify", "--nope"}, usage: true, wantErr: "flag provided but not defined: -nope"},
		{name: "stray argument", args: []string{"migrate", "now"}, usage: true, wantErr: `migrate: unexpected argument "now"`},
		{name: "flag help", args: []string{"serve", "-h"}},
		{name: "bad database URL", args: []string{"migrate", "--data-dir", t.TempDir(), "--db", "mysql://x"}, wantErr: "unsupported database URL"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, _, err := run(t, nil, tt.args...)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("err = %v", err)
				}
			} else if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			var ue usageError
			if got := err != nil && errors.As(err, &ue); got != tt.usage {
				t.Errorf("usage error = %v, want %v", got, tt.usage)
			}
			if !strings.Contains(out, tt.stdout) {
				t.Errorf("stdout %q lacks %q", out, tt.stdout)
			}
		})
	}
}

func TestBrowsable(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:8080": "127.0.0.1:8080",
		"0.0.0.0:80":     "localhost:80",
		"[::]:8080":      "localhost:8080",
		":8080":          "localhost:8080",
		"[::1]:9":        "[::1]:9",
	} {
		if got := browsable(in); got != want {
			t.Errorf("browsable(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestVerifyTamperedLedger writes a transfer through the store, edits it behind the
// store's back, and expects verify to fail naming that transfer.
func TestVerifyTamperedLedger(t *testing.T) {
	dir := t.TempDir()
	ctx := t.Context()
	k, err := loadKeys(filepath.Join(dir, "keys.json"), true)
	if err != nil {
		t.Fatal(err)
	}
	var commits atomic.Int64
	db, err := sqldb.Open(ctx, sqldb.Config{DataDir: dir, LedgerKey: k.Ledger, OnCommit: func(n int, _ time.Duration) { commits.Add(int64(n)) }})
	if err != nil {
		t.Fatal(err)
	}
	tr := &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Ref: "e2e"}
	err = db.Transact(ctx, func(tx hebao.Tx) error {
		from, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, MayGoNegative: true})
		if err != nil {
			return err
		}
		to, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY})
		if err != nil {
			return err
		}
		tr.Postings = hebao.Move(from.ID, to.ID, hebao.CNY, 1234)
		return tx.Post(ctx, tr)
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	if commits.Load() == 0 {
		t.Error("OnCommit was not called")
	}

	if out, _, err := run(t, nil, "verify", "--data-dir", dir); err != nil {
		t.Fatalf("verify before tampering: %v\n%s", err, out)
	}

	raw, err := sql.Open("sqlite", filepath.Join(dir, "hebao.db"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := raw.ExecContext(ctx, `UPDATE transfers SET ref = 'rewritten' WHERE id = ?`, tr.ID); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	out, _, err := run(t, nil, "verify", "--data-dir", dir)
	if err == nil {
		t.Fatalf("verify passed a rewritten transfer:\n%s", out)
	}
	if !strings.Contains(err.Error(), tr.ID) || !strings.Contains(err.Error(), "seq 1") {
		t.Errorf("err = %v, want it to name transfer seq 1 (%s)", err, tr.ID)
	}
	if !strings.Contains(out, "FIRST BAD TRANSFER: seq 1 id "+tr.ID) {
		t.Errorf("report does not name the first bad transfer:\n%s", out)
	}
}
