package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// testLease is the servers' --webhook-lease in these tests: a delivery the killed
// server held is sent by the other one this long after it was claimed.
const testLease = 8 * time.Second

// twoServers is two `hebao serve --dev` processes sharing one PostgreSQL database and
// one data directory, a bench's wallets on them, a merchant of the test's whose
// webhooks go to a receiver in the test process, and a load over both.
type twoServers struct {
	dbURL, dir string
	procs      [2]*serverProcess
	b          *bench
	f          *fleet
	rcv        *hookReceiver
	l          *load
	admin      string
}

// startTwoServers starts the servers — the second once the first has seeded the
// database — and opens the wallets, each topped up with ¥1,000.
func startTwoServers(t *testing.T, customers int) *twoServers {
	t.Helper()
	ts := &twoServers{dbURL: sqldbtest.PostgresSchema(t), dir: t.TempDir()} // fails under CI=true without PostgreSQL
	args := []string{"--dev", "--data-dir", ts.dir, "--db", ts.dbURL, "--interest-rate-ppm", "0", "--webhook-lease", testLease.String()}
	ts.procs[0] = startProcess(t, "server 1", args...)
	ts.procs[1] = startProcess(t, "server 2", args...)
	ts.f = newFleet(ts.procs[0].url, ts.procs[1].url)
	t.Cleanup(ts.f.close)

	dev, err := readDevFile(ts.dir)
	if err != nil || dev.Admin == nil {
		t.Fatalf("dev.json: %v %+v", err, dev)
	}
	ts.b = newBench(benchConfig{urls: []string{ts.procs[0].url, ts.procs[1].url}, customers: customers, setupConcurrency: 6,
		concurrency: 8, topup: 100_000, adminUser: dev.Admin.Username, adminPassword: dev.Admin.Password,
		timeout: 30 * time.Second}, io.Discard)
	t.Cleanup(ts.b.client.close)
	ctx := t.Context()
	if ts.admin, err = ts.b.staffToken(ctx); err != nil {
		t.Fatalf("admin sign-in: %v", err)
	}
	a, err := ts.f.send(ctx, 0, call{method: "POST", path: "/v1/admin/merchants", token: ts.admin, body: map[string]string{"name": "kill test " + ts.b.run}})
	var m struct {
		APIKey        string `json:"api_key"`
		WebhookSecret string `json:"webhook_secret"`
	}
	if err != nil || a.status != 201 || json.Unmarshal(a.body, &m) != nil {
		t.Fatalf("create the merchant: %v %s", err, a)
	}
	ts.b.merchantKey = m.APIKey
	ts.rcv = newHookReceiver(m.WebhookSecret)
	hooks := httptest.NewServer(ts.rcv)
	t.Cleanup(func() {
		ts.rcv.release()
		hooks.Close()
	})
	if err := ts.b.setup(ctx); err != nil {
		t.Fatalf("set-up: %v", err)
	}
	if err := ts.b.snapshot(ctx); err != nil {
		t.Fatalf("set-up: %v", err)
	}
	ts.l = newLoad(ts.b, ts.f, hooks.URL+"/hebao")
	return ts
}

// finish checks, through server i (one still running), everything the load's book
// implies, then stops the servers still running and runs `hebao verify`. It returns
// what the fleet counted during the load.
func (ts *twoServers) finish(t *testing.T, i int) fleetStats {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	l, st := ts.l, ts.f.stats()
	for _, p := range l.problems {
		t.Errorf("during the load: %s", p)
	}
	for _, f := range st.faults {
		t.Errorf("a 5xx: %s", f)
	}

	// The outbox is drained — notifications, webhooks — and the histories, inboxes
	// and deliveries agree with what the servers acknowledged.
	for _, p := range l.settled(ctx, i, ts.rcv, 45*time.Second) {
		t.Error(p)
	}
	for _, p := range l.checkOrders(ctx, i) {
		t.Error(p)
	}
	if err := l.verifyLedger(ctx, i, ts.admin); err != nil {
		t.Error(err)
	}
	// Each wallet and the merchant hold what the acknowledged operations imply, and
	// all of them together what the top-ups (and opening red packets) brought in.
	ts.b.client = newBenchClient([]string{ts.procs[i].url}, 8, 30*time.Second)
	defer ts.b.client.close()
	if verdict, err := ts.b.check(ctx, ts.admin); err != nil || verdict != "ok" {
		t.Errorf("the bench's check: %v %s", err, verdict)
	}
	bal, err := ts.b.balances(ctx)
	if err != nil {
		t.Fatal(err)
	}
	merchant, err := ts.b.merchantBalance(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var total, want, topups int64
	for k, c := range ts.b.customers {
		total += bal[k].balance + bal[k].promo
		want += c.start
		topups += ts.b.cfg.topup
	}
	if total+merchant != want {
		t.Errorf("wallets hold %d fen and the merchant %d: %d in all, want %d (top-ups %d and red packets %d)", total, merchant, total+merchant, want, topups, want-topups)
	}

	for _, p := range ts.procs {
		if err := p.stop(); err != nil {
			t.Errorf("%s: %v", p.name, err)
		}
	}
	if out, stderr, err := run(t, nil, "verify", "--db", ts.dbURL, "--data-dir", ts.dir); err != nil || !strings.Contains(out, "OK:") {
		t.Errorf("hebao verify: %v\n%s\n%s", err, out, stderr)
	}
	t.Logf("acknowledged: %d transfers, %d orders paid of %d, %d refunds; operations %v; 2xx answers per server %v; requests sent again to the other server after theirs went away mid-request %d, after finding it gone %d",
		len(l.transfers), paidCount(l.orders), len(l.orders), len(l.refunds), l.counts, st.served, st.cutOff, st.refused)
	return st
}

func paidCount(orders []*orderRec) int {
	n := 0
	for _, o := range orders {
		if o.payer >= 0 {
			n++
		}
	}
	return n
}

// TestTwoServerProcessesUnderLoad: two server processes on one PostgreSQL database,
// under a load through both of concurrent transfers, order payments (two customers
// paying one order at once through the two servers; one customer sending one payment
// twice at once, with one key, through both) and refunds (three of one order at once,
// through both). Every order is paid at most once; the refunds never add up past
// what was paid; every acknowledged operation is in the histories exactly once and
// notified exactly once; every order.paid and refund.succeeded webhook arrives, one
// event per payment or refund; the ledger verifies, over the API and with `hebao
// verify`; no fen is made or lost.
func TestTwoServerProcessesUnderLoad(t *testing.T) {
	ts := startTwoServers(t, 12)
	stop := make(chan struct{})
	wait := ts.l.run(8, stop)
	// The load runs for 3 seconds, and on until each kind of operation has succeeded
	// a few times (a busy machine may need longer).
	ops := []string{"transfer", "pay", "pay race", "pay twice, one key", "refund race"}
	time.Sleep(3 * time.Second)
	for deadline := time.Now().Add(30 * time.Second); !ts.l.done(ops, 3) && time.Now().Before(deadline); {
		time.Sleep(100 * time.Millisecond)
	}
	close(stop)
	wait()
	st := ts.finish(t, 0)
	if st.served[0] == 0 || st.served[1] == 0 {
		t.Errorf("2xx answers per server: %v, want both to have served", st.served)
	}
	if !ts.l.done(ops, 3) {
		t.Errorf("operations that succeeded: %v, want each of %q at least 3 times", ts.l.counts, ops)
	}
	// At least once, and with no server dying and a receiver that answers at once,
	// exactly once: two servers never send one delivery both.
	received, _ := ts.rcv.snapshot()
	for id, ev := range received {
		if len(ev.arrivals) != 1 {
			t.Errorf("event %s: %s; want it sent once", id, ev)
		}
	}
}

// TestKillOneServerUnderLoad: the same load through two server processes; in the
// middle of it, while the merchant's webhook receiver holds the deliveries in flight,
// server 1 is killed with SIGKILL. Requests that were in flight on it, or that find
// it gone, are sent again with the same key to server 2, which keeps serving. The
// deliveries server 1 held are sent again by server 2 once their lease ends; every
// event it had not sent yet is sent by server 2; nothing acknowledged is lost and
// nothing is applied twice (the same checks as TestTwoServerProcessesUnderLoad).
func TestKillOneServerUnderLoad(t *testing.T) {
	ts := startTwoServers(t, 12)
	stop := make(chan struct{})
	wait := ts.l.run(8, stop)
	stopLoad := func() {
		ts.rcv.release()
		select {
		case <-stop:
		default:
			close(stop)
		}
		wait()
	}
	defer stopLoad()
	time.Sleep(1500 * time.Millisecond) // the load runs through both

	// Have both servers' webhook senders busy when server 1 dies. The receiver holds
	// what arrives, which stops each sender at its current round, until 20 more
	// deliveries are owed; then it lets those go and holds the next: each sender
	// starts on the pile, up to 8 at a time (webhook.parallelSends), so 9 held are
	// from both — if they come before a sender's time limit (half the lease) could
	// end one attempt and let it start another.
	ts.rcv.hold()
	owed := ts.l.owed()
	for deadline := time.Now().Add(20 * time.Second); ts.l.owed() < owed+20; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("only %d more webhook deliveries owed 20s later", ts.l.owed()-owed)
		}
	}
	ts.rcv.hold()
	holding := time.Now()
	for deadline := holding.Add(testLease/2 - 500*time.Millisecond); ; time.Sleep(10 * time.Millisecond) {
		if held, _ := ts.rcv.counts(); held >= 9 {
			break
		}
		if time.Now().After(deadline) {
			held, _ := ts.rcv.counts()
			t.Fatalf("only %d webhook deliveries in flight %v after holding them", held, time.Since(holding).Round(time.Millisecond))
		}
	}
	_, cutBefore := ts.rcv.counts() // cut off by their sender's time limit, not by the kill
	ts.f.kill(0)
	if err := ts.procs[0].kill(); err != nil {
		t.Fatal(err)
	}
	killedAt := time.Now()
	// Its connections are closed: the receiver sees server 1's deliveries hang up (all
	// of them, once none has for 200ms).
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		if _, cut := ts.rcv.counts(); cut > cutBefore {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no delivery held by the receiver was cut off by server 1's death")
		}
	}
	_, last := ts.rcv.counts()
	for time.Since(killedAt) < time.Second {
		time.Sleep(200 * time.Millisecond)
		_, cut := ts.rcv.counts()
		if cut == last {
			break
		}
		last = cut
	}
	ts.rcv.release()
	held, _ := ts.rcv.counts()
	time.Sleep(2 * time.Second) // the load goes on, through server 2 alone
	stopLoad()

	st := ts.finish(t, 1)
	if st.afterKill == 0 {
		t.Error("server 2 answered nothing sent after server 1 was killed")
	}
	// The deliveries server 1 was sending when it died came again, from server 2, and
	// were answered: not before their lease ended.
	received, _ := ts.rcv.snapshot()
	again, twice := 0, 0
	for id, ev := range received {
		if len(ev.arrivals) > 1 {
			twice++
		}
		if len(ev.cutAt) == 0 {
			continue
		}
		last := ev.arrivals[len(ev.arrivals)-1]
		if !last.After(ev.cutAt[0]) || ev.answered == 0 {
			t.Errorf("event %s, cut off while held, did not come again: %s", id, ev)
			continue
		}
		again++
		if d := last.Sub(ev.arrivals[0]); d < testLease-time.Second {
			t.Errorf("event %s came again %v after server 1 sent it, before its %v lease ended", id, d, testLease)
		}
	}
	t.Logf("server 1 killed %v after the receiver began to hold deliveries, with %d held (%d cut off before by a sender's time limit); %d events cut off and sent again; %d of %d events came more than once; server 2 answered %d requests sent after the kill; the checks were done %v after the kill",
		killedAt.Sub(holding).Round(time.Millisecond), held, cutBefore, again, twice, len(received), st.afterKill, time.Since(killedAt).Round(time.Millisecond))
}
