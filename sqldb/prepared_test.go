package sqldb

import (
	"context"
	"fmt"
	"testing"
)

// TestHotStatementsPrepared: on SQLite the statements of the hot paths — a
// transfer, a merchant creating an order and looking it up, a customer paying it —
// run from their prepared forms; parsing SQL costs more than running these small
// statements, and in the committer every money movement waits for it.
func TestHotStatementsPrepared(t *testing.T) {
	db := openTest(t, Config{DataDir: t.TempDir()})
	w := newWorld(t, db, nil)
	s := newShop(t, w, nil)
	a := w.customer("13800000095", 1, 50_000)
	b := w.customer("13800000096", 1, 0)
	ctx := context.Background()
	lite := db.b.(*sqliteDB)
	warm := func(i int) {
		if _, err := w.transfers.Send(ctx, transferRequest(a, b.Customer.Phone, 100, fmt.Sprintf("t%d", i))); err != nil {
			t.Fatal(err)
		}
		o := s.order(fmt.Sprintf("HOT-%06d", i), 200, "")
		if _, err := s.orders.Get(ctx, s.merchant, o.OutTradeNo); err != nil {
			t.Fatal(err)
		}
		if _, err := db.FindMerchant(ctx, s.merchant.APIKeyHash); err != nil {
			t.Fatal(err)
		}
		if _, err := s.pay(a, o.ID, fmt.Sprintf("p%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	warm(0) // set-up work of its own (the first points account, say) is not the hot path
	lite.unprepared.Clear()
	for i := 1; i <= 3; i++ {
		warm(i)
	}
	lite.unprepared.Range(func(q, _ any) bool {
		t.Errorf("run unprepared on a hot path:\n%s", q)
		return true
	})
}
