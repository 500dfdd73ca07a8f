package sqldb

import (
	"context"
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
