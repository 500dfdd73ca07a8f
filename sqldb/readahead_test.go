package sqldb

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// inOneBatch starts each call in turn, waiting until it has queued its closure, while
// a blocker holds db's committer; then lets the committer go, so that the calls run
// as one batch in the order given. It returns each call's error.
func inOneBatch(t *testing.T, db *DB, calls ...func() error) []error {
	t.Helper()
	release := holdCommitter(t, db)
	errs := make([]error, len(calls))
	var wg sync.WaitGroup
	for i, call := range calls {
		wg.Go(func() { errs[i] = call() })
		deadline := time.Now().Add(10 * time.Second)
		for len(db.queue) < i+1 {
			if time.Now().After(deadline) {
				t.Fatalf("call %d did not queue its closure", i)
			}
			time.Sleep(time.Millisecond)
		}
	}
	release()
	wg.Wait()
	return errs
}

// TestReadAheadInOneBatch runs, in one batch of one process, transfers whose rows
// PostgreSQL reads ahead in the round trip that locks the chain head (readahead.go),
// after another process has spent from the same payer: a replayed key, a spend
// the payer's balance no longer covers, the fourth and fifth wrong password of
// another payer and then their right one (locked by then), payees named by phone and by wallet id, an unknown phone, and a retry of a
// request of the same batch. Each is answered as if it had read for itself.
func TestReadAheadInOneBatch(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		w := ws[0]
		ctx := context.Background()
		a := w.customer("13800000071", 1, 10_000)
		b := w.customer("13800000072", 1, 0)
		c := w.customer("13800000073", 1, 10_000)
		d := w.customer("13800000074", 1, 10_000)

		first, err := w.transfers.Send(ctx, transferRequest(a, b.Customer.Phone, 1_000, "k1"))
		if err != nil {
			t.Fatal(err)
		}
		// The other process spends most of what is left: this one's cached balance of
		// A (9,000) is now too high.
		if _, err := ws[1].transfers.Send(ctx, transferRequest(a, b.Customer.Phone, 8_000, "k2")); err != nil {
			t.Fatal(err)
		}
		wrong := func(k string) hebao.TransferRequest {
			r := transferRequest(d, b.Customer.Phone, 1_000, k)
			r.PaymentPassword = "000000"
			return r
		}
		for i := range 3 { // the fourth and fifth come in the batch
			if _, err := ws[1].transfers.Send(ctx, wrong(fmt.Sprint("w", i))); hebao.ErrorCode(err) != hebao.CodePaymentPasswordWrong {
				t.Fatalf("wrong try %d: %v", i+1, err)
			}
		}
		before := w.db.readAheads.Load()

		send := func(r hebao.TransferRequest, reply *hebao.Reply) func() error {
			return func() error {
				got, err := w.transfers.Send(ctx, r)
				if reply != nil {
					*reply = got
				}
				return err
			}
		}
		var replay, c1, c1again hebao.Reply
		byID := transferRequest(c, "", 3_000, "c2")
		byID.ToPhone, byID.ToWalletID = "", b.Wallet.ID
		byID.Key = key(c.Customer.ID, "c2", []any{b.Wallet.ID, int64(3_000)})
		errs := inOneBatch(t, w.db,
			send(transferRequest(a, b.Customer.Phone, 1_000, "k1"), &replay),
			send(wrong("w3"), nil),
			send(transferRequest(a, b.Customer.Phone, 1_000, "k4"), nil),
			send(wrong("w4"), nil),
			send(transferRequest(d, b.Customer.Phone, 1_000, "d1"), nil),
			send(transferRequest(a, b.Customer.Phone, 1, "k5"), nil),
			send(transferRequest(c, b.Customer.Phone, 2_000, "c1"), &c1),
			send(byID, nil),
			send(transferRequest(c, "13800000079", 1_000, "c3"), nil),
			send(transferRequest(c, b.Customer.Phone, 2_000, "c1"), &c1again),
		)
		want := []string{"", hebao.CodePaymentPasswordWrong, "", hebao.CodePaymentPasswordLocked, hebao.CodePaymentPasswordLocked,
			hebao.CodeInsufficientFunds, "", "", hebao.CodeNotFound, ""}
		for i, err := range errs {
			if got := hebao.ErrorCode(err); got != want[i] {
				t.Errorf("call %d: %v, want %q", i, err, want[i])
			}
		}
		if !bytes.Equal(replay.Body, first.Body) {
			t.Errorf("replayed key answered %s, first answer was %s", replay.Body, first.Body)
		}
		if len(c1.Body) == 0 || !bytes.Equal(c1again.Body, c1.Body) {
			t.Errorf("retry in the same batch answered %s, the request %s", c1again.Body, c1.Body)
		}
		for _, x := range []struct {
			who  string
			acct hebao.AccountID
			want int64
		}{{"A", a.Wallet.Account, 0}, {"B", b.Wallet.Account, 1_000 + 8_000 + 1_000 + 2_000 + 3_000}, {"C", c.Wallet.Account, 5_000}, {"D", d.Wallet.Account, 10_000}} {
			if got := w.balance(x.acct); got != x.want {
				t.Errorf("%s holds %d, want %d", x.who, got, x.want)
			}
		}
		if n := rawInt(t, w.db, `SELECT failures FROM payment_passwords WHERE wallet_id = ?`, d.Wallet.ID); n < 5 {
			t.Errorf("D's wrong-password count is %d after five wrong tries, want at least 5", n)
		}
		if u := w.usage(a.Wallet.ID); u.DayTotal != 10_000 {
			t.Errorf("A's daily usage is %d, want 10000", u.DayTotal)
		}
		if _, pg := w.db.b.(*pgDB); pg && w.db.readAheads.Load() == before {
			t.Error("no batch read ahead on PostgreSQL")
		}
		mustVerify(t, w.db)
	})
}

// TestLateJoin: on PostgreSQL, calls queued while a batch waits for the chain head
// (held by another process's batch) join that batch, their rows read ahead in one
// more round trip under the head, and are answered as if each had run alone: a
// transfer, its retry, a spend the balance no longer covers, a payee by phone.
func TestLateJoin(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		w, other := ws[0], ws[1]
		ctx := context.Background()
		a := w.customer("13800000081", 1, 3_000)
		b := w.customer("13800000082", 1, 0)
		c := w.customer("13800000083", 1, 1_000)

		// The other process's batch holds the head until released.
		release := holdCommitter(t, other.db)
		send := func(r hebao.TransferRequest) func() (hebao.Reply, error) {
			return func() (hebao.Reply, error) { return w.transfers.Send(ctx, r) }
		}
		calls := []func() (hebao.Reply, error){
			send(transferRequest(a, b.Customer.Phone, 2_000, "a1")), // the batch that waits
			send(transferRequest(a, b.Customer.Phone, 2_000, "a1")), // its retry: the same reply
			send(transferRequest(a, b.Customer.Phone, 1_001, "a2")), // 1,000 left: refused
			send(transferRequest(c, b.Customer.Phone, 1_000, "c1")),
			send(transferRequest(a, b.Customer.Phone, 1_000, "a3")),
		}
		replies := make([]hebao.Reply, len(calls))
		errs := make([]error, len(calls))
		var wg sync.WaitGroup
		for i, call := range calls {
			wg.Go(func() { replies[i], errs[i] = call() })
			deadline := time.Now().Add(10 * time.Second)
			want := i // the first is taken by the committer; the rest wait in the queue
			for len(w.db.queue) != want {
				if time.Now().After(deadline) {
					t.Fatalf("call %d: queue %d, want %d", i, len(w.db.queue), want)
				}
				time.Sleep(time.Millisecond)
			}
			if i == 0 {
				time.Sleep(50 * time.Millisecond) // inside its batch, waiting for the head
			}
		}
		release()
		wg.Wait()
		want := []string{"", "", hebao.CodeInsufficientFunds, "", ""}
		for i, err := range errs {
			if got := hebao.ErrorCode(err); got != want[i] {
				t.Errorf("call %d: %v, want %q", i, err, want[i])
			}
		}
		if !bytes.Equal(replies[0].Body, replies[1].Body) {
			t.Errorf("the retry answered %s, the request %s", replies[1].Body, replies[0].Body)
		}
		for _, x := range []struct {
			who  string
			acct hebao.AccountID
			want int64
		}{{"A", a.Wallet.Account, 0}, {"B", b.Wallet.Account, 4_000}, {"C", c.Wallet.Account, 0}} {
			if got := w.balance(x.acct); got != x.want {
				t.Errorf("%s holds %d, want %d", x.who, got, x.want)
			}
		}
		if w.db.Dialect() == "postgres" && w.db.lateJoins.Load() == 0 {
			t.Error("no call joined the batch that waited for the head")
		}
		mustVerify(t, w.db)
	})
}

// TestReadAheadOrders: payments of orders in one batch, whose orders PostgreSQL reads
// ahead with the chain head, are answered as if each had read its order itself: the
// same order paid twice (by two customers) is paid once, an order of the other
// process closed by it before the batch stays closed, an unknown order is not
// found, and every other order is paid.
func TestReadAheadOrders(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		s := newShop(t, ws[0], nil)
		a := ws[0].customer("13800000081", 1, 10_000)
		b := ws[0].customer("13800000082", 1, 10_000)
		o1 := s.order("RAHEAD-1", 1_000, "")
		o2 := s.order("RAHEAD-2", 2_000, "")
		o3 := s.order("RAHEAD-3", 3_000, "")
		// The other process closes o3 (it caches nothing of it here).
		other := &hebao.OrderService{Store: ws[1].db, Passwords: ws[1].passwords, OTP: anyCode{}}
		if _, err := other.Close(context.Background(), s.merchant, "RAHEAD-3"); err != nil {
			t.Fatal(err)
		}
		before := ws[0].db.readAheads.Load()
		pay := func(c hebao.Registered, id, key string) func() error {
			return func() error { _, err := s.pay(c, id, key); return err }
		}
		errs := inOneBatch(t, ws[0].db,
			pay(a, o1.ID, "p1"),
			pay(b, o1.ID, "p2"),
			pay(b, o2.ID, "p3"),
			pay(a, o3.ID, "p4"),
			pay(a, hebao.NewID("ord"), "p5"),
		)
		want := []string{"", hebao.CodeOrderAlreadyPaid, "", hebao.CodeOrderClosed, hebao.CodeNotFound}
		for i, err := range errs {
			if got := hebao.ErrorCode(err); got != want[i] {
				t.Errorf("payment %d: %v, want %q", i, err, want[i])
			}
		}
		if got := ws[0].balance(a.Wallet.Account); got != 9_000 {
			t.Errorf("A holds %d, want 9000", got)
		}
		if got := ws[0].balance(b.Wallet.Account); got != 8_000 {
			t.Errorf("B holds %d, want 8000", got)
		}
		if got := s.merchantBalance(); got != 3_000 {
			t.Errorf("the merchant holds %d, want 3000", got)
		}
		if _, pg := ws[0].db.b.(*pgDB); pg && ws[0].db.readAheads.Load() == before {
			t.Error("no batch read ahead on PostgreSQL")
		}
		mustVerify(t, ws[0].db)
	})
}

// TestOrderWriteGuard changes an order behind a batch's back, between the batch's
// read of it and its flush, as only a process that ignored the chain head could: the
// flush's one statement for all of the batch's orders counts the rows it changed,
// and the batch runs again on what is there now instead of overwriting it. SQLite has
// one writer, so only PostgreSQL can see this.
func TestOrderWriteGuard(t *testing.T) {
	db := openTest(t, Config{URL: sqldbtest.PostgresSchema(t), DataDir: t.TempDir()})
	s := newShop(t, newWorld(t, db, nil), nil)
	o1 := s.order("GUARD-1", 1_000, "")
	o2 := s.order("GUARD-2", 2_000, "")
	ctx := context.Background()
	runs := 0
	err := db.Transact(ctx, func(tx hebao.Tx) error {
		runs++
		for _, id := range []string{o1.ID, o2.ID} {
			o, err := tx.OrderByID(ctx, id)
			if err != nil {
				return err
			}
			if runs == 1 && id == o2.ID {
				if _, err := rawExec(t, db, `UPDATE orders SET status = 'CLOSED', updated_at = updated_at + 1 WHERE id = ?`, id); err != nil {
					return err
				}
			}
			if o.Status != hebao.OrderNotPaid {
				continue
			}
			next := o
			next.Status = hebao.OrderUserPaying
			next.UpdatedAt = o.UpdatedAt.Add(time.Second)
			if _, err := tx.UpdateOrder(ctx, next, o); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if runs != 2 {
		t.Errorf("the closure ran %d times, want 2: the flush did not see the order change under it", runs)
	}
	transact(t, db, func(tx hebao.Tx) error {
		for id, want := range map[string]hebao.OrderStatus{o1.ID: hebao.OrderUserPaying, o2.ID: hebao.OrderClosed} {
			o, err := tx.OrderByID(ctx, id)
			if err != nil {
				return err
			}
			if o.Status != want {
				t.Errorf("order %s is %s, want %s", id, o.Status, want)
			}
		}
		return nil
	})
}

// TestColumnsOf checks the turning of rows into per-column arrays for unnest, and
// that a row of another shape is refused, not written askew.
func TestColumnsOf(t *testing.T) {
	got, err := columnsOf([][]any{{"a", int64(1)}, {"b", int64(2)}})
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]any{[]string{"a", "b"}, []int64{1, 2}}, got); d != "" {
		t.Errorf("columns (-want +got):\n%s", d)
	}
	for _, rows := range [][][]any{
		{{"a", int64(1)}, {int64(2), int64(2)}},
		{{"a", int64(1)}, {"b", "2"}},
		{{"a", 1}},
	} {
		if _, err := columnsOf(rows); err == nil {
			t.Errorf("columnsOf(%v) took it", rows)
		}
	}
	if got, err := columnsOf(nil); got != nil || err != nil {
		t.Errorf("columnsOf(nil) = %v, %v", got, err)
	}
}

// TestReadAheadAccounts pays two orders in one batch of one server just after the
// other server moved money, so that none of this server's cached balances may be
// trusted: the batch reads ahead, with the chain head, every account the payments
// move money between — the payers' balance, red-packet and points accounts, the
// merchant's account and the source of points — and no closure makes a round trip
// of its own for one while the head is held.
func TestReadAheadAccounts(t *testing.T) {
	url, dir := sqldbtest.PostgresSchema(t), t.TempDir()
	w0 := newWorld(t, openTest(t, Config{URL: url, DataDir: dir}), nil)
	w1 := newWorld(t, openTest(t, Config{URL: url, DataDir: dir}), w0.bank)
	ctx := context.Background()
	s := newShop(t, w0, nil)
	a := w0.customer("13800000091", 1, 10_000)
	b := w0.customer("13800000092", 1, 10_000)
	// A first payment makes the source of points.
	first := s.order("ACCTS-0", 500, "")
	if _, err := s.pay(a, first.ID, "p0"); err != nil {
		t.Fatal(err)
	}
	o1 := s.order("ACCTS-1", 1_000, "")
	o2 := s.order("ACCTS-2", 2_000, "")
	if _, err := w1.transfers.Send(ctx, transferRequest(b, a.Customer.Phone, 100, "t1")); err != nil {
		t.Fatal(err)
	}
	before := w0.db.accountReads.Load()
	pay := func(c hebao.Registered, id, key string) func() error {
		return func() error { _, err := s.pay(c, id, key); return err }
	}
	for i, err := range inOneBatch(t, w0.db, pay(a, o1.ID, "p1"), pay(b, o2.ID, "p2")) {
		if err != nil {
			t.Errorf("payment %d: %v", i+1, err)
		}
	}
	if got := w0.db.accountReads.Load() - before; got != 0 {
		t.Errorf("the payments' closures read %d accounts for themselves, want 0: every one was read ahead", got)
	}
	for _, c := range []struct {
		name string
		acct hebao.AccountID
		want int64
	}{
		{"A", a.Wallet.Account, 10_000 - 500 - 1_000 + 100},
		{"B", b.Wallet.Account, 10_000 - 100 - 2_000},
		{"A's points", a.Wallet.PointsAccount, (500 + 1_000) / 100 * hebao.DefaultPointsPerYuan},
		{"B's points", b.Wallet.PointsAccount, 2_000 / 100 * hebao.DefaultPointsPerYuan},
	} {
		if got := w0.balance(c.acct); got != c.want {
			t.Errorf("%s holds %d, want %d", c.name, got, c.want)
		}
	}
	if got := s.merchantBalance(); got != 3_500 {
		t.Errorf("the merchant holds %d, want 3500", got)
	}
	mustVerify(t, w0.db)
}
