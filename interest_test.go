package hebao_test

import (
	"context"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
)

var china = time.FixedZone("CST", 8*3600)

func TestDailyAccrualAndSplit(t *testing.T) {
	for _, tt := range []struct {
		balance, rate, want int64
		code                string
	}{
		{1_000_000, 3_500, 3_500_000_000, ""},
		{1, 3_500, 3_500, ""},
		{0, 3_500, 0, ""},
		{-5, 3_500, 0, ""},
		{1_000_000, 0, 0, ""},
		{1 << 62, 3_500, 0, hebao.CodeInvalidRequest},
	} {
		got, err := hebao.DailyAccrual(tt.balance, tt.rate)
		if hebao.ErrorCode(err) != tt.code || got != tt.want {
			t.Errorf("DailyAccrual(%d, %d) = %d, %v; want %d, %q", tt.balance, tt.rate, got, err, tt.want, tt.code)
		}
	}
	for _, tt := range []struct{ accrued, basis, fen, carry int64 }{
		{79 * 3_500_000_000, 360, 768, 20_000_000}, // ¥10,000 for 79 days at 0.35%: 768.06 fen
		{359_999_999, 360, 0, 359_999_999},         // short of a fen: all carried
		{360_000_000, 360, 1, 0},
		{365_000_000, 365, 1, 0},
		{0, 360, 0, 0},
	} {
		fen, carry := hebao.InterestSplit(tt.accrued, tt.basis)
		if fen != tt.fen || carry != tt.carry {
			t.Errorf("InterestSplit(%d, %d) = %d, %d; want %d, %d", tt.accrued, tt.basis, fen, carry, tt.fen, tt.carry)
		}
	}
}

func TestInterestCreditDaysAndDates(t *testing.T) {
	for _, tt := range []struct {
		date string
		want bool
	}{
		{"2026-03-20", true}, {"2026-06-20", true}, {"2026-09-20", true}, {"2026-12-20", true},
		{"2026-03-21", false}, {"2026-01-20", false}, {"2026-12-19", false},
	} {
		d, err := hebao.ParseInterestDate(tt.date)
		if err != nil {
			t.Fatal(err)
		}
		if got := hebao.IsInterestCreditDay(d); got != tt.want {
			t.Errorf("IsInterestCreditDay(%s) = %v", tt.date, got)
		}
	}
	for _, bad := range []string{"", "2026-02-30", "2026-1-2", "1999-12-31", "2026-01-02T00:00:00Z"} {
		if _, err := hebao.ParseInterestDate(bad); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
			t.Errorf("ParseInterestDate(%q): %v, want invalid_request", bad, err)
		}
	}
	for tier, want := range map[int]bool{0: false, 1: true, 2: true, 3: true, 4: false} {
		if hebao.EarnsInterest(tier) != want {
			t.Errorf("EarnsInterest(%d) != %v", tier, want)
		}
	}
}

// interestWorld is an in-memory store with a settable clock and a funding account.
type interestWorld struct {
	t       *testing.T
	now     time.Time
	store   *inmem.Store
	funding hebao.AccountID
	svc     *hebao.InterestService
}

func newInterestWorld(t *testing.T, now time.Time) *interestWorld {
	w := &interestWorld{t: t, now: now}
	w.store = inmem.New(func() time.Time { return w.now })
	w.svc = &hebao.InterestService{Store: w.store, AnnualRatePPM: 3_500, Now: func() time.Time { return w.now }, Chunk: 2}
	w.do(func(tx hebao.Tx) error {
		a, err := tx.CreateAccount(context.Background(), hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, MayGoNegative: true})
		w.funding = a.ID
		return err
	})
	return w
}

func (w *interestWorld) do(fn func(tx hebao.Tx) error) {
	w.t.Helper()
	if err := w.store.Transact(context.Background(), fn); err != nil {
		w.t.Fatal(err)
	}
}

// wallet opens a wallet of tier holding balance fen.
func (w *interestWorld) wallet(phone string, tier int, balance int64) hebao.Wallet {
	w.t.Helper()
	ctx := context.Background()
	var out hebao.Wallet
	w.do(func(tx hebao.Tx) error {
		c := hebao.Customer{ID: hebao.NewID("cus"), Phone: phone, CreatedAt: tx.Now()}
		if err := tx.CreateCustomer(ctx, c); err != nil {
			return err
		}
		out = hebao.Wallet{ID: hebao.NewID("wal"), CustomerID: c.ID, Status: hebao.WalletActive, Tier: tier, CreatedAt: tx.Now()}
		for _, p := range []*hebao.AccountID{&out.Account, &out.PromoAccount, &out.PointsAccount} {
			a, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountWallet, Unit: hebao.CNY, Owner: out.ID})
			if err != nil {
				return err
			}
			*p = a.ID
		}
		if err := tx.CreateWallet(ctx, out); err != nil {
			return err
		}
		if balance == 0 {
			return nil
		}
		return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("trf"), Kind: hebao.TransferTest, Postings: hebao.Move(w.funding, out.Account, hebao.CNY, balance)})
	})
	return out
}

func (w *interestWorld) balance(id hebao.AccountID) int64 {
	var b int64
	_ = w.store.View(context.Background(), func(tx hebao.Tx) error {
		as, err := tx.Accounts(context.Background(), id)
		b = as[id].Balance
		return err
	})
	return b
}

// accrue runs date's job a minute after the day ended, as the scheduler would.
func (w *interestWorld) accrue(date string) hebao.InterestRun {
	w.t.Helper()
	d, err := hebao.ParseInterestDate(date)
	if err != nil {
		w.t.Fatal(err)
	}
	w.now = d.AddDate(0, 0, 1).Add(time.Minute)
	r, err := w.svc.Accrue(context.Background(), date)
	if err != nil {
		w.t.Fatalf("Accrue(%s): %v", date, err)
	}
	return r
}

// TestInterestYear: ¥10,000.00 in a tier-3 wallet for the whole of 2026 at 0.35%,
// basis 360, credited on the four 20ths, each credit earning from the next day.
// By hand (fen-ppm-days; a fen is 360,000,000 of them):
//
//	Q1  1 Jan–20 Mar, 79 days × 1,000,000 × 3,500 = 276,500,000,000           → 768 fen, carry  20,000,000
//	Q2 21 Mar–20 Jun, 92 days × 1,000,768 × 3,500 + carry = 322,267,296,000  → 895 fen, carry  67,296,000
//	Q3 21 Jun–20 Sep, 92 days × 1,001,663 × 3,500 + carry = 322,602,782,000  → 896 fen, carry  42,782,000
//	Q4 21 Sep–20 Dec, 91 days × 1,002,559 × 3,500 + carry = 319,357,823,500  → 887 fen, carry  37,823,500
//	21–31 Dec, 11 days × 1,003,446 × 3,500 + carry = 38,670,494,500 accrued, not yet paid
//
// ¥34.46 paid in the year; the balance ends at 1,003,446 fen.
func TestInterestYear(t *testing.T) {
	w := newInterestWorld(t, time.Date(2025, 12, 31, 10, 0, 0, 0, china))
	rich := w.wallet("13800000001", 3, 1_000_000)
	anon := w.wallet("13800000002", 4, 1_000_000) // not real-named: earns nothing
	var credits []int64
	for d := time.Date(2026, 1, 1, 0, 0, 0, 0, china); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		r := w.accrue(d.Format(time.DateOnly))
		if r.Status != hebao.InterestDone || r.Wallets != 1 {
			t.Fatalf("%s: run %+v", r.Date, r)
		}
		if r.Credited != 0 {
			credits = append(credits, r.Credited)
		}
	}
	if want := []int64{768, 895, 896, 887}; !equal(credits, want) {
		t.Errorf("credits %v, want %v", credits, want)
	}
	if got := w.balance(rich.Account); got != 1_003_446 {
		t.Errorf("balance %d, want 1,003,446", got)
	}
	if got := w.balance(anon.Account); got != 1_000_000 {
		t.Errorf("tier 4 balance %d, want 1,000,000", got)
	}
	var acct hebao.InterestAccount
	w.do(func(tx hebao.Tx) error {
		var err error
		acct, err = tx.WalletInterest(context.Background(), rich.ID)
		return err
	})
	if acct.Accrued != 38_670_494_500 || acct.LastDate != "2026-12-31" || acct.CreditedThrough != "2026-12-20" {
		t.Errorf("interest account %+v", acct)
	}
	// The year's history shows four interest movements.
	var n int
	w.do(func(tx hebao.Tx) error {
		ms, err := tx.Movements(context.Background(), rich.ID, "", 100)
		for _, m := range ms {
			if m.Kind == hebao.MovementInterest {
				n++
			}
		}
		return err
	})
	if n != 4 {
		t.Errorf("%d interest movements, want 4", n)
	}
}

func equal(a, b []int64) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestInterestOnceAndInOrder(t *testing.T) {
	w := newInterestWorld(t, time.Date(2026, 3, 19, 10, 0, 0, 0, china))
	x := w.wallet("13800000001", 2, 36_000_000) // ¥360,000.00: 350 fen a day at 0.35%, basis 360
	ctx := context.Background()

	// Not before the day has ended.
	w.now = time.Date(2026, 3, 19, 23, 59, 0, 0, china)
	if _, err := w.svc.Accrue(ctx, "2026-03-19"); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Fatalf("accrue before the day ended: %v", err)
	}
	w.accrue("2026-03-19")
	// Not out of order.
	w.now = time.Date(2026, 3, 23, 0, 1, 0, 0, china)
	if _, err := w.svc.Accrue(ctx, "2026-03-21"); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Fatalf("accrue skipping a day: %v", err)
	}
	first := w.accrue("2026-03-20")
	// 2 days × 36,000,000 × 3,500 / 360,000,000 = 700 fen.
	if first.Credited != 700 || first.Payees != 1 || w.balance(x.Account) != 36_000_700 {
		t.Fatalf("credit: %+v, balance %d", first, w.balance(x.Account))
	}
	again := w.accrue("2026-03-20")
	if again != first || w.balance(x.Account) != 36_000_700 {
		t.Fatalf("second run of a day changed something: %+v, balance %d", again, w.balance(x.Account))
	}
	if _, err := w.svc.Accrue(ctx, "2026-03-18"); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Fatalf("accrue a day before the first: %v", err)
	}
	w.now = time.Date(2026, 3, 23, 0, 1, 0, 0, china)
	days, err := w.svc.Pending(ctx)
	if err != nil || len(days) != 2 || days[0] != "2026-03-21" || days[1] != "2026-03-22" {
		t.Fatalf("Pending = %v, %v", days, err)
	}
}

// TestInterestRun: the scheduler catches up every day that is due, then waits for
// the next midnight until stopped.
func TestInterestRun(t *testing.T) {
	w := newInterestWorld(t, time.Date(2026, 5, 1, 10, 0, 0, 0, china))
	w.wallet("13800000001", 3, 1_000_000)
	w.accrue("2026-05-01")
	w.now = time.Date(2026, 5, 4, 0, 0, 30, 0, china) // the 3rd ended only 30 s ago: not yet due
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		w.svc.Run(ctx, func(err error) { t.Errorf("Run: %v", err) })
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var last hebao.InterestRun
		_ = w.store.View(context.Background(), func(tx hebao.Tx) error {
			var err error
			last, err = tx.LatestInterestRun(context.Background())
			return err
		})
		if last.Date == "2026-05-02" && last.Status == hebao.InterestDone {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the scheduler did not catch up: latest run %+v", last)
		}
		time.Sleep(10 * time.Millisecond)
	}
	cancel()
	<-done
	var acct hebao.InterestAccount
	w.do(func(tx hebao.Tx) error {
		as, err := tx.InterestDue(context.Background(), "2026-06-20", 0, "", 10)
		if len(as) == 1 {
			acct = as[0]
		}
		return err
	})
	if acct.LastDate != "2026-05-02" || acct.Accrued != 2*3_500_000_000 {
		t.Errorf("after the scheduler: %+v", acct)
	}
}
