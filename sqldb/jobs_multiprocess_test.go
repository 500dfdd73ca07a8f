package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/notify"
	"github.com/hebaopay/hebao/sandbox"
	"github.com/hebaopay/hebao/webhook"
)

// The background jobs of `hebao serve` (cmd/hebao/serve.go) run in every server
// process, and several processes may share one database. These tests open several
// handles on one database — several processes, each with its own committer, caches
// and services — and run each job's single pass (the function its Run loop calls)
// from all of them at once, round after round, then check that its effect happened
// exactly once: the ledger's transfers, the balances, the rows, the outbox events,
// the webhook requests.

// processes opens n handles on the suite's database, as n server processes sharing it
// would, each taking its transactions' time from now (nil: the real clock).
func processes(t *testing.T, open func(t *testing.T) *DB, n int, now func() time.Time) []*DB {
	t.Helper()
	dbs := make([]*DB, n)
	for i := range dbs {
		dbs[i] = open(t)
		if now != nil {
			dbs[i].now = now // before its first use, as clocked does
		}
	}
	return dbs
}

// together runs fn(0) … fn(n-1) on n goroutines released at the same moment, and
// waits for them all.
func together(n int, fn func(i int)) {
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-start
			fn(i)
		})
	}
	close(start)
	wg.Wait()
}

// setClock moves a fakeClock under its lock: the stores' committers read it.
func setClock(c *fakeClock, t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// movementEvents returns the movement events in the outbox (none is dispatched in
// the tests that read them).
func movementEvents(t *testing.T, db *DB) []hebao.MovementEvent {
	t.Helper()
	var out []hebao.MovementEvent
	rawQuery(t, db, `SELECT payload FROM outbox WHERE kind = ?`, []any{hebao.EventMovement}, func(scan func(...any) error) error {
		var b []byte
		if err := scan(&b); err != nil {
			return err
		}
		var e hebao.MovementEvent
		if err := json.Unmarshal(b, &e); err != nil {
			return err
		}
		out = append(out, e)
		return nil
	})
	return out
}

// TestJobsOrderExpiryAcrossProcesses: three processes close expired orders at once,
// twice each, round after round. Every expired order is closed once — the counts the
// passes return add up to the orders, not more — with one order.closed webhook
// delivery each, and a till's order left waiting for its customer fails its pending
// payment once, with one event.
func TestJobsOrderExpiryAcrossProcesses(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		clock := &fakeClock{t: time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)}
		dbs := processes(t, open, 3, clock.Now)
		s := newShop(t, newWorld(t, dbs[0], nil), clock)
		ctx := context.Background()
		alice := s.customer("13800000601", 1, 2_000_000)
		var jobs []*hebao.OrderService
		for _, db := range dbs {
			jobs = append(jobs, &hebao.OrderService{Store: db, Now: clock.Now})
		}
		const rounds, perRound, tills = 3, 15, 2
		var (
			orders  []hebao.Order
			waiting []hebao.Order
		)
		for r := range rounds {
			for i := range perRound {
				orders = append(orders, s.order(fmt.Sprintf("JOB-%d-%03d", r, i), 100+int64(i), "https://shop.example/notify"))
			}
			for i := range tills {
				o, err := s.till(fmt.Sprintf("JOBTILL-%d-%d", r, i), s.code(alice), 150_000)
				if err != nil || o.Status != hebao.OrderUserPaying {
					t.Fatalf("round %d: a till's order waiting for its customer: %v %+v", r, err, o)
				}
				waiting = append(waiting, o)
			}
			clock.Add(hebao.DefaultOrderExpiry)
			for pass := range 2 {
				var closed atomic.Int64
				together(2*len(jobs), func(i int) {
					n, err := jobs[i%len(jobs)].ExpireDue(ctx)
					if err != nil {
						t.Errorf("round %d: process %d: ExpireDue: %v", r, i%len(jobs), err)
					}
					closed.Add(int64(n))
				})
				want := int64(perRound + tills)
				if pass > 0 {
					want = 0
				}
				if got := closed.Load(); got != want {
					t.Errorf("round %d, pass %d: the processes closed %d orders in all, want %d", r, pass, got, want)
				}
			}
		}

		if got, want := rawInt(t, dbs[0], `SELECT COUNT(*) FROM orders WHERE status = ?`, string(hebao.OrderClosed)), int64(len(orders)+len(waiting)); got != want {
			t.Errorf("%d orders closed, want %d", got, want)
		}
		// One order.closed delivery per order that asked for webhooks.
		deliveries := map[string]int{}
		rawQuery(t, dbs[0], `SELECT payload FROM webhook_deliveries WHERE event_type = ?`, []any{hebao.EventOrderClosed}, func(scan func(...any) error) error {
			var b []byte
			if err := scan(&b); err != nil {
				return err
			}
			var e struct{ Data hebao.MerchantOrder }
			if err := json.Unmarshal(b, &e); err != nil {
				return err
			}
			deliveries[e.Data.ID]++
			return nil
		})
		if len(deliveries) != len(orders) {
			t.Errorf("order.closed deliveries for %d orders, want %d", len(deliveries), len(orders))
		}
		for _, o := range orders {
			if deliveries[o.ID] != 1 {
				t.Errorf("order %s: %d order.closed deliveries, want 1", o.OutTradeNo, deliveries[o.ID])
			}
		}
		// Each waiting payment failed once, and its customer is told once.
		failed := map[string]int{}
		for _, e := range movementEvents(t, dbs[0]) {
			if e.Status == hebao.MovementFailed {
				failed[e.TransactionID]++
			}
		}
		for _, o := range waiting {
			if failed[o.MovementID] != 1 {
				t.Errorf("till order %s: %d events of its failed payment, want 1", o.OutTradeNo, failed[o.MovementID])
			}
			var m hebao.Movement
			if err := dbs[1].View(ctx, func(tx hebao.Tx) (err error) { m, err = tx.Movement(ctx, alice.Wallet.ID, o.MovementID); return err }); err != nil {
				t.Fatal(err)
			}
			if m.Status != hebao.MovementFailed || m.FailureCode != hebao.CodeOrderClosed {
				t.Errorf("till order %s: its payment is %s %s, want failed order_closed", o.OutTradeNo, m.Status, m.FailureCode)
			}
		}
		if len(failed) != len(waiting) {
			t.Errorf("failed-payment events for %d movements, want %d", len(failed), len(waiting))
		}
		if got := s.balance(alice.Wallet.Account); got != 2_000_000 {
			t.Errorf("alice holds %d, want all of it", got)
		}
		mustVerify(t, dbs[2])
	})
}

// TestJobsPromoSweepAcrossProcesses: three processes sweep ended campaigns at once.
// Each grant's unspent red-packet money goes back to its campaign's budget once: one
// expiry transfer per grant, one promo_expired line per wallet, and the budget whole
// but for what was spent.
func TestJobsPromoSweepAcrossProcesses(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		clock := &fakeClock{t: time.Now().UTC().Truncate(time.Microsecond)}
		dbs := processes(t, open, 3, clock.Now)
		w := newWorld(t, dbs[0], nil)
		s := newShop(t, w, clock)
		ctx := context.Background()
		var jobs []*hebao.CampaignService
		for _, db := range dbs {
			jobs = append(jobs, &hebao.CampaignService{Store: db, Keys: w.keys, Now: clock.Now})
		}
		admin := hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_x"}
		const (
			rounds, perRound = 3, 8
			gift, budget     = 888, 100_000
			spent            = 500 // by the first customer of each round, all of it red packets
		)
		var campaigns []hebao.Campaign
		var wallets []hebao.Registered
		for r := range rounds {
			// The customers register on the process that created the campaign: another
			// would see it only within a second (the campaign cache's TTL).
			creator := r % len(dbs)
			start := clock.Now().Add(-time.Minute)
			c, err := jobs[creator].Create(ctx, admin, hebao.CampaignRequest{Name: fmt.Sprintf("round %d", r), StartsAt: start,
				EndsAt: start.Add(time.Hour), Budget: budget, Rules: hebao.CampaignRules{OpeningRedPacket: gift}})
			if err != nil {
				t.Fatal(err)
			}
			campaigns = append(campaigns, c)
			for i := range perRound {
				db := dbs[creator]
				reg, err := (&hebao.CustomerService{Store: db, OTP: anyCode{}, Argon2: cheapArgon2, Gifts: w.keys, Now: clock.Now}).Register(ctx,
					hebao.Registration{Phone: fmt.Sprintf("1380001%d%03d", r, i), OTP: "123456", Password: "correct horse", DeviceID: fmt.Sprintf("dev-1380001%d%03d", r, i)})
				if err != nil {
					t.Fatal(err)
				}
				hash := hebao.HashPaymentPassword(w.keys.DeriveKey(hebao.PaymentPasswordKeyPurpose), reg.Wallet.ID, payPassword)
				if err := db.Transact(ctx, func(tx hebao.Tx) error {
					return tx.SavePaymentPassword(ctx, hebao.PaymentPassword{WalletID: reg.Wallet.ID, Hash: hash, UpdatedAt: tx.Now()})
				}); err != nil {
					t.Fatal(err)
				}
				if got := w.balance(reg.Wallet.PromoAccount); got != gift {
					t.Fatalf("round %d: a new wallet holds %d in red packets, want %d", r, got, gift)
				}
				wallets = append(wallets, reg)
			}
			if _, err := s.pay(wallets[r*perRound], s.order(fmt.Sprintf("PROMO-%d", r), spent, "").ID, "p"); err != nil {
				t.Fatal(err)
			}
			clock.Add(time.Hour)
			for pass := range 2 {
				var swept atomic.Int64
				together(2*len(jobs), func(i int) {
					n, err := jobs[i%len(jobs)].ExpireDue(ctx)
					if err != nil {
						t.Errorf("round %d: process %d: ExpireDue: %v", r, i%len(jobs), err)
					}
					swept.Add(int64(n))
				})
				want := int64(perRound)
				if pass > 0 {
					want = 0
				}
				if got := swept.Load(); got != want {
					t.Errorf("round %d, pass %d: the processes swept %d grants in all, want %d", r, pass, got, want)
				}
			}
			if st, err := jobs[1].Status(ctx, c.ID); err != nil || st.Remaining != budget-spent || st.State != "ended" {
				t.Errorf("round %d: the campaign after its sweep: %v %+v; want %d left", r, err, st, budget-spent)
			}
		}
		for _, x := range wallets {
			if got := w.balance(x.Wallet.PromoAccount); got != 0 {
				t.Errorf("wallet %s: %d red-packet fen left after its campaign ended", x.Wallet.ID, got)
			}
			if got := w.movementCount(x.Wallet.ID, hebao.MovementPromoExpired); got != 1 {
				t.Errorf("wallet %s: told %d times that its red packets expired, want 1", x.Wallet.ID, got)
			}
		}
		n := int64(rounds * perRound)
		if got := rawInt(t, dbs[0], `SELECT COUNT(*) FROM transfers WHERE kind = ?`, string(hebao.TransferExpiry)); got != n {
			t.Errorf("%d expiry transfers, want %d: one per grant", got, n)
		}
		if got := rawInt(t, dbs[0], `SELECT COUNT(DISTINCT ref) FROM transfers WHERE kind = ?`, string(hebao.TransferExpiry)); got != n {
			t.Errorf("expiry transfers name %d grants, want %d", got, n)
		}
		if got := rawInt(t, dbs[0], `SELECT COUNT(*) FROM campaign_grants WHERE swept_at = 0`); got != 0 {
			t.Errorf("%d grants left unswept", got)
		}
		if got, want := rawInt(t, dbs[0], `SELECT SUM(returned) FROM campaign_grants`), int64(rounds*(perRound*gift-spent)); got != want {
			t.Errorf("the grants record %d fen returned, want %d", got, want)
		}
		mustVerify(t, dbs[1])
	})
}

// TestJobsPointsExpiryAcrossProcesses: three processes expire old points at once,
// on the first moment of 2028 and of 2029 China time. Each wallet loses its old
// points once, with one expiry transfer and one points.expired event, and the year
// is recorded done once.
func TestJobsPointsExpiryAcrossProcesses(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		cst := time.FixedZone("CST", 8*3600)
		clock := &fakeClock{t: time.Date(2026, 6, 15, 12, 0, 0, 0, cst)}
		dbs := processes(t, open, 3, clock.Now)
		w := newWorld(t, dbs[0], nil)
		ctx := context.Background()
		const n = 16
		var holders []hebao.Registered
		for i := range n {
			holders = append(holders, w.customer(fmt.Sprintf("1380002%04d", i), 2, 0))
		}
		for _, h := range holders {
			w.givePoints(h, 100) // in 2026
		}
		setClock(clock, time.Date(2027, 3, 1, 9, 0, 0, 0, cst))
		for _, h := range holders {
			w.givePoints(h, 40) // in 2027
		}
		var jobs []*hebao.PointsService
		for _, db := range dbs {
			jobs = append(jobs, &hebao.PointsService{Store: db, Now: clock.Now})
		}
		for round, tt := range []struct {
			at   time.Time
			left int64
		}{
			{time.Date(2028, 1, 1, 0, 0, 0, 0, cst), 40}, // 2026's expire
			{time.Date(2029, 1, 1, 0, 0, 0, 0, cst), 0},  // 2027's
		} {
			setClock(clock, tt.at)
			for pass := range 2 {
				var expired atomic.Int64
				together(2*len(jobs), func(i int) {
					got, err := jobs[i%len(jobs)].ExpireDue(ctx)
					if err != nil {
						t.Errorf("round %d: process %d: ExpireDue: %v", round, i%len(jobs), err)
					}
					expired.Add(int64(got))
				})
				want := int64(n)
				if pass > 0 {
					want = 0
				}
				if got := expired.Load(); got != want {
					t.Errorf("round %d, pass %d: the processes expired points of %d wallets in all, want %d", round, pass, got, want)
				}
			}
			for _, h := range holders {
				if got := w.pointsOf(h); got != tt.left {
					t.Errorf("round %d: wallet %s holds %d points, want %d", round, h.Wallet.ID, got, tt.left)
				}
			}
			if got, want := rawInt(t, dbs[0], `SELECT COUNT(*) FROM transfers WHERE kind = ?`, string(hebao.TransferExpiry)), int64(n*(round+1)); got != want {
				t.Errorf("round %d: %d expiry transfers, want %d", round, got, want)
			}
			if got, want := rawInt(t, dbs[0], `SELECT COUNT(*) FROM outbox WHERE kind = ?`, hebao.EventPointsExpired), int64(n*(round+1)); got != want {
				t.Errorf("round %d: %d points.expired events, want %d", round, got, want)
			}
			if got := rawInt(t, dbs[0], `SELECT COUNT(*) FROM points_expiry_runs`); got != int64(round+1) {
				t.Errorf("round %d: %d years recorded done, want %d", round, got, round+1)
			}
		}
		// Each wallet's expiries: one per year.
		perWallet := map[hebao.AccountID]int{}
		rawQuery(t, dbs[0], `SELECT p.account_id FROM postings p JOIN transfers t ON t.seq = p.transfer_seq WHERE t.kind = ? AND p.amount < 0`,
			[]any{string(hebao.TransferExpiry)}, func(scan func(...any) error) error {
				var id int64
				err := scan(&id)
				perWallet[hebao.AccountID(id)]++
				return err
			})
		for _, h := range holders {
			if perWallet[h.Wallet.PointsAccount] != 2 {
				t.Errorf("wallet %s: %d expiries, want 2", h.Wallet.ID, perWallet[h.Wallet.PointsAccount])
			}
		}
		mustVerify(t, dbs[2])
	})
}

// TestJobsInterestAcrossProcesses: three processes run the interest scheduler's pass
// (the days Pending says are due, each Accrue'd) at once, at a minute past each China
// midnight, small chunks so that their transactions interleave. Every wallet accrues
// each day once and is paid once on the credit day: one interest transfer and one
// history line per wallet, and the exact figures of a single run.
func TestJobsInterestAcrossProcesses(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 6, 18, 10, 0, 0, 0, chinaZone)}
		dbs := processes(t, open, 3, c.now)
		w := newWorld(t, dbs[0], nil)
		const n = 15
		var ws []hebao.Registered
		for i := range n {
			ws = append(ws, w.customer(fmt.Sprintf("1380003%04d", i), 1+i%3, 1_000_000)) // 9.72 fen a day
		}
		var jobs []*hebao.InterestService
		for _, db := range dbs {
			jobs = append(jobs, &hebao.InterestService{Store: db, AnnualRatePPM: 3_500, Now: c.now, Chunk: 4})
		}
		// pass is what InterestService.Run does each time it wakes.
		pass := func(svc *hebao.InterestService) error {
			days, err := svc.Pending(ctx)
			for _, d := range days {
				if err != nil {
					break
				}
				_, err = svc.Accrue(ctx, d)
			}
			return err
		}
		for day, date := range []string{"2026-06-18", "2026-06-19", "2026-06-20"} {
			start, _ := hebao.ParseInterestDate(date)
			c.set(start.AddDate(0, 0, 1).Add(time.Minute + 30*time.Second)) // past the scheduler's minute after midnight
			together(2*len(jobs), func(i int) {
				if err := pass(jobs[i%len(jobs)]); err != nil {
					t.Errorf("%s: process %d: %v", date, i%len(jobs), err)
				}
			})
			var run hebao.InterestRun
			if err := dbs[1].View(ctx, func(tx hebao.Tx) (err error) { run, err = tx.InterestRun(ctx, date); return err }); err != nil {
				t.Fatalf("%s: %v", date, err)
			}
			if run.Status != hebao.InterestDone || run.Wallets != n || run.Accrued != n*1_000_000*3_500 {
				t.Errorf("%s: run %+v, want done, %d wallets accrued once", date, run, n)
			}
			for _, x := range ws {
				a := interestOf(t, dbs[2], x.Wallet.ID)
				if a.LastDate != date {
					t.Errorf("%s: wallet %s last accrued %s", date, x.Wallet.ID, a.LastDate)
				}
				if want := int64(day+1) * 3_500_000_000; date != "2026-06-20" && a.Accrued != want {
					t.Errorf("%s: wallet %s accrued %d, want %d (each day once)", date, x.Wallet.ID, a.Accrued, want)
				}
			}
		}
		if got := rawInt(t, dbs[0], `SELECT COUNT(*) FROM interest_runs`); got != 3 {
			t.Errorf("%d interest runs, want 3", got)
		}
		// The 20th of June is a credit day: 3 × 9.72 = 29.16 fen → 29, 0.16 carried.
		for _, x := range ws {
			if bal := w.balance(x.Wallet.Account); bal != 1_000_029 {
				t.Errorf("wallet %s: balance %d, want 1,000,029", x.Wallet.ID, bal)
			}
			if got := w.movementCount(x.Wallet.ID, hebao.MovementInterest); got != 1 {
				t.Errorf("wallet %s: %d interest lines, want 1", x.Wallet.ID, got)
			}
			a := interestOf(t, dbs[0], x.Wallet.ID)
			if a.CreditedThrough != "2026-06-20" || a.Accrued != 3*3_500_000_000-29*360_000_000 {
				t.Errorf("wallet %s: %+v, want credited through the 20th with 60,000,000 carried", x.Wallet.ID, a)
			}
		}
		if got := rawInt(t, dbs[0], `SELECT COUNT(*) FROM transfers WHERE kind = ?`, string(hebao.TransferInterest)); got != n {
			t.Errorf("%d interest transfers, want %d", got, n)
		}
		if got := rawInt(t, dbs[0], `SELECT balance FROM accounts WHERE kind = ?`, string(hebao.AccountInterestExpense)); got != -29*n {
			t.Errorf("interest expense %d, want %d", got, -29*n)
		}
		mustVerify(t, dbs[1])
	})
}

// TestJobsWebhookSenderAcrossProcesses: six senders on three processes make their
// passes at once. Each delivery is sent once per due time: once when first due, a
// failed one once more when its retry comes due, and nothing in between or after;
// a delivery being sent is left alone by the others while its lease lasts, however
// slow its receiver.
func TestJobsWebhookSenderAcrossProcesses(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		clock := &fakeClock{t: time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)}
		dbs := processes(t, open, 3, clock.Now)
		s := newShop(t, newWorld(t, dbs[0], nil), clock)
		ctx := context.Background()

		var (
			mu      sync.Mutex
			hits    = map[string]int{} // by event id
			failing = map[string]bool{}
			slowID  string
			arrived = make(chan struct{})
			release = make(chan struct{})
		)
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
			id := r.Header.Get(webhook.EventIDHeader)
			mu.Lock()
			hits[id]++
			first, fail, slow := hits[id] == 1, failing[id], id == slowID
			mu.Unlock()
			if slow && first {
				close(arrived)
				<-release
			}
			if fail && first {
				rw.WriteHeader(http.StatusInternalServerError)
				return
			}
			rw.WriteHeader(http.StatusNoContent)
		}))
		defer srv.Close()
		var releaseOnce sync.Once
		free := func() { releaseOnce.Do(func() { close(release) }) }
		defer free() // before srv.Close, which waits for the handler
		deliver := func(at time.Time, fail bool) hebao.WebhookDelivery {
			d := hebao.WebhookDelivery{ID: hebao.NewID("whd"), MerchantID: s.merchant.ID, EventID: hebao.NewID("evt"), EventType: hebao.EventOrderPaid,
				URL: srv.URL + "/notify", Payload: []byte(`{"type":"order.paid"}`), NextAttemptAt: at, CreatedAt: at, UpdatedAt: at}
			if err := dbs[0].Transact(ctx, func(tx hebao.Tx) error { return tx.CreateDelivery(ctx, d) }); err != nil {
				t.Fatal(err)
			}
			mu.Lock()
			failing[d.EventID] = fail
			mu.Unlock()
			return d
		}
		const n = 24
		var ds []hebao.WebhookDelivery
		for i := range n {
			ds = append(ds, deliver(clock.Now(), i%2 == 1)) // the odd ones fail their first attempt
		}
		var senders []*webhook.Sender
		for i := range 2 * len(dbs) {
			senders = append(senders, &webhook.Sender{Store: dbs[i%len(dbs)], Now: clock.Now, Policy: webhook.Policy{AllowHTTP: true, AllowLoopback: true},
				Secret: func(context.Context, string) ([]byte, error) { return []byte("whsec_test"), nil }})
		}
		sendAll := func(when string) int64 {
			var tried atomic.Int64
			together(len(senders), func(i int) {
				got, err := senders[i].DeliverDue(ctx)
				if err != nil {
					t.Errorf("%s: sender %d: DeliverDue: %v", when, i, err)
				}
				tried.Add(int64(got))
			})
			return tried.Load()
		}
		total := func() (sum int) {
			mu.Lock()
			defer mu.Unlock()
			for _, h := range hits {
				sum += h
			}
			return sum
		}
		check := func(when string, tried, want int64, wantHits func(i int) int) {
			t.Helper()
			if tried != want {
				t.Errorf("%s: the senders attempted %d deliveries in all, want %d", when, tried, want)
			}
			mu.Lock()
			defer mu.Unlock()
			for i, d := range ds {
				if hits[d.EventID] != wantHits(i) {
					t.Errorf("%s: delivery %d was sent %d times, want %d", when, i, hits[d.EventID], wantHits(i))
				}
			}
		}

		check("first due", sendAll("first due"), n, func(int) int { return 1 })
		check("again at once", sendAll("again at once"), 0, func(int) int { return 1 })
		clock.Add(webhook.Schedule[0] - time.Second)
		check("just before the retry", sendAll("just before the retry"), 0, func(int) int { return 1 })
		clock.Add(time.Second)
		check("the retry", sendAll("the retry"), n/2, func(i int) int { return 1 + i%2 })
		clock.Add(24 * time.Hour)
		check("a day later", sendAll("a day later"), 0, func(i int) int { return 1 + i%2 })
		if got := total(); got != n+n/2 {
			t.Errorf("the receiver was called %d times, want %d", got, n+n/2)
		}
		for i, d := range ds {
			var got hebao.WebhookDelivery
			if err := dbs[i%len(dbs)].View(ctx, func(tx hebao.Tx) (err error) { got, err = tx.Delivery(ctx, s.merchant.ID, d.ID); return err }); err != nil {
				t.Fatal(err)
			}
			if !got.Delivered || got.Attempts != 1+i%2 || got.LastStatus != http.StatusNoContent {
				t.Errorf("delivery %d: delivered %v after %d attempts (last status %d), want delivered after %d", i, got.Delivered, got.Attempts, got.LastStatus, 1+i%2)
			}
		}

		// A slow receiver: while one sender waits for its answer, the others pass it
		// by, 20 seconds on (within the 30 s lease).
		slow := deliver(clock.Now(), false)
		mu.Lock()
		slowID = slow.EventID
		mu.Unlock()
		first := make(chan int, 1)
		go func() {
			got, err := senders[0].DeliverDue(ctx)
			if err != nil {
				t.Errorf("the slow delivery: %v", err)
			}
			first <- got
		}()
		select {
		case <-arrived:
		case <-time.After(10 * time.Second):
			t.Fatal("the slow delivery never arrived")
		}
		clock.Add(20 * time.Second)
		var others atomic.Int64
		together(len(senders)-1, func(i int) {
			got, err := senders[i+1].DeliverDue(ctx)
			if err != nil {
				t.Errorf("sender %d during the slow delivery: %v", i+1, err)
			}
			others.Add(int64(got))
		})
		free()
		if got := <-first; got != 1 || others.Load() != 0 {
			t.Errorf("the slow delivery: attempted %d times by its sender and %d by the others, want 1 and 0", got, others.Load())
		}
		mu.Lock()
		if hits[slow.EventID] != 1 {
			t.Errorf("the slow delivery was sent %d times, want 1", hits[slow.EventID])
		}
		mu.Unlock()
	})
}

// countingSMS counts the texts sent to each phone.
type countingSMS struct {
	mu   sync.Mutex
	sent map[string]int
}

func (s *countingSMS) Send(_ context.Context, phone, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sent == nil {
		s.sent = map[string]int{}
	}
	s.sent[phone]++
	return nil
}

// TestJobsDispatcherAcrossProcesses: three processes' notification dispatchers run
// while customers pay each other, and then until the outbox is empty. Each event
// becomes one notification per side, stored once, pushed live once (on SQLite by
// the dispatching process's Hub; on PostgreSQL, as `hebao serve` does it, announced
// once to every process's listener) and sent by SMS once.
func TestJobsDispatcherAcrossProcesses(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := processes(t, open, 3, nil)
		w := newWorld(t, dbs[0], nil)
		ctx := context.Background()
		pg := dbs[0].Dialect() == "postgres"
		const nCustomers, nTransfers = 6, 24
		var cs []hebao.Registered
		phoneOf := map[string]string{}
		for i := range nCustomers {
			c := w.customer(fmt.Sprintf("1380004%04d", i), 2, 100_000)
			set := hebao.DefaultWalletSettings(c.Wallet.ID)
			set.SMSThreshold = 0 // a text for every movement
			if err := dbs[0].Transact(ctx, func(tx hebao.Tx) error { return tx.SaveWalletSettings(ctx, set) }); err != nil {
				t.Fatal(err)
			}
			cs = append(cs, c)
			phoneOf[c.Customer.ID] = c.Customer.Phone
		}

		// What reaches the customers live: by notification id, per process.
		var (
			mu   sync.Mutex
			live = make([]map[string]int, len(dbs))
		)
		heard := func(p int) func(hebao.Notification) {
			return func(n hebao.Notification) {
				mu.Lock()
				live[p][n.ID]++
				mu.Unlock()
			}
		}
		listening, stopListening := context.WithCancel(ctx)
		var listeners sync.WaitGroup
		defer func() { stopListening(); listeners.Wait() }()
		sms := &countingSMS{}
		var ds []*notify.Dispatcher
		for p, db := range dbs {
			live[p] = map[string]int{}
			d := &notify.Dispatcher{Store: db, SMS: sms, Batch: 5}
			if pg {
				ready := make(chan struct{}, 1)
				listeners.Go(func() {
					db.ListenNotifications(listening, heard(p), func() {
						select {
						case ready <- struct{}{}:
						default:
						}
					})
				})
				select {
				case <-ready:
				case <-time.After(10 * time.Second):
					t.Fatal("a listener did not start")
				}
			} else {
				d.Hub = notify.NewHub()
				for _, c := range cs {
					ch, stop := d.Hub.Subscribe(c.Customer.ID)
					listeners.Go(func() {
						for n := range ch {
							heard(p)(n)
						}
					})
					defer stop()
				}
			}
			ds = append(ds, d)
		}

		// The dispatchers run while the transfers are made…
		running, stopRunning := context.WithCancel(ctx)
		var dispatchers sync.WaitGroup
		for i, d := range ds {
			dispatchers.Go(func() {
				for running.Err() == nil {
					if _, err := d.DispatchOnce(ctx); err != nil {
						t.Errorf("dispatcher %d: %v", i, err)
						return
					}
					time.Sleep(time.Millisecond) // Run polls; this is its quickest
				}
			})
		}
		for i := range nTransfers {
			from, to := cs[i%nCustomers], cs[(i*5+1)%nCustomers]
			if from.Customer.ID == to.Customer.ID {
				to = cs[(i+1)%nCustomers]
			}
			svc := &hebao.TransferService{Store: dbs[i%len(dbs)], Passwords: w.passwords, OTP: anyCode{}}
			if _, err := svc.Send(ctx, transferRequest(from, to.Customer.Phone, int64(100+i), fmt.Sprintf("t%d", i))); err != nil {
				t.Fatalf("transfer %d: %v", i, err)
			}
		}
		stopRunning()
		dispatchers.Wait()
		// …and then together until no event is left.
		for round := 0; ; round++ {
			var took atomic.Int64
			together(2*len(ds), func(i int) {
				got, err := ds[i%len(ds)].DispatchOnce(ctx)
				if err != nil {
					t.Errorf("dispatcher %d: %v", i%len(ds), err)
				}
				took.Add(int64(got))
			})
			if took.Load() == 0 {
				break
			}
			if round > 100 {
				t.Fatal("the outbox never emptied")
			}
		}

		// What was stored: one notification per side of each transfer.
		stored := map[string]string{} // id → customer
		rawQuery(t, dbs[0], `SELECT id, customer_id FROM notifications`, nil, func(scan func(...any) error) error {
			var id, customer string
			err := scan(&id, &customer)
			stored[id] = customer
			return err
		})
		if len(stored) != 2*nTransfers {
			t.Errorf("%d notifications stored, want %d", len(stored), 2*nTransfers)
		}
		perCustomer := map[string]int{}
		for _, c := range stored {
			perCustomer[c]++
		}
		// Live: on PostgreSQL every process hears each once; on SQLite the processes
		// together push each once.
		want := func(p int) bool { return pg || p == 0 }
		deadline := time.Now().Add(10 * time.Second)
		for {
			mu.Lock()
			missing := 0
			for p := range live {
				if !want(p) {
					continue
				}
				for id := range stored {
					sum := live[p][id]
					if !pg {
						for q := range live {
							if q != p {
								sum += live[q][id]
							}
						}
					}
					if sum == 0 {
						missing++
					}
				}
			}
			mu.Unlock()
			if missing == 0 || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		time.Sleep(200 * time.Millisecond) // time for a second push to arrive, if one were sent
		mu.Lock()
		for id := range stored {
			if pg {
				for p := range live {
					if live[p][id] != 1 {
						t.Errorf("notification %s: heard %d times by process %d, want 1", id, live[p][id], p)
					}
				}
			} else {
				sum := 0
				for p := range live {
					sum += live[p][id]
				}
				if sum != 1 {
					t.Errorf("notification %s: pushed %d times, want 1", id, sum)
				}
			}
		}
		for p := range live {
			for id := range live[p] {
				if _, ok := stored[id]; !ok {
					t.Errorf("process %d pushed notification %s, which is not stored", p, id)
				}
			}
		}
		mu.Unlock()
		sms.mu.Lock()
		for customer, n := range perCustomer {
			if got := sms.sent[phoneOf[customer]]; got != n {
				t.Errorf("customer %s: %d texts for %d notifications", customer, got, n)
			}
		}
		sms.mu.Unlock()
		if pg {
			if got := rawInt(t, dbs[0], `SELECT COUNT(*) FROM outbox WHERE delivered_at IS NULL`); got != 0 {
				t.Errorf("%d events left undelivered", got)
			}
		} else if got := countOutbox(t, dbs[0]); got != 0 {
			t.Errorf("%d events left in the outbox", got)
		}
		mustVerify(t, dbs[2])
	})
}

// dyingBank is a process that dies while it waits for the bank: the order reaches
// the bank (applied, if apply says so, or never seen at all), and the answer never
// comes back before the process stops.
type dyingBank struct {
	hebao.Bank
	apply   func(o hebao.BankOrder) bool
	reached *sync.WaitGroup
}

func (b dyingBank) call(ctx context.Context, o hebao.BankOrder, op func(context.Context, hebao.BankOrder) (hebao.BankOutcome, error)) (hebao.BankOutcome, error) {
	if b.apply(o) {
		if _, err := op(context.Background(), o); err != nil {
			b.reached.Done()
			return hebao.BankOutcome{}, err
		}
	}
	b.reached.Done()
	<-ctx.Done()
	return hebao.BankOutcome{}, ctx.Err()
}

func (b dyingBank) Debit(ctx context.Context, o hebao.BankOrder) (hebao.BankOutcome, error) {
	return b.call(ctx, o, b.Bank.Debit)
}

func (b dyingBank) Credit(ctx context.Context, o hebao.BankOrder) (hebao.BankOutcome, error) {
	return b.call(ctx, o, b.Bank.Credit)
}

// countingBank counts the orders it passes on: several processes recovering the same
// movement may each ask the bank about it (the bank answers a reference once).
type countingBank struct {
	hebao.Bank
	calls *atomic.Int64
}

func (b countingBank) Debit(ctx context.Context, o hebao.BankOrder) (hebao.BankOutcome, error) {
	b.calls.Add(1)
	return b.Bank.Debit(ctx, o)
}

func (b countingBank) Credit(ctx context.Context, o hebao.BankOrder) (hebao.BankOutcome, error) {
	b.calls.Add(1)
	return b.Bank.Credit(ctx, o)
}

// TestJobsBankRecoveryAcrossProcesses: a process dies with top-ups and withdrawals
// pending at the bank, half of them applied there, half never sent. Three processes
// then recover them at once, round after round: each finishes once — one top-up
// transfer, one payout or release after the withdrawal's hold — and the card is
// charged or paid once. The sandbox bank is one for all the processes here, as a
// real bank is; `hebao serve` opens a sandbox of its own per data directory.
func TestJobsBankRecoveryAcrossProcesses(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := processes(t, open, 3, nil)
		bank, err := sandbox.Open("")
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bank.Close() })
		w := newWorld(t, dbs[0], bank)
		ctx := context.Background()

		var reached sync.WaitGroup
		dying := &hebao.BankService{Store: dbs[0], Keys: w.keys, Passwords: w.passwords, Timeout: time.Minute,
			Bank: dyingBank{Bank: bank, reached: &reached, apply: func(o hebao.BankOrder) bool { return o.Amount%2 == 0 }}}
		defer dying.Close()
		const n = 6
		type op struct {
			who    hebao.Registered
			number string
			topup  string // movement ids
			payout string
			in     int64
			out    int64
		}
		var ops []op
		for i := range n {
			who := w.customer(fmt.Sprintf("1380005%04d", i), 2, 50_000)
			card := w.card(who.Customer.ID, fmt.Sprintf("%d%d%d%d", 1+i, 1+i, 1+i, 1+i))
			o := op{who: who, number: w.cardNumber(card), in: 10_000 + int64(i), out: 5_000 + int64(i)}
			reached.Add(2)
			r, err := dying.Topup(ctx, hebao.TopupRequest{CustomerID: who.Customer.ID, CardID: card.ID, Amount: o.in,
				Key: key(who.Customer.ID, "in", []any{card.ID, o.in}), Reply: movementReply})
			if err != nil {
				t.Fatal(err)
			}
			o.topup = movementID(t, r)
			r, err = dying.Withdraw(ctx, hebao.WithdrawalRequest{CustomerID: who.Customer.ID, CardID: card.ID, Amount: o.out,
				PaymentPassword: payPassword, Key: key(who.Customer.ID, "out", []any{card.ID, o.out}), Reply: movementReply})
			if err != nil {
				t.Fatal(err)
			}
			o.payout = movementID(t, r)
			ops = append(ops, o)
		}
		reached.Wait() // every order is at the bank, or lost on its way there
		dying.Close()  // the process dies
		if got := rawInt(t, dbs[0], `SELECT COUNT(*) FROM movements WHERE status = ?`, string(hebao.MovementPending)); got != 2*n {
			t.Fatalf("%d movements pending after the crash, want %d", got, 2*n)
		}

		// The recovering processes' clocks are a minute on: the movements are older
		// than the bank time-out at once.
		later := func() time.Time { return time.Now().Add(time.Minute) }
		var (
			jobs  []*hebao.BankService
			calls atomic.Int64
		)
		for _, db := range dbs {
			svc := &hebao.BankService{Store: db, Bank: countingBank{bank, &calls}, Keys: w.keys, Passwords: w.passwords, Timeout: 10 * time.Second, Now: later}
			t.Cleanup(svc.Close)
			jobs = append(jobs, svc)
		}
		for range 3 {
			together(2*len(jobs), func(i int) {
				if _, err := jobs[i%len(jobs)].Recover(ctx); err != nil {
					t.Errorf("process %d: Recover: %v", i%len(jobs), err)
				}
			})
			time.Sleep(20 * time.Millisecond)
		}
		for _, o := range ops {
			for _, id := range []string{o.topup, o.payout} {
				if m := w.waitMovement(o.who.Wallet.ID, id, 10*time.Second); m.Status != hebao.MovementSucceeded {
					t.Errorf("movement %s after recovery: %s %s", id, m.Status, m.FailureCode)
				}
			}
		}
		for _, svc := range jobs {
			svc.Close() // waits for the answers being recorded
		}
		t.Logf("%d bank calls to recover %d movements: the work may be done twice, its effect is once", calls.Load(), 2*n)
		finished := map[string]int{}
		for _, e := range movementEvents(t, dbs[0]) {
			if e.Status == hebao.MovementSucceeded {
				finished[e.TransactionID]++
			}
		}
		for _, o := range ops {
			if got, want := w.balance(o.who.Wallet.Account), 50_000+o.in-o.out; got != want {
				t.Errorf("wallet %s holds %d, want %d", o.who.Wallet.ID, got, want)
			}
			if got, want := bank.Balance(o.number), hebao.SandboxCardBalance-o.in+o.out; got != want {
				t.Errorf("card of wallet %s holds %d at the bank, want %d", o.who.Wallet.ID, got, want)
			}
			if got := rawInt(t, dbs[0], `SELECT COUNT(*) FROM transfers WHERE ref = ? AND kind = ?`, o.topup, string(hebao.TransferTopup)); got != 1 {
				t.Errorf("top-up %s: %d transfers, want 1", o.topup, got)
			}
			if got := rawInt(t, dbs[0], `SELECT COUNT(*) FROM transfers WHERE ref = ?`, o.payout); got != 2 {
				t.Errorf("withdrawal %s: %d transfers, want 2 (the hold, the payout)", o.payout, got)
			}
			for _, id := range []string{o.topup, o.payout} {
				if finished[id] != 1 {
					t.Errorf("movement %s: %d events of its success, want 1", id, finished[id])
				}
			}
		}
		// Nothing is left to recover.
		var started atomic.Int64
		together(len(jobs), func(i int) {
			got, err := jobs[i].Recover(ctx)
			if err != nil {
				t.Errorf("process %d: Recover again: %v", i, err)
			}
			started.Add(int64(got))
		})
		if started.Load() != 0 {
			t.Errorf("Recover again found %d movements pending", started.Load())
		}
		mustVerify(t, dbs[1])
	})
}
