package sqldb

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

var testKey = []byte("0123456789abcdef0123456789abcdef")

// suite runs a test once per backend: the one storage suite for every database.
func suite(t *testing.T, test func(t *testing.T, open func(t *testing.T) *DB)) {
	for _, backend := range sqldbtest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			url := sqldbtest.URL(t, backend)
			dir := t.TempDir()
			test(t, func(t *testing.T) *DB {
				return openTest(t, Config{URL: url, DataDir: dir})
			})
		})
	}
}

func openTest(t testing.TB, cfg Config) *DB {
	t.Helper()
	if cfg.LedgerKey == nil {
		cfg.LedgerKey = testKey
	}
	db, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// makeAccounts creates n test accounts (constrained or not) and funds each
// constrained one with fund from a shared unconstrained source, which it returns first.
func makeAccounts(t testing.TB, db *DB, n int, fund int64) (source hebao.AccountID, ids []hebao.AccountID) {
	t.Helper()
	ctx := context.Background()
	err := db.Transact(ctx, func(tx hebao.Tx) error {
		src, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, MayGoNegative: true})
		if err != nil {
			return err
		}
		source = src.ID
		ids = ids[:0]
		for i := 0; i < n; i++ {
			a, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY})
			if err != nil {
				return err
			}
			ids = append(ids, a.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatalf("create accounts: %v", err)
	}
	if fund > 0 {
		for _, id := range ids {
			post(t, db, source, id, fund)
		}
	}
	return source, ids
}

func post(t testing.TB, db *DB, from, to hebao.AccountID, amount int64) *hebao.Transfer {
	t.Helper()
	tr := &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(from, to, hebao.CNY, amount)}
	if err := db.Transact(context.Background(), func(tx hebao.Tx) error { return tx.Post(context.Background(), tr) }); err != nil {
		t.Fatalf("post %d from %d to %d: %v", amount, from, to, err)
	}
	return tr
}

func mustVerify(t testing.TB, db *DB) *hebao.VerifyReport {
	t.Helper()
	r, err := db.Verify(context.Background())
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if !r.OK {
		t.Fatalf("Verify found problems:\n%s", r)
	}
	return r
}

func TestPostAndVerify(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		src, ids := makeAccounts(t, db, 2, 1000)
		tr := post(t, db, ids[0], ids[1], 250)
		if tr.Seq != 3 {
			t.Errorf("seq = %d, want 3 (two fundings, then this one)", tr.Seq)
		}
		if tr.Hash == ([32]byte{}) || tr.Hash != tr.ChainHash(tr.PrevHash) {
			t.Errorf("hash not sealed: %x", tr.Hash)
		}
		got, err := db.Balances(context.Background(), src, ids[0], ids[1])
		if err != nil {
			t.Fatal(err)
		}
		want := map[hebao.AccountID]int64{src: -2000, ids[0]: 750, ids[1]: 1250}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("balances (-want +got):\n%s", d)
		}
		r := mustVerify(t, db)
		if r.Transfers != 3 || r.HeadSeq != 3 || r.Sums[hebao.CNY] != 0 {
			t.Errorf("report: %+v", r)
		}
	})
}

func TestReopenKeepsChainAndRefusesWrongKey(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		_, ids := makeAccounts(t, db, 2, 100)
		db.Close()
		db2 := open(t)
		tr := post(t, db2, ids[0], ids[1], 1)
		if tr.Seq != 3 {
			t.Errorf("after reopen seq = %d, want 3", tr.Seq)
		}
		mustVerify(t, db2)
		cfg := db2.cfg
		db2.Close()
		cfg.LedgerKey = []byte("another key, not this ledger's!!")
		if _, err := Open(context.Background(), cfg); err == nil {
			t.Fatal("Open with the wrong ledger key succeeded")
		}
	})
}

func TestInsufficientFundsLeavesNothing(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		_, ids := makeAccounts(t, db, 2, 100)
		ctx := context.Background()
		err := db.Transact(ctx, func(tx hebao.Tx) error {
			return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(ids[0], ids[1], hebao.CNY, 101)})
		})
		if !errors.Is(err, hebao.ErrInsufficientFunds) {
			t.Fatalf("err = %v, want insufficient_funds", err)
		}
		// A transfer that is fine, then a failing one, in the same closure: all or nothing.
		err = db.Transact(ctx, func(tx hebao.Tx) error {
			if err := tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(ids[0], ids[1], hebao.CNY, 60)}); err != nil {
				return err
			}
			return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(ids[0], ids[1], hebao.CNY, 60)})
		})
		if !errors.Is(err, hebao.ErrInsufficientFunds) {
			t.Fatalf("err = %v, want insufficient_funds", err)
		}
		got, _ := db.Balances(ctx, ids...)
		if got[ids[0]] != 100 || got[ids[1]] != 100 {
			t.Errorf("balances changed by failed closures: %v", got)
		}
		r := mustVerify(t, db)
		if r.Transfers != 2 {
			t.Errorf("transfers = %d, want 2", r.Transfers)
		}
	})
}

func TestBadTransfersRefused(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		src, ids := makeAccounts(t, db, 1, 0)
		ctx := context.Background()
		var pts hebao.Account
		if err := db.Transact(ctx, func(tx hebao.Tx) (err error) {
			pts, err = tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.POINT, MayGoNegative: true})
			return err
		}); err != nil {
			t.Fatal(err)
		}
		cases := []struct {
			name string
			ps   []hebao.Posting
			code string
		}{
			{"unbalanced", []hebao.Posting{{Account: src, Unit: hebao.CNY, Amount: -5}, {Account: ids[0], Unit: hebao.CNY, Amount: 4}}, hebao.CodeInvalidRequest},
			{"unit mismatch", hebao.Move(pts.ID, ids[0], hebao.POINT, 5), hebao.CodeInvalidRequest},
			{"missing account", hebao.Move(src, 999999, hebao.CNY, 5), hebao.CodeNotFound},
			{"one posting", []hebao.Posting{{Account: src, Unit: hebao.CNY, Amount: 0}}, hebao.CodeInvalidRequest},
		}
		for _, c := range cases {
			err := db.Transact(ctx, func(tx hebao.Tx) error {
				return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: c.ps})
			})
			if got := hebao.ErrorCode(err); got != c.code {
				t.Errorf("%s: code %q (%v), want %q", c.name, got, err, c.code)
			}
		}
		if r := mustVerify(t, db); r.Transfers != 0 {
			t.Errorf("transfers = %d, want 0", r.Transfers)
		}
	})
}

// TestOverdrawRace: 50 concurrent transfers of 100 from an account holding 1,000.
// Exactly 10 succeed; on PostgreSQL half of them go through a second DB handle, as a
// second server process would.
func TestOverdrawRace(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		dbs := []*DB{db}
		if db.Dialect() == "postgres" {
			dbs = append(dbs, open(t))
		}
		_, ids := makeAccounts(t, db, 2, 0)
		src, _ := makeAccounts(t, db, 0, 0)
		post(t, db, src, ids[0], 1000)
		ctx := context.Background()
		var ok, insufficient, other atomic.Int64
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := 0; i < 50; i++ {
			wg.Add(1)
			go func(d *DB) {
				defer wg.Done()
				<-start
				err := d.Transact(ctx, func(tx hebao.Tx) error {
					return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(ids[0], ids[1], hebao.CNY, 100)})
				})
				switch {
				case err == nil:
					ok.Add(1)
				case errors.Is(err, hebao.ErrInsufficientFunds):
					insufficient.Add(1)
				default:
					other.Add(1)
					t.Errorf("unexpected error: %v", err)
				}
			}(dbs[i%len(dbs)])
		}
		close(start)
		wg.Wait()
		if ok.Load() != 10 || insufficient.Load() != 40 || other.Load() != 0 {
			t.Errorf("ok=%d insufficient=%d other=%d, want 10/40/0", ok.Load(), insufficient.Load(), other.Load())
		}
		got, _ := db.Balances(ctx, ids...)
		if got[ids[0]] != 0 || got[ids[1]] != 1000 {
			t.Errorf("balances %v", got)
		}
		mustVerify(t, db)
	})
}

// TestBankConcurrency is the classic bank test: 32 goroutines move random amounts
// among 8 accounts while a reader keeps taking snapshots; every snapshot sums to the
// starting total and no balance is ever negative. Half the goroutines go through a
// second store on the same database, as a second server process would, so stale
// caches, guard refusals and deadlocks between processes are all exercised and must
// never reach a caller.
func TestBankConcurrency(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		dbs := []*DB{db, open(t)}
		const accounts, start, workers, opsEach = 8, 10_000, 32, 60
		_, ids := makeAccounts(t, db, accounts, start)
		ctx := context.Background()
		var wg sync.WaitGroup
		done := make(chan struct{})
		var snapshots atomic.Int64
		go func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				bal, err := db.Balances(ctx, ids...)
				if err != nil {
					t.Errorf("snapshot: %v", err)
					return
				}
				var sum int64
				for _, b := range bal {
					sum += b
					if b < 0 {
						t.Errorf("negative balance in snapshot: %v", bal)
					}
				}
				if sum != accounts*start {
					t.Errorf("snapshot sums to %d, want %d: %v", sum, accounts*start, bal)
				}
				snapshots.Add(1)
			}
		}()
		var committed, refused atomic.Int64
		for w := 0; w < workers; w++ {
			wg.Add(1)
			go func(seed int) {
				defer wg.Done()
				r := newRand(uint64(seed))
				for i := 0; i < opsEach; i++ {
					from, to := ids[r.IntN(accounts)], ids[r.IntN(accounts)]
					if from == to {
						continue
					}
					amount := 1 + r.Int64N(3000)
					err := dbs[seed%2].Transact(ctx, func(tx hebao.Tx) error {
						return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(from, to, hebao.CNY, amount)})
					})
					switch {
					case err == nil:
						committed.Add(1)
					case errors.Is(err, hebao.ErrInsufficientFunds):
						refused.Add(1)
					default:
						t.Errorf("transfer: %v", err)
					}
				}
			}(w)
		}
		wg.Wait()
		close(done)
		if committed.Load() == 0 || snapshots.Load() == 0 {
			t.Errorf("committed=%d snapshots=%d: the test did not exercise anything", committed.Load(), snapshots.Load())
		}
		r := mustVerify(t, db)
		if r.Transfers != int64(accounts)+committed.Load() {
			t.Errorf("journal has %d transfers, want %d", r.Transfers, int64(accounts)+committed.Load())
		}
		t.Logf("%d committed, %d refused, %d snapshots", committed.Load(), refused.Load(), snapshots.Load())
	})
}

// TestGroupCommitIsolation holds the committer while 24 closures queue, so they share
// one batch; the ones that fail, in every way a closure can, leave nothing behind.
func TestGroupCommitIsolation(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		var sizes []int
		var mu sync.Mutex
		db := open(t)
		db.cfg.OnCommit = func(n int, _ time.Duration) { mu.Lock(); sizes = append(sizes, n); mu.Unlock() }
		src, ids := makeAccounts(t, db, 2, 0)
		ctx := context.Background()

		release, running := make(chan struct{}), make(chan struct{})
		blockerDone := make(chan error, 1)
		go func() {
			blockerDone <- db.Transact(ctx, func(tx hebao.Tx) error { close(running); <-release; return nil })
		}()
		<-running
		const n = 24
		type outcome struct {
			i   int
			err error
			acc hebao.AccountID
		}
		results := make(chan outcome, n)
		for i := 0; i < n; i++ {
			go func(i int) {
				var acc hebao.AccountID
				err := db.Transact(ctx, func(tx hebao.Tx) error {
					a, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, Owner: fmt.Sprint("closure-", i)})
					if err != nil {
						return err
					}
					acc = a.ID
					if err := tx.Post(ctx, &hebao.Transfer{ID: fmt.Sprintf("tr_closure_%d", i), Kind: hebao.TransferTest, Ref: fmt.Sprint(i), Postings: hebao.Move(src, a.ID, hebao.CNY, int64(100+i))}); err != nil {
						return err
					}
					if err := tx.SaveReply(ctx, hebao.NewIdempotencyKey("test", fmt.Sprint("key-", i), nil), hebao.Reply{Status: 201, Body: []byte("ok")}); err != nil {
						return err
					}
					if err := tx.Emit(ctx, hebao.Event{ID: fmt.Sprint("evt-", i), Kind: "test"}); err != nil {
						return err
					}
					switch i % 4 {
					case 1:
						return hebao.Errorf(hebao.CodeLimitExceeded, "closure %d says no", i)
					case 2:
						// Spend more than the account holds after the earlier work succeeded.
						return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(a.ID, ids[0], hebao.CNY, 1_000_000)})
					case 3:
						panic("closure panics")
					}
					return nil
				})
				results <- outcome{i, err, acc}
			}(i)
		}
		// Wait until all of them are queued behind the blocker, then let it go.
		deadline := time.Now().Add(10 * time.Second)
		for len(db.queue) < n && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		close(release)
		if err := <-blockerDone; err != nil {
			t.Fatal(err)
		}
		var okAccounts []hebao.AccountID
		for k := 0; k < n; k++ {
			o := <-results
			wantOK := o.i%4 == 0
			if (o.err == nil) != wantOK {
				t.Errorf("closure %d: err = %v, want success=%v", o.i, o.err, wantOK)
			}
			if o.err == nil {
				okAccounts = append(okAccounts, o.acc)
			}
		}
		mu.Lock()
		if !containsAtLeast(sizes, n) {
			t.Errorf("batch sizes %v: the %d closures did not share one batch", sizes, n)
		}
		mu.Unlock()
		r := mustVerify(t, db)
		// 2 accounts + source before; 6 successful closures made one account each.
		if r.Accounts != 3+n/4 || r.Transfers != n/4 {
			t.Errorf("accounts=%d transfers=%d, want %d and %d", r.Accounts, r.Transfers, 3+n/4, n/4)
		}
		bal, _ := db.Balances(ctx, okAccounts...)
		if len(bal) != n/4 {
			t.Errorf("successful closures' accounts: %v", bal)
		}
		// Replies: only the successful closures' keys were claimed.
		for i := 0; i < n; i++ {
			var got *hebao.Reply
			db.Transact(ctx, func(tx hebao.Tx) (err error) {
				got, err = tx.Reply(ctx, hebao.NewIdempotencyKey("test", fmt.Sprint("key-", i), nil))
				return err
			})
			if (got != nil) != (i%4 == 0) {
				t.Errorf("key-%d claimed = %v", i, got != nil)
			}
		}
		if got := countOutbox(t, db); got != n/4 {
			t.Errorf("outbox has %d events, want %d", got, n/4)
		}
	})
}

func containsAtLeast(sizes []int, n int) bool {
	for _, s := range sizes {
		if s >= n {
			return true
		}
	}
	return false
}

// TestReadOnlyReportsBadHead: a database whose chain head was rewritten refuses to
// open for writing, but opens read-only so that Verify can say what is wrong.
func TestReadOnlyReportsBadHead(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		_, ids := makeAccounts(t, db, 2, 100)
		post(t, db, ids[0], ids[1], 1)
		if _, err := rawExec(t, db, `UPDATE ledger_head SET seq = seq - 1`); err != nil {
			t.Fatal(err)
		}
		cfg := db.cfg
		db.Close()
		if _, err := Open(context.Background(), cfg); err == nil {
			t.Fatal("Open for writing accepted a rewritten chain head")
		}
		cfg.ReadOnly = true
		ro := openTest(t, cfg)
		r, err := ro.Verify(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if r.OK || len(r.Problems) == 0 {
			t.Fatalf("Verify of a rewritten head: %s", r)
		}
		if err := ro.Transact(context.Background(), func(hebao.Tx) error { return nil }); !errors.Is(err, errReadOnly) {
			t.Errorf("Transact on a read-only DB: %v", err)
		}
	})
}

// TestVerifyCatchesAccountAndOrphanTampers: changing an account's sign rule, or
// slipping in a posting that belongs to no transfer, is caught although neither is
// covered by a transfer's hash.
func TestVerifyCatchesAccountAndOrphanTampers(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		var wallet hebao.Account
		if err := db.Transact(ctx, func(tx hebao.Tx) (err error) {
			a, _ := hebao.NewAccount(hebao.AccountWallet, "w1", hebao.CNY, false)
			wallet, err = tx.CreateAccount(ctx, a)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		mustVerify(t, db)
		if _, err := rawExec(t, db, `UPDATE accounts SET may_go_negative = ? WHERE id = ?`, true, wallet.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := db.Verify(ctx); r.OK {
			t.Errorf("a wallet allowed to go negative went unnoticed")
		}
		if _, err := rawExec(t, db, `UPDATE accounts SET may_go_negative = ? WHERE id = ?`, false, wallet.ID); err != nil {
			t.Fatal(err)
		}
		mustVerify(t, db)
		if _, err := rawExec(t, db, `INSERT INTO postings (transfer_seq, idx, account_id, unit, amount) VALUES (999, 0, ?, 'CNY', 5)`, wallet.ID); err != nil {
			t.Fatal(err)
		}
		if r, _ := db.Verify(ctx); r.OK {
			t.Errorf("an orphan posting went unnoticed")
		}
	})
}

// TestStaleCacheAcrossProcesses: two stores on one database, as two server processes
// would be. Each keeps a cache of balances; a cache made stale by the other never lets
// an account be overdrawn (the guarded update refuses and the batch reruns on fresh
// reads) and never refuses a transfer the real balance allows.
func TestStaleCacheAcrossProcesses(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db1 := open(t)
		db2 := open(t)
		src, ids := makeAccounts(t, db1, 1, 0)
		a := ids[0]
		ctx := context.Background()
		try := func(db *DB, from, to hebao.AccountID, amount int64) error {
			return db.Transact(ctx, func(tx hebao.Tx) error {
				return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(from, to, hebao.CNY, amount)})
			})
		}
		post(t, db1, src, a, 100) // db1 now believes a holds 100
		post(t, db2, a, src, 100) // but it holds 0
		if err := try(db1, a, src, 50); !errors.Is(err, hebao.ErrInsufficientFunds) {
			t.Fatalf("spending a stale balance: err = %v, want insufficient_funds", err)
		}
		post(t, db2, src, a, 70) // db1 now believes 0, but a holds 70
		if err := try(db1, a, src, 60); err != nil {
			t.Fatalf("spending a balance the cache thinks is 0: %v", err)
		}
		bal, _ := db1.Balances(ctx, a)
		if bal[a] != 10 {
			t.Errorf("balance %d, want 10", bal[a])
		}
		mustVerify(t, db1)
	})
}

// TestStaleCacheHighBalance: another process spent part of a balance this one has
// cached, and what is left still covers the next spend. The guard has nothing to
// catch, so only the chain head (which moved) tells this process its cache is old:
// the balance it reports after the transfer — what notifications and movement events
// show as balance_after — is the database's, not the cache's.
func TestStaleCacheHighBalance(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db1 := open(t)
		db2 := open(t)
		src, ids := makeAccounts(t, db1, 1, 100) // db1 believes a holds 100
		a := ids[0]
		post(t, db2, a, src, 30) // it holds 70
		ctx := context.Background()
		tr := &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(a, src, hebao.CNY, 10)}
		if err := db1.Transact(ctx, func(tx hebao.Tx) error { return tx.Post(ctx, tr) }); err != nil {
			t.Fatal(err)
		}
		if tr.Balances[a] != 60 {
			t.Errorf("balance after the transfer %d, want 60 (the cache said 100, so 90 would be its stale word)", tr.Balances[a])
		}
		if bal, _ := db1.Balances(ctx, a); bal[a] != 60 {
			t.Errorf("balance %d, want 60", bal[a])
		}
		mustVerify(t, db1)
	})
}

// TestStaleCacheGuardAmongMany: one stale account among the many a batch spends
// from is caught by the guard, and the batch reruns on fresh reads; the other
// accounts are left as they were.
func TestStaleCacheGuardAmongMany(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db1 := open(t)
		db2 := open(t)
		src, ids := makeAccounts(t, db1, 10, 100) // db1 believes each holds 100
		post(t, db2, ids[3], src, 100)            // but ids[3] holds 0
		ctx := context.Background()
		spendAll := func(skip hebao.AccountID) error {
			return db1.Transact(ctx, func(tx hebao.Tx) error {
				for _, id := range ids {
					if id == skip {
						continue
					}
					if err := tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(id, src, hebao.CNY, 50)}); err != nil {
						return err
					}
				}
				return nil
			})
		}
		if err := spendAll(0); !errors.Is(err, hebao.ErrInsufficientFunds) {
			t.Fatalf("spending a stale balance among ten: err = %v, want insufficient_funds", err)
		}
		bal, _ := db1.Balances(ctx, ids...)
		for i, id := range ids {
			if want := map[bool]int64{true: 0, false: 100}[i == 3]; bal[id] != want {
				t.Errorf("after the refused batch account %d holds %d, want %d", i, bal[id], want)
			}
		}
		if err := spendAll(ids[3]); err != nil {
			t.Fatalf("spending the nine real balances: %v", err)
		}
		bal, _ = db1.Balances(ctx, ids...)
		for i, id := range ids {
			if want := map[bool]int64{true: 0, false: 50}[i == 3]; bal[id] != want {
				t.Errorf("account %d holds %d, want %d", i, bal[id], want)
			}
		}
		mustVerify(t, db1)
	})
}

// TestView reads beside the committer and refuses every write.
func TestView(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		src, ids := makeAccounts(t, db, 2, 100)
		post(t, db, ids[0], ids[1], 30)
		ctx := context.Background()
		var got map[hebao.AccountID]hebao.Account
		if err := db.View(ctx, func(tx hebao.Tx) (err error) {
			got, err = tx.Accounts(ctx, ids...)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if got[ids[0]].Balance != 70 || got[ids[1]].Balance != 130 {
			t.Errorf("View read %v", got)
		}
		writes := map[string]func(tx hebao.Tx) error{
			"Post": func(tx hebao.Tx) error {
				return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(src, ids[0], hebao.CNY, 1)})
			},
			"CreateAccount": func(tx hebao.Tx) error {
				_, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY})
				return err
			},
			"SaveReply": func(tx hebao.Tx) error {
				return tx.SaveReply(ctx, hebao.NewIdempotencyKey("s", "k", nil), hebao.Reply{Status: 200})
			},
			"Emit": func(tx hebao.Tx) error { return tx.Emit(ctx, hebao.Event{Kind: "x"}) },
		}
		for name, w := range writes {
			if err := db.View(ctx, w); !errors.Is(err, errViewWrite) {
				t.Errorf("%s in a View: err = %v, want errViewWrite", name, err)
			}
		}
		if r := mustVerify(t, db); r.Transfers != 3 || r.Accounts != 3 {
			t.Errorf("a View changed the ledger: %+v", r)
		}
	})
}
