package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// shop is a world with a merchant and the order services on it.
type shop struct {
	*world
	merchants *hebao.MerchantService
	orders    *hebao.OrderService
	merchant  hebao.Merchant
	clock     *fakeClock
	codes     *hebao.PaymentCodeService
}

func newShop(t testing.TB, w *world, clock *fakeClock) *shop {
	t.Helper()
	s := &shop{world: w, clock: clock}
	var now func() time.Time
	if clock != nil {
		now = clock.Now
	}
	s.merchants = &hebao.MerchantService{Store: w.db, Keys: w.keys, Now: now}
	s.codes = &hebao.PaymentCodeService{Store: w.db, Keys: w.keys, Now: now}
	s.orders = &hebao.OrderService{Store: w.db, Passwords: w.passwords, OTP: anyCode{}, Now: now, Codes: s.codes,
		CheckURL: func(context.Context, string) error { return nil }}
	nm, err := s.merchants.Create(context.Background(), hebao.Actor{Kind: hebao.ActorSystem, ID: "test"}, "Noodle Shop")
	if err != nil {
		t.Fatal(err)
	}
	s.merchant = nm.Merchant
	return s
}

func (s *shop) order(no string, amount int64, notify string) hebao.Order {
	s.t.Helper()
	o, created, err := s.orders.Create(context.Background(), s.merchant, hebao.OrderRequest{OutTradeNo: no, Amount: amount,
		Subject: "beef noodles", NotifyURL: notify})
	if err != nil || !created {
		s.t.Fatalf("create order %s: created %v, %v", no, created, err)
	}
	return o
}

func (s *shop) pay(c hebao.Registered, orderID, key string) (hebao.Order, error) {
	var paid hebao.Order
	_, err := s.orders.Pay(context.Background(), hebao.PayRequest{CustomerID: c.Customer.ID, DeviceID: "dev-" + c.Customer.Phone,
		OrderID: orderID, Method: "balance", PaymentPassword: payPassword,
		Key: hebao.NewIdempotencyKey(c.Customer.ID+" pay "+orderID, key, []byte(orderID)),
		Reply: func(o hebao.Order, m hebao.Movement) (hebao.Reply, error) {
			paid = o
			b, _ := json.Marshal(map[string]string{"order": o.ID, "transaction": m.ID})
			return hebao.Reply{Status: 201, Body: b}, nil
		}})
	return paid, err
}

func (s *shop) merchantBalance() int64 {
	s.t.Helper()
	bal, err := s.merchants.Balance(context.Background(), s.merchant)
	if err != nil {
		s.t.Fatal(err)
	}
	return bal
}

// TestMerchantOrders walks an order through its life on each backend: created once
// per out_trade_no, paid once, refused when paid, closed or expired, closed by the
// expiry job, with the webhook deliveries it owes.
func TestMerchantOrders(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		clock := &fakeClock{t: time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)}
		s := newShop(t, newWorld(t, open(t), nil), clock)
		ctx := context.Background()
		payer := s.customer("13800000101", 2, 10_000)

		o := s.order("T20261126-0001", 2_500, "https://shop.example/notify")
		if o.Status != hebao.OrderNotPaid || !o.ExpiresAt.Equal(clock.Now().Add(hebao.DefaultOrderExpiry)) {
			t.Fatalf("new order: %+v", o)
		}
		// The same number with the same fields is the same order; with others, a mistake.
		again, created, err := s.orders.Create(ctx, s.merchant, hebao.OrderRequest{OutTradeNo: o.OutTradeNo, Amount: 2_500,
			Subject: "beef noodles", NotifyURL: "https://shop.example/notify"})
		if err != nil || created || again.ID != o.ID {
			t.Fatalf("same order again: %v created %v id %s, want %s", err, created, again.ID, o.ID)
		}
		if _, _, err := s.orders.Create(ctx, s.merchant, hebao.OrderRequest{OutTradeNo: o.OutTradeNo, Amount: 2_600,
			Subject: "beef noodles", NotifyURL: "https://shop.example/notify"}); hebao.ErrorCode(err) != hebao.CodeIdempotencyKeyReused {
			t.Fatalf("same number, other amount: %v, want idempotency_key_reused", err)
		}

		paid, err := s.pay(payer, o.ID, "k1")
		if err != nil {
			t.Fatal(err)
		}
		if paid.Status != hebao.OrderSuccess || paid.WalletID != payer.Wallet.ID || paid.MovementID == "" {
			t.Errorf("paid order: %+v", paid)
		}
		if got := s.balance(payer.Wallet.Account); got != 7_500 {
			t.Errorf("payer balance %d, want 7500", got)
		}
		if got := s.merchantBalance(); got != 2_500 {
			t.Errorf("merchant balance %d, want 2500", got)
		}
		if got := s.movementCount(payer.Wallet.ID, hebao.MovementPayment); got != 1 {
			t.Errorf("%d payment movements, want 1", got)
		}
		// A retry with the key answers again; another attempt is refused.
		if _, err := s.pay(payer, o.ID, "k1"); err != nil {
			t.Errorf("retry with the same key: %v", err)
		}
		if _, err := s.pay(payer, o.ID, "k2"); hebao.ErrorCode(err) != hebao.CodeOrderAlreadyPaid {
			t.Errorf("paying a paid order: %v, want order_already_paid", err)
		}
		if _, err := s.orders.Close(ctx, s.merchant, o.OutTradeNo); hebao.ErrorCode(err) != hebao.CodeOrderAlreadyPaid {
			t.Errorf("closing a paid order: %v, want order_already_paid", err)
		}
		if got := s.balance(payer.Wallet.Account); got != 7_500 {
			t.Errorf("payer balance after the refused attempts %d, want 7500", got)
		}

		// Closed by the merchant: closing again changes nothing; paying is refused.
		c := s.order("T20261126-0002", 100, "https://shop.example/notify")
		closed, err := s.orders.Close(ctx, s.merchant, c.OutTradeNo)
		if err != nil || closed.Status != hebao.OrderClosed {
			t.Fatalf("close: %v %+v", err, closed)
		}
		if again, err := s.orders.Close(ctx, s.merchant, c.OutTradeNo); err != nil || !again.ClosedAt.Equal(closed.ClosedAt) {
			t.Errorf("closing again: %v %+v", err, again)
		}
		if _, err := s.pay(payer, c.ID, "k3"); hebao.ErrorCode(err) != hebao.CodeOrderClosed {
			t.Errorf("paying a closed order: %v, want order_closed", err)
		}

		// Expired: refused at once, closed by the job.
		e := s.order("T20261126-0003", 100, "")
		clock.Add(hebao.DefaultOrderExpiry)
		if _, err := s.pay(payer, e.ID, "k4"); hebao.ErrorCode(err) != hebao.CodeOrderClosed {
			t.Errorf("paying an expired order: %v, want order_closed", err)
		}
		if n, err := s.orders.ExpireDue(ctx); err != nil || n != 1 {
			t.Errorf("expiry job closed %d (%v), want 1", n, err)
		}
		if got, err := s.orders.Get(ctx, s.merchant, e.OutTradeNo); err != nil || got.Status != hebao.OrderClosed {
			t.Errorf("expired order after the job: %v %+v", err, got)
		}
		if n, _ := s.orders.ExpireDue(ctx); n != 0 {
			t.Errorf("expiry job ran again and closed %d", n)
		}

		// Above ¥5,000 from a device first seen today, a payment needs a step_up code.
		rich := s.customer("13800000102", 1, 1_000_000)
		big := s.order("T20261126-0004", 600_000, "")
		if _, err := s.pay(rich, big.ID, "k5"); hebao.ErrorCode(err) != hebao.CodeStepUpRequired {
			t.Errorf("a large payment from a new device: %v, want step_up_required", err)
		}
		if _, err := s.orders.Pay(ctx, hebao.PayRequest{CustomerID: rich.Customer.ID, DeviceID: "dev-" + rich.Customer.Phone, OrderID: big.ID,
			Method: "balance", PaymentPassword: payPassword, OTP: "123456",
			Key: hebao.NewIdempotencyKey(rich.Customer.ID+" pay", "k6", []byte(big.ID)),
			Reply: func(o hebao.Order, m hebao.Movement) (hebao.Reply, error) {
				return hebao.Reply{Status: 201, Body: []byte("{}")}, nil
			}}); err != nil {
			t.Errorf("the same with a code: %v", err)
		}
		if got := s.balance(rich.Wallet.Account); got != 400_000 {
			t.Errorf("after the large payment %d, want 400000", got)
		}

		// Webhooks owed: the payment and the merchant's close (the expired order
		// gave no notify_url).
		var types []string
		if err := s.db.View(ctx, func(tx hebao.Tx) error {
			ds, err := tx.Deliveries(ctx, s.merchant.ID, "", 10)
			for _, d := range ds {
				types = append(types, d.EventType)
				var ev hebao.WebhookEvent
				if err := json.Unmarshal(d.Payload, &ev); err != nil || ev.ID != d.EventID || ev.Type != d.EventType {
					t.Errorf("delivery %s payload %s: %v", d.ID, d.Payload, err)
				}
			}
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff([]string{hebao.EventOrderClosed, hebao.EventOrderPaid}, types); d != "" {
			t.Errorf("deliveries, newest first (-want +got):\n%s", d)
		}
		mustVerify(t, s.db)
	})
}

// TestMerchantPayRace: 20 customers in two processes pay one order at once; exactly
// one is charged.
func TestMerchantPayRace(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		shops := []*shop{newShop(t, ws[0], nil)}
		second := &shop{world: ws[1], merchant: shops[0].merchant}
		second.merchants = &hebao.MerchantService{Store: ws[1].db, Keys: ws[1].keys}
		second.orders = &hebao.OrderService{Store: ws[1].db, Passwords: ws[1].passwords, OTP: anyCode{}}
		shops = append(shops, second)
		o := shops[0].order("RACE-000001", 3_000, "")
		const n = 20
		payers := make([]hebao.Registered, n)
		for i := range payers {
			payers[i] = ws[0].customer(fmt.Sprintf("139000002%02d", i), 2, 5_000)
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = shops[i%2].pay(payers[i], o.ID, "race") })
		}
		wg.Wait()
		if d := cmp.Diff(map[string]int{"": 1, hebao.CodeOrderAlreadyPaid: n - 1}, codeCounts(errs)); d != "" {
			t.Fatalf("outcomes by code (-want +got):\n%s\nerrors: %v", d, errs)
		}
		if got := shops[0].merchantBalance(); got != 3_000 {
			t.Errorf("merchant balance %d, want 3000: exactly one charge", got)
		}
		var total int64
		for _, p := range payers {
			total += ws[0].balance(p.Wallet.Account)
		}
		if total != n*5_000-3_000 {
			t.Errorf("payers hold %d together, want %d", total, n*5_000-3_000)
		}
		mustVerify(t, ws[0].db)
	})
}

// TestMerchantCreateRace: twenty creations of one out_trade_no at once, over two
// processes (on PostgreSQL each is one statement, CreateOrderOnce, beside the
// ledger's batches), store one order; every caller gets it, one of them as created; and
// creations of it with another amount at the same time are refused.
func TestMerchantCreateRace(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		first := newShop(t, ws[0], nil)
		second := &hebao.OrderService{Store: ws[1].db, Passwords: ws[1].passwords, OTP: anyCode{}}
		services := []*hebao.OrderService{first.orders, second}
		const n = 20
		type outcome struct {
			o       hebao.Order
			created bool
			err     error
		}
		outcomes := make([]outcome, n)
		var wg sync.WaitGroup
		for i := range n {
			amount := int64(1_000)
			if i%5 == 4 {
				amount = 1_001 // the same number with another amount
			}
			wg.Go(func() {
				o, created, err := services[i%2].Create(context.Background(), first.merchant,
					hebao.OrderRequest{OutTradeNo: "CREATE-RACE-1", Amount: amount, Subject: "tea"})
				outcomes[i] = outcome{o, created, err}
			})
		}
		wg.Wait()
		ids := map[string]bool{}
		createdCount := 0
		for i, oc := range outcomes {
			switch {
			case oc.err == nil:
				ids[oc.o.ID] = true
				if oc.created {
					createdCount++
				}
			case hebao.ErrorCode(oc.err) == hebao.CodeIdempotencyKeyReused:
			default:
				t.Errorf("creation %d: %v", i, oc.err)
			}
		}
		if n := rawInt(t, ws[0].db, `SELECT COUNT(*) FROM orders WHERE out_trade_no = ?`, "CREATE-RACE-1"); n != 1 {
			t.Errorf("%d orders stored, want 1", n)
		}
		if len(ids) != 1 || createdCount != 1 {
			t.Errorf("callers got orders %v, %d of them as created; want one order, created once", ids, createdCount)
		}
	})
}

// TestMerchantIsolation: a merchant cannot see or close another merchant's order,
// even knowing its number.
func TestMerchantIsolation(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		a := newShop(t, newWorld(t, open(t), nil), nil)
		b := newShop(t, a.world, nil)
		o := a.order("SHARED-0001", 100, "")
		ctx := context.Background()
		if _, err := b.orders.Get(ctx, b.merchant, o.OutTradeNo); hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("another merchant's order: %v, want not_found", err)
		}
		if _, err := b.orders.Close(ctx, b.merchant, o.OutTradeNo); hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("closing another merchant's order: %v, want not_found", err)
		}
		// b may use the same number for an order of its own.
		if _, created, err := b.orders.Create(ctx, b.merchant, hebao.OrderRequest{OutTradeNo: o.OutTradeNo, Amount: 5, Subject: "tea"}); err != nil || !created {
			t.Errorf("the same number at another merchant: created %v, %v", created, err)
		}
		if got, err := a.orders.Get(ctx, a.merchant, o.OutTradeNo); err != nil || got.Status != hebao.OrderNotPaid || got.Amount != 100 {
			t.Errorf("a's order after b's: %v %+v", err, got)
		}
		// The merchant API key works only for its merchant.
		nm, err := a.merchants.Create(ctx, hebao.Actor{Kind: hebao.ActorSystem, ID: "test"}, "Tea House")
		if err != nil {
			t.Fatal(err)
		}
		if m, err := a.merchants.Authenticate(ctx, nm.APIKey); err != nil || m.ID != nm.Merchant.ID {
			t.Errorf("authenticate: %v %s", err, m.ID)
		}
		if _, err := a.merchants.Authenticate(ctx, nm.APIKey+"x"); hebao.ErrorCode(err) != hebao.CodeUnauthenticated {
			t.Errorf("a wrong key: %v, want unauthenticated", err)
		}
		secret, err := a.merchants.WebhookSecretOf(ctx, nm.Merchant.ID)
		if err != nil || string(secret) != nm.WebhookSecret {
			t.Errorf("webhook secret: %v", err)
		}
		mustVerify(t, a.db)
	})
}

func (s *shop) refund(no, refundNo string, amount int64) (hebao.Refund, hebao.Order, error) {
	r, o, _, err := s.orders.Refund(context.Background(), s.merchant, hebao.RefundRequest{OutTradeNo: no, OutRefundNo: refundNo, Amount: amount, Reason: "returned"})
	return r, o, err
}

// TestMerchantRefunds: partial refunds add up to the amount paid and no further, each
// out_refund_no counts once, a frozen or closed wallet still receives, and the refund
// is in the customer's history and owed to the merchant's webhook.
func TestMerchantRefunds(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		s := newShop(t, newWorld(t, open(t), nil), nil)
		ctx := context.Background()
		payer := s.customer("13800000301", 2, 10_000)
		o := s.order("REFUND-0001", 4_000, "https://shop.example/notify")
		if _, _, err := s.refund(o.OutTradeNo, "R-unpaid-1", 100); hebao.ErrorCode(err) != hebao.CodeRefundExceedsPaid {
			t.Errorf("refunding an unpaid order: %v, want refund_exceeds_paid", err)
		}
		if _, err := s.pay(payer, o.ID, "p1"); err != nil {
			t.Fatal(err)
		}
		r1, after, err := s.refund(o.OutTradeNo, "R-000001", 1_500)
		if err != nil {
			t.Fatal(err)
		}
		if after.Status != hebao.OrderRefund || after.Refunded != 1_500 || after.Refunds != 1 || r1.WalletID != payer.Wallet.ID {
			t.Errorf("after one refund: order %+v refund %+v", after, r1)
		}
		// The same out_refund_no again answers the first refund; with another amount it
		// is refused.
		again, _, err := s.refund(o.OutTradeNo, "R-000001", 1_500)
		if err != nil || again.ID != r1.ID {
			t.Errorf("the same refund again: %v %s, want %s", err, again.ID, r1.ID)
		}
		if _, _, err := s.refund(o.OutTradeNo, "R-000001", 1_000); hebao.ErrorCode(err) != hebao.CodeIdempotencyKeyReused {
			t.Errorf("the same number, another amount: %v, want idempotency_key_reused", err)
		}
		if _, _, err := s.refund(o.OutTradeNo, "R-000002", 2_501); hebao.ErrorCode(err) != hebao.CodeRefundExceedsPaid {
			t.Errorf("more than is left: %v, want refund_exceeds_paid", err)
		}
		// Frozen, the wallet still receives the rest.
		if _, err := rawExec(t, s.db, `UPDATE wallets SET status = 'frozen' WHERE id = $1`, payer.Wallet.ID); err != nil {
			t.Fatal(err)
		}
		if _, after, err = s.refund(o.OutTradeNo, "R-000003", 2_500); err != nil || after.Refunded != 4_000 {
			t.Fatalf("refund to a frozen wallet: %v %+v", err, after)
		}
		if _, _, err := s.refund(o.OutTradeNo, "R-000004", 1); hebao.ErrorCode(err) != hebao.CodeRefundExceedsPaid {
			t.Errorf("refunding a fully refunded order: %v, want refund_exceeds_paid", err)
		}
		if got := s.balance(payer.Wallet.Account); got != 10_000 {
			t.Errorf("payer balance %d, want 10000 (all of it back)", got)
		}
		if got := s.merchantBalance(); got != 0 {
			t.Errorf("merchant balance %d, want 0", got)
		}
		if got := s.movementCount(payer.Wallet.ID, hebao.MovementRefund); got != 2 {
			t.Errorf("%d refund movements, want 2", got)
		}
		if got, _, err := s.orders.GetRefund(ctx, s.merchant, "R-000003"); err != nil || got.Amount != 2_500 {
			t.Errorf("refund query: %v %+v", err, got)
		}
		if _, _, err := newShop(t, s.world, nil).orders.GetRefund(ctx, hebao.Merchant{ID: "mch_other"}, "R-000003"); hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("another merchant's refund: %v, want not_found", err)
		}
		var refundEvents int
		s.db.View(ctx, func(tx hebao.Tx) error {
			ds, err := tx.Deliveries(ctx, s.merchant.ID, "", 10)
			for _, d := range ds {
				if d.EventType == hebao.EventRefundSucceeded {
					refundEvents++
				}
			}
			return err
		})
		if refundEvents != 2 {
			t.Errorf("%d refund.succeeded deliveries, want 2", refundEvents)
		}

		// At most MaxRefunds refunds per order.
		small := s.order("REFUND-0002", 100, "")
		if _, err := s.pay(payer, small.ID, "p2"); hebao.ErrorCode(err) != hebao.CodeWalletFrozen {
			t.Fatalf("a frozen wallet paying: %v, want wallet_frozen", err)
		}
		if _, err := s.pay(s.customer("13800000302", 2, 1_000), small.ID, "p3"); err != nil {
			t.Fatal(err)
		}
		for i := range hebao.MaxRefunds {
			if _, _, err := s.refund(small.OutTradeNo, fmt.Sprintf("R-small-%02d", i), 1); err != nil {
				t.Fatalf("refund %d: %v", i, err)
			}
		}
		if _, _, err := s.refund(small.OutTradeNo, "R-small-50", 1); hebao.ErrorCode(err) != hebao.CodeLimitExceeded {
			t.Errorf("refund %d: %v, want limit_exceeded", hebao.MaxRefunds+1, err)
		}
		mustVerify(t, s.db)
	})
}

// TestMerchantRefundRace: 20 partial refunds of 10% each at once, over two processes:
// exactly 10 go through.
func TestMerchantRefundRace(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		a := newShop(t, ws[0], nil)
		b := &shop{world: ws[1], merchant: a.merchant,
			orders: &hebao.OrderService{Store: ws[1].db, Passwords: ws[1].passwords, OTP: anyCode{}}}
		payer := a.customer("13800000401", 2, 10_000)
		o := a.order("RACE-REFUND-1", 10_000, "")
		if _, err := a.pay(payer, o.ID, "p"); err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			s := []*shop{a, b}[i%2]
			wg.Go(func() { _, _, errs[i] = s.refund(o.OutTradeNo, fmt.Sprintf("RR-%03d", i), 1_000) })
		}
		wg.Wait()
		if d := cmp.Diff(map[string]int{"": 10, hebao.CodeRefundExceedsPaid: 10}, codeCounts(errs)); d != "" {
			t.Fatalf("outcomes by code (-want +got):\n%s\nerrors: %v", d, errs)
		}
		if got := a.balance(payer.Wallet.Account); got != 10_000 {
			t.Errorf("payer balance %d, want 10000", got)
		}
		if got, err := a.orders.Get(context.Background(), a.merchant, o.OutTradeNo); err != nil || got.Refunded != 10_000 || got.Refunds != 10 {
			t.Errorf("order after the race: %v %+v", err, got)
		}
		mustVerify(t, ws[0].db)
	})
}

func (s *shop) code(c hebao.Registered) string {
	s.t.Helper()
	ic, err := s.codes.Issue(context.Background(), c.Customer.ID)
	if err != nil {
		s.t.Fatal(err)
	}
	return ic.Code
}

func (s *shop) till(no, code string, amount int64) (hebao.Order, error) {
	o, _, err := s.orders.PayByCode(context.Background(), s.merchant, hebao.CodePaymentRequest{OutTradeNo: no, AuthCode: code, Amount: amount, Subject: "groceries"})
	return o, err
}

func (s *shop) confirm(c hebao.Registered, orderID, key string) (hebao.Order, error) {
	var paid hebao.Order
	_, err := s.orders.Confirm(context.Background(), hebao.ConfirmRequest{CustomerID: c.Customer.ID, DeviceID: "dev-" + c.Customer.Phone,
		OrderID: orderID, PaymentPassword: payPassword, Key: hebao.NewIdempotencyKey(c.Customer.ID+" confirm", key, []byte(orderID)),
		Reply: func(o hebao.Order, m hebao.Movement) (hebao.Reply, error) {
			paid = o
			return hebao.Reply{Status: 201, Body: []byte("{}")}, nil
		}})
	return paid, err
}

// TestMerchantCodePayments: a till takes a customer's payment code: at once within
// the password-free allowance, else waiting for the customer to confirm, closed
// after 60 seconds unconfirmed; a code works once, for 60 seconds, and only for the
// customer who showed it.
func TestMerchantCodePayments(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		clock := &fakeClock{t: time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)}
		s := newShop(t, newWorld(t, open(t), nil), clock)
		ctx := context.Background()
		alice := s.customer("13800000501", 2, 500_000)
		bob := s.customer("13800000502", 2, 500_000)

		code := s.code(alice)
		if !hebao.ValidPaymentCodeFormat(code) || code[:2] != "81" {
			t.Fatalf("code %q", code)
		}
		o, err := s.till("TILL-000001", code, 800)
		if err != nil || o.Status != hebao.OrderSuccess || o.Method != "password_free" || o.WalletID != alice.Wallet.ID {
			t.Fatalf("a small code payment: %v %+v", err, o)
		}
		// The till retrying the same order gets it as it stands.
		if again, err := s.till("TILL-000001", code, 800); err != nil || again.ID != o.ID {
			t.Errorf("the same order again: %v %s", err, again.ID)
		}
		// A used, an expired or an unknown code charges nothing.
		if _, err := s.till("TILL-000002", code, 800); hebao.ErrorCode(err) != hebao.CodePaymentCodeInvalid {
			t.Errorf("a used code: %v, want payment_code_invalid", err)
		}
		stale := s.code(alice)
		clock.Add(hebao.PaymentCodeLifetime)
		if _, err := s.till("TILL-000003", stale, 800); hebao.ErrorCode(err) != hebao.CodePaymentCodeInvalid {
			t.Errorf("an expired code: %v, want payment_code_invalid", err)
		}
		if _, err := s.till("TILL-000004", "810000000000000001", 800); hebao.ErrorCode(err) != hebao.CodePaymentCodeInvalid {
			t.Errorf("an unknown code: %v, want payment_code_invalid", err)
		}
		if got := s.balance(alice.Wallet.Account); got != 500_000-800 {
			t.Errorf("alice holds %d, want %d: charged once", got, 500_000-800)
		}

		// Above the allowance the till waits for the customer.
		big, err := s.till("TILL-000005", s.code(alice), 150_000)
		if err != nil || big.Status != hebao.OrderUserPaying || big.MovementID == "" {
			t.Fatalf("a large code payment: %v %+v", err, big)
		}
		if got := s.balance(alice.Wallet.Account); got != 500_000-800 {
			t.Errorf("waiting for confirmation, alice holds %d", got)
		}
		if _, err := s.confirm(bob, big.ID, "c1"); hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("bob confirming alice's order: %v, want not_found", err)
		}
		paid, err := s.confirm(alice, big.ID, "c2")
		if err != nil || paid.Status != hebao.OrderSuccess || paid.MovementID != big.MovementID {
			t.Fatalf("confirm: %v %+v", err, paid)
		}
		if _, err := s.confirm(alice, big.ID, "c3"); hebao.ErrorCode(err) != hebao.CodeOrderAlreadyPaid {
			t.Errorf("confirming twice: %v, want order_already_paid", err)
		}
		if got := s.balance(alice.Wallet.Account); got != 500_000-800-150_000 {
			t.Errorf("after confirming, alice holds %d", got)
		}

		// Unconfirmed, it closes after 60 seconds and the payment shows as not made.
		late, err := s.till("TILL-000006", s.code(bob), 150_000)
		if err != nil || late.Status != hebao.OrderUserPaying {
			t.Fatalf("another large payment: %v %+v", err, late)
		}
		clock.Add(hebao.PaymentCodeLifetime)
		if _, err := s.confirm(bob, late.ID, "c4"); hebao.ErrorCode(err) != hebao.CodeOrderClosed {
			t.Errorf("confirming too late: %v, want order_closed", err)
		}
		if n, err := s.orders.ExpireDue(ctx); err != nil || n != 1 {
			t.Errorf("expiry job closed %d (%v), want 1", n, err)
		}
		var mv hebao.Movement
		s.db.View(ctx, func(tx hebao.Tx) (err error) { mv, err = tx.Movement(ctx, bob.Wallet.ID, late.MovementID); return err })
		if mv.Status != hebao.MovementFailed || mv.FailureCode != hebao.CodeOrderClosed {
			t.Errorf("the unconfirmed payment: %+v", mv)
		}
		if got := s.balance(bob.Wallet.Account); got != 500_000 {
			t.Errorf("bob holds %d, want all of it", got)
		}

		// At most PasswordFreeDaily password-free payments a day; then the till waits.
		for i := range hebao.PasswordFreeDaily - 1 {
			if o, err := s.till(fmt.Sprintf("TILL-free-%02d", i), s.code(alice), 100); err != nil || o.Status != hebao.OrderSuccess {
				t.Fatalf("password-free payment %d: %v %+v", i+2, err, o)
			}
		}
		if o, err := s.till("TILL-free-99", s.code(alice), 100); err != nil || o.Status != hebao.OrderUserPaying {
			t.Errorf("password-free payment %d of a day: %v %+v, want USERPAYING", hebao.PasswordFreeDaily+1, err, o)
		}
		mustVerify(t, s.db)
	})
}

func (s *shop) payBy(c hebao.Registered, orderID, method, cardID, key string) (hebao.Order, hebao.Movement, error) {
	var (
		order hebao.Order
		mv    hebao.Movement
	)
	_, err := s.orders.Pay(context.Background(), hebao.PayRequest{CustomerID: c.Customer.ID, DeviceID: "dev-" + c.Customer.Phone,
		OrderID: orderID, Method: method, CardID: cardID, PaymentPassword: payPassword,
		Key: hebao.NewIdempotencyKey(c.Customer.ID+" pay "+orderID, key, []byte(orderID+method+cardID)),
		Reply: func(o hebao.Order, m hebao.Movement) (hebao.Reply, error) {
			order, mv = o, m
			return hebao.Reply{Status: 201, Body: []byte("{}")}, nil
		}})
	return order, mv, err
}

// waitOrder waits until the merchant's order has the status.
func (s *shop) waitOrder(no string, status hebao.OrderStatus, within time.Duration) hebao.Order {
	s.t.Helper()
	deadline := time.Now().Add(within)
	for {
		o, err := s.orders.Get(context.Background(), s.merchant, no)
		if err != nil {
			s.t.Fatal(err)
		}
		if o.Status == status || time.Now().After(deadline) {
			return o
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestMerchantCardPay: paying by card is a top-up and the payment in one operation;
// auto top-up covers a shortfall from the customer's cards in their order; a card the
// bank declines pays nothing; a top-up whose order was paid meanwhile stays in the
// wallet.
func TestMerchantCardPay(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		s := newShop(t, w, nil)
		s.orders.Bank = w.banks
		ctx := context.Background()

		alice := s.customer("13800000601", 2, 0)
		good := w.card(alice.Customer.ID, "0007")
		o := s.order("CARD-000001", 5_000, "https://shop.example/notify")
		pending, topup, err := s.payBy(alice, o.ID, "card", good.ID, "a1")
		if err != nil || pending.Status != hebao.OrderNotPaid || topup.Kind != hebao.MovementTopup || topup.Status != hebao.MovementPending || topup.Amount != 5_000 {
			t.Fatalf("pay by card: %v order %+v top-up %+v", err, pending, topup)
		}
		if m := w.waitMovement(alice.Wallet.ID, topup.ID, 5*time.Second); m.Status != hebao.MovementSucceeded {
			t.Fatalf("the card's top-up: %+v", m)
		}
		if got := s.waitOrder(o.OutTradeNo, hebao.OrderSuccess, 5*time.Second); got.Status != hebao.OrderSuccess || got.Method != "card" {
			t.Fatalf("the order after the top-up: %+v", got)
		}
		if got := w.balance(alice.Wallet.Account); got != 0 {
			t.Errorf("alice holds %d, want 0: the top-up went on to the merchant", got)
		}
		if got := s.merchantBalance(); got != 5_000 {
			t.Errorf("merchant holds %d, want 5000", got)
		}

		// A declined card pays nothing and the order stays open.
		bad := w.card(alice.Customer.ID, "0002")
		d := s.order("CARD-000002", 700, "")
		_, topup, err = s.payBy(alice, d.ID, "card", bad.ID, "a2")
		if err != nil {
			t.Fatal(err)
		}
		if m := w.waitMovement(alice.Wallet.ID, topup.ID, 5*time.Second); m.Status != hebao.MovementFailed || m.FailureCode != hebao.CodeCardDeclined {
			t.Errorf("the declined card's top-up: %+v", m)
		}
		if got, _ := s.orders.Get(ctx, s.merchant, d.OutTradeNo); got.Status != hebao.OrderNotPaid {
			t.Errorf("the order after a declined card: %+v", got)
		}

		// Auto top-up: 1,000 in the balance, 3,000 to pay: 2,000 from the first card,
		// which declines, then from the second.
		bob := s.customer("13800000602", 2, 1_000)
		w.card(bob.Customer.ID, "0002")
		w.card(bob.Customer.ID, "0007")
		if err := w.db.Transact(ctx, func(tx hebao.Tx) error {
			set := hebao.DefaultWalletSettings(bob.Wallet.ID)
			set.AutoTopup = true
			return tx.SaveWalletSettings(ctx, set)
		}); err != nil {
			t.Fatal(err)
		}
		a := s.order("CARD-000003", 3_000, "")
		_, topup, err = s.payBy(bob, a.ID, "balance", "", "b1")
		if err != nil || topup.Kind != hebao.MovementTopup || topup.Amount != 2_000 {
			t.Fatalf("auto top-up: %v %+v", err, topup)
		}
		if got := s.waitOrder(a.OutTradeNo, hebao.OrderSuccess, 5*time.Second); got.Status != hebao.OrderSuccess {
			t.Fatalf("the order after the auto top-up: %+v", got)
		}
		if got := w.balance(bob.Wallet.Account); got != 0 {
			t.Errorf("bob holds %d, want 0", got)
		}
		if got := w.movementCount(bob.Wallet.ID, hebao.MovementTopup); got != 2 {
			t.Errorf("bob has %d top-ups, want 2 (the declined card, then the next)", got)
		}
		// Without auto top-up, too little balance is refused at once.
		carol := s.customer("13800000603", 2, 100)
		if _, _, err := s.payBy(carol, a.ID, "balance", "", "c1"); hebao.ErrorCode(err) != hebao.CodeOrderAlreadyPaid {
			t.Errorf("paying a paid order: %v", err)
		}
		e := s.order("CARD-000004", 3_000, "")
		if _, _, err := s.payBy(carol, e.ID, "balance", "", "c2"); hebao.ErrorCode(err) != hebao.CodeInsufficientFunds {
			t.Errorf("too little balance, no auto top-up: %v, want insufficient_funds", err)
		}
		mustVerify(t, w.db)
	})
}

// TestMerchantCardPayOrderGone: the order is paid by someone else while a card's
// top-up waits for the bank; the top-up, when it succeeds, stays in the wallet.
func TestMerchantCardPayOrderGone(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		slow := &hebao.BankService{Store: w.db, Bank: w.bank, Keys: w.keys, Passwords: w.passwords, Timeout: 10 * time.Second}
		t.Cleanup(slow.Close)
		s := newShop(t, w, nil)
		s.orders.Bank = slow
		dave := s.customer("13800000701", 2, 0)
		late := w.card(dave.Customer.ID, "0259") // the bank answers after 5 s
		o := s.order("GONE-000001", 4_000, "")
		_, topup, err := s.payBy(dave, o.ID, "card", late.ID, "d1")
		if err != nil {
			t.Fatal(err)
		}
		// Paying again while the bank decides would charge the card twice.
		if _, _, err := s.payBy(dave, o.ID, "card", late.ID, "d2"); hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Errorf("paying again by card while the top-up waits: %v, want conflict", err)
		}
		// From the balance nothing can be charged twice: it is simply empty yet.
		if _, _, err := s.payBy(dave, o.ID, "balance", "", "d3"); hebao.ErrorCode(err) != hebao.CodeInsufficientFunds {
			t.Errorf("paying again by balance while the top-up waits: %v, want insufficient_funds", err)
		}
		erin := s.customer("13800000702", 2, 10_000)
		if _, err := s.pay(erin, o.ID, "e1"); err != nil {
			t.Fatalf("erin pays first: %v", err)
		}
		if m := w.waitMovement(dave.Wallet.ID, topup.ID, 10*time.Second); m.Status != hebao.MovementSucceeded {
			t.Fatalf("dave's top-up: %+v", m)
		}
		if got := w.balance(dave.Wallet.Account); got != 4_000 {
			t.Errorf("dave holds %d, want 4000: the top-up stays when its order is gone", got)
		}
		if got := s.merchantBalance(); got != 4_000 {
			t.Errorf("merchant holds %d, want 4000: paid once", got)
		}
		mustVerify(t, w.db)
	})
}

// TestMerchantCardRefund: an order paid by card is refunded to that card (the bank
// credits it; PROCESSING until then, and the webhook once done); with the card unbound
// meanwhile, to the wallet at once.
func TestMerchantCardRefund(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		s := newShop(t, w, nil)
		s.orders.Bank = w.banks
		ctx := context.Background()
		alice := s.customer("13800000801", 2, 0)
		card := w.card(alice.Customer.ID, "0007")
		o := s.order("CREF-000001", 6_000, "https://shop.example/notify")
		if _, _, err := s.payBy(alice, o.ID, "card", card.ID, "a1"); err != nil {
			t.Fatal(err)
		}
		if got := s.waitOrder(o.OutTradeNo, hebao.OrderSuccess, 5*time.Second); got.CardID != card.ID {
			t.Fatalf("the paid order: %+v", got)
		}
		r, _, created, err := s.orders.Refund(ctx, s.merchant, hebao.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: "CR-000001", Amount: 2_000})
		if err != nil || !created || r.Status != "PROCESSING" {
			t.Fatalf("refund to the card: %v %+v", err, r)
		}
		if m := w.waitMovement(alice.Wallet.ID, r.MovementID, 5*time.Second); m.Status != hebao.MovementSucceeded || m.CardID != card.ID {
			t.Fatalf("the refund's movement: %+v", m)
		}
		if got, _, err := s.orders.GetRefund(ctx, s.merchant, "CR-000001"); err != nil || got.Status != "SUCCESS" {
			t.Errorf("the refund once the bank answered: %v %+v", err, got)
		}
		if got := w.balance(alice.Wallet.Account); got != 0 {
			t.Errorf("alice's wallet holds %d, want 0: the refund went to her card", got)
		}
		if got := s.merchantBalance(); got != 4_000 {
			t.Errorf("merchant holds %d, want 4000", got)
		}
		var types []string
		w.db.View(ctx, func(tx hebao.Tx) error {
			ds, err := tx.Deliveries(ctx, s.merchant.ID, "", 10)
			for _, d := range ds {
				types = append(types, d.EventType)
			}
			return err
		})
		if d := cmp.Diff([]string{hebao.EventRefundSucceeded, hebao.EventOrderPaid}, types); d != "" {
			t.Errorf("webhooks, newest first (-want +got):\n%s", d)
		}

		// The card unbound: the next refund goes to the wallet, at once.
		if err := w.db.Transact(ctx, func(tx hebao.Tx) error {
			_, err := tx.DeleteCard(ctx, alice.Customer.ID, card.ID)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		r2, _, _, err := s.orders.Refund(ctx, s.merchant, hebao.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: "CR-000002", Amount: 1_000})
		if err != nil || r2.Status != "SUCCESS" {
			t.Fatalf("refund with the card gone: %v %+v", err, r2)
		}
		if got := w.balance(alice.Wallet.Account); got != 1_000 {
			t.Errorf("alice's wallet holds %d, want 1000", got)
		}
		mustVerify(t, w.db)
	})
}

// TestMerchantPasswordFreeRace: 30 till payments at once from one customer's codes:
// exactly PasswordFreeDaily go through without the password, the rest wait for them.
func TestMerchantPasswordFreeRace(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		s := newShop(t, newWorld(t, open(t), nil), nil)
		c := s.customer("13800000901", 2, 100_000)
		const n = 30
		codes := make([]string, n)
		for i := range codes {
			codes[i] = s.code(c)
		}
		got := make([]hebao.Order, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { got[i], errs[i] = s.till(fmt.Sprintf("FREE-RACE-%02d", i), codes[i], 1) })
		}
		wg.Wait()
		byStatus := map[hebao.OrderStatus]int{}
		for i, o := range got {
			if errs[i] != nil {
				t.Fatalf("till %d: %v", i, errs[i])
			}
			byStatus[o.Status]++
		}
		if d := cmp.Diff(map[hebao.OrderStatus]int{hebao.OrderSuccess: hebao.PasswordFreeDaily, hebao.OrderUserPaying: n - hebao.PasswordFreeDaily}, byStatus); d != "" {
			t.Errorf("orders by status (-want +got):\n%s", d)
		}
		if bal := s.balance(c.Wallet.Account); bal != 100_000-hebao.PasswordFreeDaily {
			t.Errorf("balance %d, want %d", bal, 100_000-hebao.PasswordFreeDaily)
		}
		mustVerify(t, s.db)
	})
}

// TestMerchantRefundReplayRace: the same refund sent 20 times at once answers the one
// refund every time.
func TestMerchantRefundReplayRace(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		s := newShop(t, newWorld(t, open(t), nil), nil)
		c := s.customer("13800000902", 2, 10_000)
		o := s.order("REPLAY-0001", 5_000, "")
		if _, err := s.pay(c, o.ID, "p"); err != nil {
			t.Fatal(err)
		}
		const n = 20
		ids := make([]string, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				var r hebao.Refund
				r, _, errs[i] = s.refund(o.OutTradeNo, "REPLAY-R-01", 1_000)
				ids[i] = r.ID
			})
		}
		wg.Wait()
		for i := range n {
			if errs[i] != nil || ids[i] != ids[0] {
				t.Errorf("refund %d: %v, id %s (first %s)", i, errs[i], ids[i], ids[0])
			}
		}
		if bal := s.balance(c.Wallet.Account); bal != 6_000 {
			t.Errorf("balance %d, want 6000: refunded once", bal)
		}
		mustVerify(t, s.db)
	})
}

// TestMerchantConfirmAutoTopup: confirming a till's order the balance cannot cover
// tops up the shortfall when auto top-up is on, and pays when the bank says yes.
func TestMerchantConfirmAutoTopup(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		s := newShop(t, w, nil)
		s.orders.Bank = w.banks
		ctx := context.Background()
		c := s.customer("13800000903", 2, 100)
		w.card(c.Customer.ID, "0007")
		if err := w.db.Transact(ctx, func(tx hebao.Tx) error {
			set := hebao.DefaultWalletSettings(c.Wallet.ID)
			set.AutoTopup = true
			return tx.SaveWalletSettings(ctx, set)
		}); err != nil {
			t.Fatal(err)
		}
		o, err := s.till("TILL-AUTO-01", s.code(c), 150_000)
		if err != nil || o.Status != hebao.OrderUserPaying {
			t.Fatalf("till: %v %+v", err, o)
		}
		var reply hebao.Movement
		_, err = s.orders.Confirm(ctx, hebao.ConfirmRequest{CustomerID: c.Customer.ID, DeviceID: "dev-" + c.Customer.Phone, OrderID: o.ID,
			PaymentPassword: payPassword, Key: hebao.NewIdempotencyKey(c.Customer.ID+" confirm", "k1", []byte(o.ID)),
			Reply: func(_ hebao.Order, m hebao.Movement) (hebao.Reply, error) {
				reply = m
				return hebao.Reply{Status: 202, Body: []byte("{}")}, nil
			}})
		if err != nil || reply.Kind != hebao.MovementTopup || reply.Amount != 150_000-100 {
			t.Fatalf("confirm with auto top-up: %v %+v", err, reply)
		}
		if got := s.waitOrder(o.OutTradeNo, hebao.OrderSuccess, 5*time.Second); got.Status != hebao.OrderSuccess {
			t.Fatalf("the order after the top-up: %+v", got)
		}
		if got := w.balance(c.Wallet.Account); got != 0 {
			t.Errorf("balance %d, want 0", got)
		}
		mustVerify(t, w.db)
	})
}
