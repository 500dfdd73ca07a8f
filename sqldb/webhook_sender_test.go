package sqldb

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/webhook"
)

// TestWebhookSenderRecordsDelivery: the sender, on the real clock (nanoseconds) and a
// real store (microseconds), records a 2xx as delivered after one attempt and sends
// nothing more. It once compared the lease it wrote with the one read back at full
// precision, never matched, and sent every delivery again every 30 s.
func TestWebhookSenderRecordsDelivery(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		s := newShop(t, w, nil)
		ctx := context.Background()
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, _ *http.Request) {
			hits.Add(1)
			rw.WriteHeader(http.StatusNoContent)
		}))
		defer srv.Close()
		now := time.Now().UTC()
		d := hebao.WebhookDelivery{ID: hebao.NewID("whd"), MerchantID: s.merchant.ID, EventID: hebao.NewID("evt"), EventType: hebao.EventOrderPaid,
			URL: srv.URL + "/notify", Payload: []byte(`{"type":"order.paid"}`), NextAttemptAt: now, CreatedAt: now, UpdatedAt: now}
		if err := w.db.Transact(ctx, func(tx hebao.Tx) error { return tx.CreateDelivery(ctx, d) }); err != nil {
			t.Fatal(err)
		}
		sender := &webhook.Sender{Store: w.db, Policy: webhook.Policy{AllowHTTP: true, AllowLoopback: true},
			Secret: func(context.Context, string) ([]byte, error) { return []byte("whsec_test"), nil }}
		if n, err := sender.DeliverDue(ctx); err != nil || n != 1 {
			t.Fatalf("first run: %d attempts, %v", n, err)
		}
		var got hebao.WebhookDelivery
		if err := w.db.View(ctx, func(tx hebao.Tx) (err error) {
			got, err = tx.Delivery(ctx, s.merchant.ID, d.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if !got.Delivered || got.Attempts != 1 || got.LastStatus != http.StatusNoContent || !got.NextAttemptAt.IsZero() {
			t.Errorf("after a 204: delivered %v, attempts %d, status %d, next %v", got.Delivered, got.Attempts, got.LastStatus, got.NextAttemptAt)
		}
		if n, err := sender.DeliverDue(ctx); err != nil || n != 0 || hits.Load() != 1 {
			t.Errorf("second run: %d attempts, %v, %d hits", n, err, hits.Load())
		}
	})
}
