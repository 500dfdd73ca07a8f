package notify_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/notify"
)

func resetEvent(t *testing.T, id string) hebao.Event {
	t.Helper()
	b, err := json.Marshal(hebao.PaymentPasswordResetEvent{CustomerID: "cus_1", WalletID: "wal_1",
		At: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return hebao.Event{ID: id, Kind: hebao.EventPaymentPasswordReset, Payload: b}
}

func TestFromEventPaymentPasswordReset(t *testing.T) {
	got, ok, err := notify.FromEvent(resetEvent(t, "evt_06f8w3y0abcdefghjkmnpqrstw"))
	if err != nil || !ok {
		t.Fatalf("FromEvent of a reset: %v, %v", ok, err)
	}
	want := hebao.Notification{ID: "ntf_06f8w3y0abcdefghjkmnpqrstw", CustomerID: "cus_1", Kind: "payment_password.reset_required",
		Title: notify.ResetTitle, CreatedAt: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromEvent (-want +got):\n%s", diff)
	}
	for _, bad := range []string{`{`, `{"wallet_id": "wal_1"}`, `{"customer_id": "cus_1"}`} {
		if _, ok, err := notify.FromEvent(hebao.Event{ID: "evt_x", Kind: hebao.EventPaymentPasswordReset, Payload: []byte(bad)}); ok || err == nil {
			t.Errorf("FromEvent of %s: %v, %v; want false and an error", bad, ok, err)
		}
	}
}

// TestDispatchPaymentPasswordReset checks that a reset started by customer service
// reaches the customer's inbox and open apps once, and their phone by SMS although
// the customer turned notification SMS off: it is a security notice, and it says
// what to do, in Chinese and English, with no code or number in it.
func TestDispatchPaymentPasswordReset(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, hebao.SMSOff)
	hub := notify.NewHub()
	texts := &smsLog{}
	d := &notify.Dispatcher{Store: s, Hub: hub, SMS: texts}
	ch, cancel := hub.Subscribe("cus_1")
	defer cancel()
	ev := resetEvent(t, hebao.NewID("evt"))
	if err := s.Transact(ctx, func(tx hebao.Tx) error { return tx.Emit(ctx, ev) }); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{1, 0} {
		if n, err := d.DispatchOnce(ctx); err != nil || n != want {
			t.Fatalf("round %d: DispatchOnce = %d, %v; want %d", i, n, err, want)
		}
	}
	got := inbox(t, s)
	if len(got) != 1 || got[0].Kind != notify.NotificationPaymentPasswordReset || got[0].Amount != 0 || got[0].TransactionID != "" {
		t.Fatalf("inbox: %+v", got)
	}
	select {
	case n := <-ch:
		if n != got[0] {
			t.Errorf("published %+v, stored %+v", n, got[0])
		}
	default:
		t.Error("nothing published to the customer")
	}
	sent := texts.all()
	if len(sent) != 1 || sent[0].phone != phone {
		t.Fatalf("SMS sent: %+v, want one to %s", sent, phone)
	}
	for _, want := range []string{"客服", "支付密码", "短信验证码", "身份证号", "联系我们", "SMS code", "ID number", "did not call"} {
		if !strings.Contains(sent[0].text, want) {
			t.Errorf("the SMS %q does not say %q", sent[0].text, want)
		}
	}
	if strings.ContainsAny(sent[0].text, "0123456789") || strings.Contains(sent[0].text, "Balance") {
		t.Errorf("the SMS %q has a number or a balance in it", sent[0].text)
	}
}
