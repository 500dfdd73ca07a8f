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
