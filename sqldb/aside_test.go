package sqldb

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

// TestAside: on PostgreSQL a closure marked hebao.MovesNoMoney runs in a transaction
// of its own, so it commits while the committer is held inside a batch; it may not
// post a transfer or read an account; one that fails leaves nothing. SQLite, with
// one writer, runs it in a batch like any other.
func TestAside(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		aside := hebao.MovesNoMoney(ctx)
		at := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
		note := func(id string) hebao.Notification {
			return hebao.Notification{ID: id, CustomerID: "cus_1", Kind: "payment.succeeded", Title: id, CreatedAt: at}
		}
		stored := func(id string) bool {
			return rawInt(t, db, `SELECT COUNT(*) FROM notifications WHERE id = ?`, id) == 1
		}
		src, ids := makeAccounts(t, db, 1, 0)

		err := db.Transact(aside, func(tx hebao.Tx) error {
			if err := tx.AddNotification(ctx, note("ntf_failed")); err != nil {
				return err
			}
			return hebao.Errorf(hebao.CodeConflict, "changed my mind")
		})
		if hebao.ErrorCode(err) != hebao.CodeConflict || stored("ntf_failed") {
			t.Errorf("a failing closure: %v, stored %v; want its error and nothing stored", err, stored("ntf_failed"))
		}
		// A direct write (no buffer) of a failing closure is undone too: on PostgreSQL
		// without a savepoint, by rolling its transaction back whole.
		err = db.Transact(aside, func(tx hebao.Tx) error {
			m := hebao.Merchant{ID: "mch_failed", Name: "x", Account: src, WebhookSecretSealed: "x", CreatedAt: at}
			if err := tx.CreateMerchant(ctx, m); err != nil {
				return err
			}
			return hebao.Errorf(hebao.CodeConflict, "changed my mind")
		})
		if n := rawInt(t, db, `SELECT COUNT(*) FROM merchants WHERE id = ?`, "mch_failed"); hebao.ErrorCode(err) != hebao.CodeConflict || n != 0 {
			t.Errorf("a failing closure that wrote directly: %v, %d stored; want its error and nothing stored", err, n)
		}
		if db.Dialect() != "postgres" {
			transact(t, db, func(tx hebao.Tx) error { return tx.AddNotification(ctx, note("ntf_1")) })
			if !stored("ntf_1") {
				t.Error("not stored")
			}
			return
		}

		// The committer is held inside a batch; the marked closure commits anyway.
		release := holdCommitter(t, db)
		done := make(chan error, 1)
		go func() {
			done <- db.Transact(aside, func(tx hebao.Tx) error { return tx.AddNotification(ctx, note("ntf_1")) })
		}()
		select {
		case err := <-done:
			if err != nil {
				t.Error(err)
			}
		case <-time.After(10 * time.Second):
			t.Error("a closure that moves no money waited for the committer's batch")
		}
		release()
		if !stored("ntf_1") {
			t.Error("the marked closure's notification is not stored")
		}

		err = db.Transact(aside, func(tx hebao.Tx) error {
			if err := tx.AddNotification(ctx, note("ntf_with_money")); err != nil {
				return err
			}
			return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(src, ids[0], hebao.CNY, 1)})
		})
		if !errors.Is(err, errAside) || stored("ntf_with_money") {
			t.Errorf("posting a transfer: %v, stored %v; want errAside and nothing stored", err, stored("ntf_with_money"))
		}
		err = db.Transact(aside, func(tx hebao.Tx) error { _, err := tx.Accounts(ctx, src); return err })
		if !errors.Is(err, errAside) {
			t.Errorf("reading an account: %v, want errAside", err)
		}
		mustVerify(t, db)
	})
}
