package sqldb

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

var chinaZone = time.FixedZone("CST", 8*3600)

// clock is a settable clock for the database and the interest service.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time  { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) set(t time.Time) { c.mu.Lock(); c.t = t; c.mu.Unlock() }

// clocked opens a database whose transactions take their time from c. The clock is
// set before the database is first used, so the committer sees it.
func clocked(t *testing.T, open func(t *testing.T) *DB, c *clock) *DB {
	db := open(t)
	db.now = c.now
	return db
}

func (w *world) post(from, to hebao.AccountID, amount int64) {
	w.t.Helper()
	err := w.db.Transact(context.Background(), func(tx hebao.Tx) error {
		return tx.Post(context.Background(), &hebao.Transfer{ID: hebao.NewID("trf"), Kind: hebao.TransferTest, Postings: hebao.Move(from, to, hebao.CNY, amount)})
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

func interestOf(t *testing.T, db *DB, walletID string) hebao.InterestAccount {
	t.Helper()
	var a hebao.InterestAccount
	err := db.View(context.Background(), func(tx hebao.Tx) error {
		var err error
		a, err = tx.WalletInterest(context.Background(), walletID)
		return err
	})
	if err != nil && hebao.ErrorCode(err) != hebao.CodeNotFound {
		t.Fatal(err)
	}
	return a
}

// TestInterestDayEndBalances: a day accrues on the balance at its end, whatever
// moved after; tier 4 earns nothing, a frozen wallet earns; the credit day pays each
// wallet once, from the interest-expense account, and running it again pays nothing.
func TestInterestDayEndBalances(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 3, 19, 10, 0, 0, 0, chinaZone)}
		db := clocked(t, open, c)
		w := newWorld(t, db, nil)
		a := w.customer("13800000001", 3, 1_000_000)
		b := w.customer("13800000002", 4, 1_000_000)
		cc := w.customer("13800000003", 2, 500_000)
		d := w.customer("13800000004", 1, 200_000)
		if err := db.Transact(ctx, func(tx hebao.Tx) error { return tx.SetWalletStatus(ctx, d.Wallet.ID, hebao.WalletFrozen) }); err != nil {
			t.Fatal(err)
		}
		svc := &hebao.InterestService{Store: db, AnnualRatePPM: 3_500, Now: c.now, Chunk: 2}

		// After the 19th has ended: money in, and a wallet opened.
		c.set(time.Date(2026, 3, 20, 0, 0, 30, 0, chinaZone))
		w.post(w.funding, a.Wallet.Account, 300_000)
		w.post(cc.Wallet.Account, w.funding, 500_000)
		late := w.customer("13800000005", 3, 900_000)
		c.set(time.Date(2026, 3, 20, 0, 1, 0, 0, chinaZone))
		r, err := svc.Accrue(ctx, "2026-03-19")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != hebao.InterestDone || r.Wallets != 3 || r.Accrued != (1_000_000+500_000+200_000)*3_500 {
			t.Fatalf("run of the 19th: %+v", r)
		}
		for _, tt := range []struct {
			who     hebao.Registered
			accrued int64
			balance int64
		}{{a, 1_000_000 * 3_500, 1_000_000}, {b, 0, 0}, {cc, 500_000 * 3_500, 500_000}, {d, 200_000 * 3_500, 200_000}, {late, 0, 0}} {
			got := interestOf(t, db, tt.who.Wallet.ID)
			if got.Accrued != tt.accrued || got.LastBalance != tt.balance {
				t.Errorf("wallet %s: %+v, want accrued %d on %d", tt.who.Wallet.ID, got, tt.accrued, tt.balance)
			}
		}

		// The 20th: a's day ends at 1,200,000; money after midnight does not count.
		c.set(time.Date(2026, 3, 20, 12, 0, 0, 0, chinaZone))
		w.post(a.Wallet.Account, w.funding, 100_000)
		c.set(time.Date(2026, 3, 21, 0, 0, 10, 0, chinaZone))
		w.post(w.funding, a.Wallet.Account, 5_000_000)
		c.set(time.Date(2026, 3, 21, 0, 1, 0, 0, chinaZone))
		// While the job runs, more money arrives: it is the 21st's.
		svc.Progress = func(r hebao.InterestRun) {
			if r.Status == hebao.InterestAccruing && r.Cursor != "" && svc.Progress != nil {
				svc.Progress = nil
				for _, x := range []hebao.Registered{a, cc, d, late} {
					w.post(w.funding, x.Wallet.Account, 50_000)
				}
			}
		}
		r, err = svc.Accrue(ctx, "2026-03-20")
		if err != nil {
			t.Fatal(err)
		}
		// a: (1,000,000 + 1,200,000) × 3,500 / 360,000,000 = 21.39 → 21 fen;
		// cc: 500,000 × 3,500 = 4.86 → 4; d: 2 × 200,000 × 3,500 = 3.89 → 3;
		// late: 900,000 × 3,500 = 8.75 → 8.
		if r.Status != hebao.InterestDone || r.Payees != 4 || r.Credited != 21+4+3+8 {
			t.Fatalf("run of the 20th: %+v", r)
		}
		for _, tt := range []struct {
			who   hebao.Registered
			fen   int64
			carry int64
			bal   int64
		}{
			{a, 21, 2_200_000*3_500 - 21*360_000_000, 1_200_000 + 5_000_000},
			{cc, 4, 500_000*3_500 - 4*360_000_000, 0},
			{d, 3, 400_000*3_500 - 3*360_000_000, 200_000},
			{late, 8, 900_000*3_500 - 8*360_000_000, 900_000},
		} {
			got := interestOf(t, db, tt.who.Wallet.ID)
			if got.Accrued != tt.carry || got.CreditedThrough != "2026-03-20" {
				t.Errorf("wallet %s: %+v, want %d carried", tt.who.Wallet.ID, got, tt.carry)
			}
			if bal := w.balance(tt.who.Wallet.Account); bal != tt.bal+50_000+tt.fen {
				t.Errorf("wallet %s: balance %d, want %d", tt.who.Wallet.ID, bal, tt.bal+50_000+tt.fen)
			}
			if n := w.movementCount(tt.who.Wallet.ID, hebao.MovementInterest); n != 1 {
				t.Errorf("wallet %s: %d interest movements", tt.who.Wallet.ID, n)
			}
		}
		again, err := svc.Accrue(ctx, "2026-03-20")
		if err != nil || again != r {
			t.Fatalf("the 20th again: %+v, %v; want %+v", again, err, r)
		}
		if n := rawInt(t, db, `SELECT COUNT(*) FROM transfers WHERE kind = 'interest'`); n != 4 {
			t.Errorf("%d interest transfers, want 4", n)
		}
		if n := rawInt(t, db, `SELECT balance FROM accounts WHERE kind = 'interest_expense'`); n != -36 {
			t.Errorf("interest expense %d, want -36", n)
		}
		mustVerify(t, db)
	})
}

// TestInterestResumes: a job stopped between any two of its transactions — while
// accruing, and while crediting — continues where it stopped when run again, and
// every wallet accrues and is paid exactly once.
func TestInterestResumes(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2026, 6, 20, 10, 0, 0, 0, chinaZone)}
		db := clocked(t, open, c)
		w := newWorld(t, db, nil)
		const n = 23
		var ws []hebao.Registered
		for i := range n {
			ws = append(ws, w.customer(fmt.Sprintf("138%08d", i), 1+i%3, 1_000_000)) // 9.72 fen a day
		}
		c.set(time.Date(2026, 6, 21, 0, 1, 0, 0, chinaZone))
		stops := 0
		for _, phase := range []hebao.InterestRunStatus{hebao.InterestAccruing, hebao.InterestCrediting} {
			for stop := 0; stop < 2; stop++ {
				stopCtx, cancel := context.WithCancel(ctx)
				svc := &hebao.InterestService{Store: db, AnnualRatePPM: 3_500, Now: c.now, Chunk: 5,
					Progress: func(r hebao.InterestRun) {
						if r.Status == phase {
							cancel()
						}
					}}
				_, err := svc.Accrue(stopCtx, "2026-06-20")
				cancel()
				if err == nil {
					t.Fatalf("phase %s, stop %d: the job was not stopped", phase, stop)
				}
				stops++
			}
		}
		svc := &hebao.InterestService{Store: db, AnnualRatePPM: 9_999, Now: c.now, Chunk: 5} // the run keeps its own rate
		r, err := svc.Accrue(ctx, "2026-06-20")
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != hebao.InterestDone || r.Wallets != n || r.Payees != n || r.Credited != 9*n || r.RatePPM != 3_500 {
			t.Fatalf("run after %d stops: %+v", stops, r)
		}
		for _, x := range ws {
			if bal := w.balance(x.Wallet.Account); bal != 1_000_009 {
				t.Errorf("wallet %s: balance %d, want 1,000,009", x.Wallet.ID, bal)
			}
		}
		if got := rawInt(t, db, `SELECT SUM(accrued) FROM interest_accounts`); got != n*(3_500_000_000-9*360_000_000) {
			t.Errorf("carried %d", got)
		}
		mustVerify(t, db)
	})
}

// BenchmarkInterestAccrue times one day's accrual over HEBAO_BENCH_INTEREST_WALLETS
// wallets (default 1,000,000) on SQLite: three in four real-named, with 10,000
// transfers made after the day ended. Run it with
//
//	go test ./sqldb -run '^$' -bench InterestAccrue -benchtime 1x -count 3 -timeout 30m
func BenchmarkInterestAccrue(b *testing.B) {
	ctx := context.Background()
	n := 1_000_000
	if s := os.Getenv("HEBAO_BENCH_INTEREST_WALLETS"); s != "" {
		var err error
		if n, err = strconv.Atoi(s); err != nil {
			b.Fatal(err)
		}
	}
	c := &clock{t: time.Date(2026, 11, 24, 10, 0, 0, 0, chinaZone)}
	db := openTest(b, Config{DataDir: b.TempDir(), Now: c.now})
	w := newWorld(b, db, nil)
	seedWallets(b, db, n, c.now())

	// After the day's end: transfers that the day-end balances must take back out.
	c.set(time.Date(2026, 11, 25, 0, 0, 5, 0, chinaZone))
	var accts []hebao.AccountID
	rs, err := db.b.(*sqliteDB).r.QueryContext(ctx, `SELECT account_id FROM wallets ORDER BY id LIMIT 10000`)
	if err != nil {
		b.Fatal(err)
	}
	for rs.Next() {
		var id hebao.AccountID
		rs.Scan(&id)
		accts = append(accts, id)
	}
	rs.Close()
	for i := 0; i < len(accts); i += 100 {
		err := db.Transact(ctx, func(tx hebao.Tx) error {
			for _, id := range accts[i:min(i+100, len(accts))] {
				if err := tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("trf"), Kind: hebao.TransferTest, Postings: hebao.Move(w.funding, id, hebao.CNY, 777)}); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	svc := &hebao.InterestService{Store: db, AnnualRatePPM: 3_500, Now: func() time.Time { return time.Now().AddDate(1, 0, 0) }}
	day := time.Date(2026, 11, 24, 0, 0, 0, 0, chinaZone)
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r, err := svc.Accrue(ctx, day.AddDate(0, 0, i).Format(time.DateOnly))
		if err != nil {
			b.Fatal(err)
		}
		if r.Wallets < int64(n/2) {
			b.Fatalf("only %d wallets accrued", r.Wallets)
		}
	}
	el := time.Since(start)
	b.ReportMetric(el.Seconds()/float64(b.N), "s/run")
	b.ReportMetric(float64(n)*float64(b.N)/el.Seconds(), "wallets/s")
}

// seedWallets writes n customers with wallets straight into SQLite, in one
// transaction: wallet i holds (i mod 1,000) × 1,000 + 100 fen, tier 4 when i is a
// multiple of 4. The balances come from no transfer: the ledger would not verify,
// which the benchmark does not ask.
func seedWallets(b *testing.B, db *DB, n int, at time.Time) {
	b.Helper()
	ctx := context.Background()
	s := db.b.(*sqliteDB)
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer tx.Rollback()
	const base = 10_000_000 // above every account id the test made
	stmts := []string{
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
		 INSERT INTO accounts (id, kind, unit, owner, may_go_negative, balance, created_at)
		 SELECT ? + i, 'wallet', 'CNY', printf('wal_%026d', i), 0, (i % 1000) * 1000 + 100, ? FROM c`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
		 INSERT INTO customers (id, phone, password_hash, created_at)
		 SELECT printf('cus_%026d', i), printf('2%010d', i), 'x', ? FROM c`,
		`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < ?)
		 INSERT INTO wallets (id, customer_id, status, tier, account_id, promo_account_id, points_account_id, created_at)
		 SELECT printf('wal_%026d', i), printf('cus_%026d', i), 'active', CASE WHEN i % 4 = 0 THEN 4 ELSE 1 + i % 3 END,
		        ? + i, ? + i, ? + i, 0 FROM c`,
	}
	args := [][]any{{n, base, at.UnixMicro()}, {n, at.UnixMicro()}, {n, base, base, base}}
	for i, q := range stmts {
		if _, err := tx.ExecContext(ctx, q, args[i]...); err != nil {
			b.Fatalf("seed: %v", err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}

// TestInterestYearOnTheStores is the root package's hand-worked year (¥10,000.00 at
// 0.35%, basis 360, credited on the four 20ths: 768, 895, 896 and 887 fen) on SQLite
// and PostgreSQL, every day run twice.
func TestInterestYearOnTheStores(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ctx := context.Background()
		c := &clock{t: time.Date(2025, 12, 31, 10, 0, 0, 0, chinaZone)}
		db := clocked(t, open, c)
		w := newWorld(t, db, nil)
		rich := w.customer("13800000001", 3, 1_000_000)
		svc := &hebao.InterestService{Store: db, AnnualRatePPM: 3_500, Now: c.now}
		var credits []int64
		for d := time.Date(2026, 1, 1, 0, 0, 0, 0, chinaZone); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
			c.set(d.AddDate(0, 0, 1).Add(time.Minute))
			r, err := svc.Accrue(ctx, d.Format(time.DateOnly))
			if err != nil {
				t.Fatal(err)
			}
			if again, err := svc.Accrue(ctx, d.Format(time.DateOnly)); err != nil || again != r {
				t.Fatalf("%s again: %+v, %v", r.Date, again, err)
			}
			if r.Credited != 0 {
				credits = append(credits, r.Credited)
			}
		}
		if fmt.Sprint(credits) != fmt.Sprint([]int64{768, 895, 896, 887}) {
			t.Errorf("credits %v, want [768 895 896 887]", credits)
		}
		if got := w.balance(rich.Wallet.Account); got != 1_003_446 {
			t.Errorf("balance %d, want 1,003,446", got)
		}
		if got := interestOf(t, db, rich.Wallet.ID); got.Accrued != 38_670_494_500 {
			t.Errorf("carried %d, want 38,670,494,500", got.Accrued)
		}
		mustVerify(t, db)
	})
}
