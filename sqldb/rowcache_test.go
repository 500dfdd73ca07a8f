package sqldb

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

// TestRowCacheSurvivesDispatch: writing notifications, marking outbox events
// delivered and touching a session — what the dispatcher and every request's
// authentication do between payments — leave the committer's row cache of payers
// and payees in place on SQLite. (They once made each batch they shared read every
// payer again, which over HTTP cost more than the payments.)
func TestRowCacheSurvivesDispatch(t *testing.T) {
	db := openTest(t, Config{DataDir: t.TempDir()})
	ctx := context.Background()
	noop := func(hebao.Tx) error { return nil }
	if err := db.Transact(ctx, noop); err != nil { // the cache learns the data version
		t.Fatal(err)
	}
	db.rows.payers["cus_cached"] = payerRow{w: hebao.Wallet{ID: "wal_cached"}}
	now := time.Now().UTC()
	err := db.Transact(ctx, func(tx hebao.Tx) error {
		if err := tx.Emit(ctx, hebao.Event{Kind: "test"}); err != nil {
			return err
		}
		return tx.AddNotification(ctx, hebao.Notification{ID: "ntf_1", CustomerID: "cus_cached", Kind: "payment.succeeded", CreatedAt: now})
	})
	if err != nil {
		t.Fatal(err)
	}
	err = db.Transact(ctx, func(tx hebao.Tx) error {
		es, err := tx.PendingEvents(ctx, 10)
		if err != nil || len(es) != 1 {
			t.Fatalf("pending events %v, %v", es, err)
		}
		if err := tx.MarkDelivered(ctx, []string{es[0].ID}, now); err != nil {
			return err
		}
		return tx.TouchSession(ctx, "ses_nobody", now)
	})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := db.rows.payers["cus_cached"]; !ok {
		t.Error("the row cache was dropped by writes to tables it does not hold")
	}
}

// TestReadersStayOpen: many concurrent reads never close a SQLite reader for want
// of an idle slot (and open it again), which cost every request's authentication
// a connection's set-up.
func TestReadersStayOpen(t *testing.T) {
	db := openTest(t, Config{DataDir: t.TempDir()})
	ctx := context.Background()
	var wg sync.WaitGroup
	for range 32 {
		wg.Go(func() {
			for range 20 {
				err := db.View(ctx, func(tx hebao.Tx) error {
					_, err := tx.SessionByToken(ctx, hebao.TokenHash("nobody"))
					if hebao.ErrorCode(err) == hebao.CodeNotFound {
						return nil
					}
					return err
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	if st := db.b.(*sqliteDB).r.Stats(); st.MaxIdleClosed > 0 {
		t.Errorf("%d readers were closed for want of an idle slot (%d opened in all)", st.MaxIdleClosed, st.OpenConnections)
	}
}

// TestSettingsCache: the committer's cache of wallet settings (WalletSettingsOf, on
// SQLite) answers with what was last saved, whether this handle saved it (a direct
// write drops the cache) or another one did (the data version moves).
func TestSettingsCache(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db1, db2 := open(t), open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
		oneWallet(t, db1, t0)
		threshold := func() int64 {
			t.Helper()
			var got map[string]hebao.WalletSettings
			transact(t, db1, func(tx hebao.Tx) (err error) {
				got, err = tx.WalletSettingsOf(ctx, []string{"wal_1"})
				return err
			})
			return got["wal_1"].SMSThreshold
		}
		save := func(db *DB, threshold int64) {
			t.Helper()
			transact(t, db, func(tx hebao.Tx) error {
				return tx.SaveWalletSettings(ctx, hebao.WalletSettings{WalletID: "wal_1", SMSThreshold: threshold})
			})
		}
		if got, want := threshold(), hebao.DefaultWalletSettings("wal_1").SMSThreshold; got != want {
			t.Fatalf("threshold never saved: %d, want the default %d", got, want)
		}
		threshold() // now from the cache, on SQLite
		save(db1, 700)
		if got := threshold(); got != 700 {
			t.Errorf("after this handle saved 700: %d", got)
		}
		threshold()
		save(db2, 900)
		if got := threshold(); got != 900 {
			t.Errorf("after another handle saved 900: %d", got)
		}
		transact(t, db1, func(tx hebao.Tx) error { // the next batch, sharing nothing
			return nil
		})
		if got := threshold(); got != 900 {
			t.Errorf("a batch later: %d, want 900", got)
		}
		// Saved and read by two closures of one batch.
		var got map[string]hebao.WalletSettings
		errs := inOneBatch(t, db1,
			func() error { return db1.Transact(ctx, func(tx hebao.Tx) error { return nil }) },
			func() error {
				return db1.Transact(ctx, func(tx hebao.Tx) error {
					return tx.SaveWalletSettings(ctx, hebao.WalletSettings{WalletID: "wal_1", SMSThreshold: 1100})
				})
			},
			func() error {
				return db1.Transact(ctx, func(tx hebao.Tx) (err error) {
					got, err = tx.WalletSettingsOf(ctx, []string{"wal_1"})
					return err
				})
			})
		if errs[1] != nil || errs[2] != nil {
			t.Fatal(errs)
		}
		if got["wal_1"].SMSThreshold != 1100 {
			t.Errorf("read after a save in the same batch: %d, want 1100", got["wal_1"].SMSThreshold)
		}
	})
}
