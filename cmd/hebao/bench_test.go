package main

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// benchJSON is the report of `hebao bench --json`.
type benchJSON struct {
	Operations map[string]struct {
		Count     int     `json:"count"`
		PerSecond float64 `json:"per_second"`
		P50       float64 `json:"p50_ms"`
		P90       float64 `json:"p90_ms"`
		P99       float64 `json:"p99_ms"`
		P999      float64 `json:"p999_ms"`
	} `json:"operations"`
	Errors map[string]int64 `json:"errors"`
	Verify string           `json:"verify"`
}

// runBench runs `hebao bench … --json` and decodes its one JSON object.
func runBench(t *testing.T, args ...string) benchJSON {
	t.Helper()
	out, stderr, err := run(t, nil, append([]string{"bench", "--json"}, args...)...)
	if err != nil {
		t.Fatalf("bench: %v\nstdout %s\nstderr %s", err, out, stderr)
	}
	var rep benchJSON
	dec := json.NewDecoder(strings.NewReader(out))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&rep); err != nil {
		t.Fatalf("bench --json printed %q: %v", out, err)
	}
	if dec.More() {
		t.Fatalf("bench --json printed more than one JSON object: %q", out)
	}
	if strings.Contains(stderr, "\r") {
		t.Errorf("progress written to a stderr that is not a terminal: %q", stderr)
	}
	return rep
}

// TestBench runs the real server with --dev and the bench against it over HTTP:
// every operation it started is counted once, none failed, and the check passed —
// the ledger verifies and each wallet and the merchant hold exactly what the
// operations imply. A second run on the same server (new phones, ID numbers and
// merchant) pays only by payment code, more often than the password-free allowance
// of 10 a day, so that most till orders wait and are confirmed.
func TestBench(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "--data-dir", dir, "--dev")

	rep := runBench(t, "--url", s.url, "--data-dir", dir, "--customers", "20", "--count", "400", "--concurrency", "8",
		"--mix", "transfer=40,pay=30,code=10,read=20")
	checkBenchReport(t, rep, 400, "transfer", "pay", "code", "read")

	rep = runBench(t, "--url", s.url, "--url", s.url, "--data-dir", dir, "--customers", "4", "--count", "60", "--concurrency", "4",
		"--mix", "code=1", "--max-amount", "1000")
	checkBenchReport(t, rep, 60, "code")

	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if out, stderr, err := run(t, nil, "verify", "--data-dir", dir); err != nil {
		t.Fatalf("verify after the bench: %v\n%s\n%s", err, out, stderr)
	}
}

// TestBenchTwoServersPostgres runs the bench over two servers sharing one
// PostgreSQL database: each wallet is opened on one server (its SMS inbox is in
// that process), then every request goes to the next server in turn; the check
// reads what both wrote.
func TestBenchTwoServersPostgres(t *testing.T) {
	url := sqldbtest.PostgresSchema(t) // skips without HEBAO_TEST_POSTGRES
	dir := t.TempDir()
	s1 := startServer(t, "--dev", "--data-dir", dir, "--db", url)
	s2 := startServer(t, "--dev", "--data-dir", dir, "--db", url)
	rep := runBench(t, "--url", s1.url, "--url", s2.url, "--data-dir", dir, "--customers", "10", "--count", "200", "--concurrency", "8",
		"--mix", "transfer=40,pay=30,code=10,read=20")
	checkBenchReport(t, rep, 200, "transfer", "pay", "code", "read")
	for i, s := range []*server{s1, s2} {
		for _, route := range []string{"route=/v1/customers ", "route=/v1/transfers ", "route=/v1/merchant/orders "} {
			if !strings.Contains(s.stderr.String(), route) {
				t.Errorf("server %d logged no request with %s", i+1, route)
			}
		}
	}
}

func checkBenchReport(t *testing.T, rep benchJSON, count int, ops ...string) {
	t.Helper()
	if rep.Verify != "ok" {
		t.Errorf("verify = %q", rep.Verify)
	}
	if len(rep.Errors) != 0 {
		t.Errorf("errors: %v", rep.Errors)
	}
	total := 0
	for _, n := range rep.Errors {
		total += int(n)
	}
	var got []string
	for name, o := range rep.Operations {
		got = append(got, name)
		total += o.Count
		if o.Count == 0 || o.PerSecond <= 0 || o.P50 <= 0 || o.P50 > o.P90 || o.P90 > o.P99 || o.P99 > o.P999 {
			t.Errorf("%s: %+v", name, o)
		}
	}
	if total != count {
		t.Errorf("operations and errors add up to %d, want %d: %+v", total, count, rep)
	}
	slices.Sort(ops)
	slices.Sort(got)
	if diff := cmp.Diff(ops, got); diff != "" {
		t.Errorf("operations (-want +got):\n%s", diff)
	}
}

func TestParseMix(t *testing.T) {
	tests := []struct {
		in      string
		want    [numOps]int
		wantErr string
	}{
		{in: "transfer=20,pay=70,read=10", want: [numOps]int{20, 70, 0, 10}},
		{in: " code=1 ", want: [numOps]int{0, 0, 1, 0}},
		{in: "read=3,transfer=0", want: [numOps]int{0, 0, 0, 3}},
		{in: "", wantErr: "the mix is empty"},
		{in: "transfer", wantErr: `"transfer" is not operation=weight`},
		{in: "refund=5", wantErr: `unknown operation "refund": the operations are transfer, pay, code, read`},
		{in: "pay=1,pay=2", wantErr: "pay is given twice"},
		{in: "pay=-1", wantErr: `the weight of pay must be a whole number from 0 to 1000000, not "-1"`},
		{in: "pay=1.5", wantErr: `not "1.5"`},
		{in: "pay=0,read=0", wantErr: "every weight is 0"},
		{in: "pay=1,", wantErr: `"" is not operation=weight`},
	}
	for _, tt := range tests {
		m, err := parseMix(tt.in)
		if tt.wantErr != "" {
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("parseMix(%q) = %v, want an error with %q", tt.in, err, tt.wantErr)
			}
			continue
		}
		if err != nil || m.weights != tt.want {
			t.Errorf("parseMix(%q) = %v, %v; want %v", tt.in, m.weights, err, tt.want)
		}
	}

	// pick spreads [0, total) over the operations in proportion to their weights.
	m, _ := parseMix("transfer=2,pay=3,read=1")
	var picked [numOps]int
	for r := range m.total {
		picked[m.pick(r)]++
	}
	if picked != m.weights {
		t.Errorf("pick over 0..%d = %v, want %v", m.total-1, picked, m.weights)
	}
	if m.String() != "transfer=2,pay=3,read=1" {
		t.Errorf("String() = %q", m.String())
	}
}

func TestPercentile(t *testing.T) {
	ms := func(ns ...int) []time.Duration {
		out := make([]time.Duration, len(ns))
		for i, n := range ns {
			out[i] = time.Duration(n) * time.Millisecond
		}
		return out
	}
	thousand := make([]time.Duration, 1000) // 1 ms … 1000 ms
	for i := range thousand {
		thousand[i] = time.Duration(i+1) * time.Millisecond
	}
	tests := []struct {
		name     string
		sorted   []time.Duration
		perMille int
		want     time.Duration
	}{
		{"none", nil, 500, 0},
		{"one", ms(7), 500, 7 * time.Millisecond},
		{"one, p99.9", ms(7), 999, 7 * time.Millisecond},
		{"median of 4 is the 2nd", ms(1, 2, 3, 4), 500, 2 * time.Millisecond},
		{"median of 5 is the 3rd", ms(1, 2, 3, 4, 5), 500, 3 * time.Millisecond},
		{"p90 of 10", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 900, 9 * time.Millisecond},
		{"p99 of 10 is the largest", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 990, 10 * time.Millisecond},
		{"p99.9 of 1000", thousand, 999, 999 * time.Millisecond},
		{"p99 of 1000", thousand, 990, 990 * time.Millisecond},
		{"p100 of 1000", thousand, 1000, 1000 * time.Millisecond},
		{"p0.1 of 1000", thousand, 1, 1 * time.Millisecond},
	}
	for _, tt := range tests {
		if got := percentile(tt.sorted, tt.perMille); got != tt.want {
			t.Errorf("%s: percentile(…, %d) = %v, want %v", tt.name, tt.perMille, got, tt.want)
		}
	}
}

// TestCompareBalances: the check names the wallets and the merchant whose
// balances differ from what the operations imply, and passes only when none does.
func TestCompareBalances(t *testing.T) {
	cs := []*benchCustomer{{walletID: "wal_a"}, {walletID: "wal_b"}}
	want := []int64{100_000, 100_888}
	tests := []struct {
		name     string
		got      []walletBalance
		merchant int64
		want     string
	}{
		{"all as implied", []walletBalance{{100_000, 0}, {100_000, 888}}, 500, "ok"},
		{"a fen lost", []walletBalance{{99_999, 0}, {100_000, 888}}, 500,
			"wallet wal_a holds 99999 fen, the bench's operations imply 100000 (all wallets and the merchant: 201387 fen, expected 201388)"},
		{"moved to the merchant twice", []walletBalance{{100_000, 0}, {100_000, 888}}, 510,
			"the merchant holds 510 fen, the bench's payments imply 500 (all wallets and the merchant: 201398 fen, expected 201388)"},
		{"between wallets, sum unchanged", []walletBalance{{100_010, 0}, {99_990, 888}}, 500,
			"wallet wal_a holds 100010 fen, the bench's operations imply 100000; wallet wal_b holds 100878 fen, the bench's operations imply 100888 (all wallets and the merchant: 201388 fen, expected 201388)"},
	}
	for _, tt := range tests {
		if got := compareBalances(cs, want, tt.got, 500, tt.merchant); got != tt.want {
			t.Errorf("%s:\n got %s\nwant %s", tt.name, got, tt.want)
		}
	}
}

// TestBenchTestData: the wallets' ID numbers, card numbers and names are ones the
// server accepts, and the cards are ones the sandbox bank pays from at once.
func TestBenchTestData(t *testing.T) {
	for range 2000 {
		id := randomIDNumber()
		if _, err := hebao.ParseIDNumber(id); err != nil {
			t.Fatalf("ID number %s: %v", id, err)
		}
		card := randomCardNumber()
		if _, _, err := hebao.ParseCardNumber(card); err != nil {
			t.Fatalf("card %s: %v", card, err)
		}
		if b := hebao.SandboxBehaviour(card); b != hebao.CardSucceeds {
			t.Fatalf("card %s behaves as %v in the sandbox bank", card, b)
		}
		if name := randomName(); !hebao.ValidRealName(name) {
			t.Fatalf("name %q", name)
		}
		if err := hebao.ValidatePhone(randomPhone()); err != nil {
			t.Fatal(err)
		}
	}
}

// TestBenchCommandLine: mistakes on the command line are usage errors that say
// what is wrong, found before any request is sent.
func TestBenchCommandLine(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{"--mix", "pay=x"}, `bench: --mix: the weight of pay must be a whole number`},
		{[]string{"--mix", "transfer=1", "--customers", "1"}, "transfers need at least 2 --customers"},
		{[]string{"--concurrency", "0"}, "--concurrency must be at least 1"},
		{[]string{"--duration", "0"}, "give a positive --duration or --count"},
		{[]string{"--url", "127.0.0.1:8080"}, "is not an http:// or https:// URL"},
		{[]string{"--data-dir", dir}, "give --admin-user and --admin-password, or --data-dir of a server run with --dev (there is no"},
		{[]string{"now"}, `bench: unexpected argument "now"`},
	}
	for _, tt := range tests {
		_, _, err := run(t, nil, append([]string{"bench"}, tt.args...)...)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !errors.As(err, new(usageError)) {
			t.Errorf("bench %v: %v, want a usage error with %q", tt.args, err, tt.wantErr)
		}
	}
	if out, _, err := run(t, nil, "bench", "-h"); err != nil || out != "" {
		t.Errorf("bench -h: %v %q", err, out)
	}
}

// TestBenchClientRetry: a request that got no answer is sent again, with the same
// Idempotency-Key, only when that is safe; 409 idempotency_key_in_use is waited
// out; a problem document's code is what the report counts.
func TestBenchClientRetry(t *testing.T) {
	var (
		mu   sync.Mutex
		seen []string // the Idempotency-Key of each request that arrived
	)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Header.Get("Idempotency-Key"))
		n := len(seen)
		mu.Unlock()
		switch {
		case r.URL.Path == "/drop" && n == 1: // the first request: the connection breaks
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		case r.URL.Path == "/busy" && n == 1:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(409)
			io.WriteString(w, `{"code":"idempotency_key_in_use","detail":"still running"}`)
		case r.URL.Path == "/poor":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(422)
			io.WriteString(w, `{"code":"insufficient_funds","detail":"no money"}`)
		default:
			w.WriteHeader(201)
			io.WriteString(w, `{"status":"succeeded"}`)
		}
	}))
	defer srv.Close()
	c := newBenchClient([]string{srv.URL}, 2, 5*time.Second)
	defer c.close()
	reset := func() { mu.Lock(); seen = nil; mu.Unlock() }
	sent := func() []string { mu.Lock(); defer mu.Unlock(); return slices.Clone(seen) }

	for _, path := range []string{"/drop", "/busy"} {
		reset()
		var out struct{ Status string }
		if err := c.do(t.Context(), benchCall{method: "POST", path: path, key: "k-1", want: 201, out: &out, retry: true}); err != nil || out.Status != "succeeded" {
			t.Errorf("%s: %v %+v", path, err, out)
		}
		if diff := cmp.Diff([]string{"k-1", "k-1"}, sent()); diff != "" {
			t.Errorf("%s: keys sent (-want +got):\n%s", path, diff)
		}
	}

	reset()
	err := c.do(t.Context(), benchCall{method: "POST", path: "/drop", want: 201})
	var be *benchError
	if n := len(sent()); !errors.As(err, &be) || be.code != "transport" || !be.unknown || n != 1 {
		t.Errorf("a request that may not be repeated: %v, sent %d times", err, n)
	}

	err = c.do(t.Context(), benchCall{method: "POST", path: "/poor", key: "k-2", want: 201, retry: true})
	if errorCode(err) != "insufficient_funds" || !errors.As(err, &be) || be.unknown || be.status != 422 {
		t.Errorf("a refusal: %v", err)
	}
}
