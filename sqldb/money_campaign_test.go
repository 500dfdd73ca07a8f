package sqldb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

// TestCampaignOpeningGifts: a campaign funded from the marketing account gives each
// new wallet its red packet until the budget cannot cover another, then gives nothing
// and says so; 50 wallets opened at once over two processes never take more than the
// budget holds.
func TestCampaignOpeningGifts(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := []*DB{open(t), open(t)}
		keys := testKeyring(t)
		ctx := context.Background()
		admin := hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_test"}
		campaigns := &hebao.CampaignService{Store: dbs[0], Keys: keys}
		now := time.Now()
		c, err := campaigns.Create(ctx, admin, hebao.CampaignRequest{Name: "开通礼", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour),
			Budget: 8_880, Rules: hebao.CampaignRules{OpeningRedPacket: 888}})
		if err != nil {
			t.Fatal(err)
		}
		if st, err := campaigns.Status(ctx, c.ID); err != nil || st.State != "active" || st.Remaining != 8_880 || st.Spent != 0 {
			t.Fatalf("a new campaign: %v %+v", err, st)
		}
		// Bad requests create nothing.
		for name, r := range map[string]hebao.CampaignRequest{
			"no name":        {StartsAt: now, EndsAt: now.Add(time.Hour), Budget: 100},
			"ends first":     {Name: "x", StartsAt: now, EndsAt: now.Add(-time.Hour), Budget: 100},
			"no budget":      {Name: "x", StartsAt: now, EndsAt: now.Add(time.Hour)},
			"gift > budget":  {Name: "x", StartsAt: now, EndsAt: now.Add(time.Hour), Budget: 100, Rules: hebao.CampaignRules{OpeningRedPacket: 101}},
			"two years long": {Name: "x", StartsAt: now, EndsAt: now.Add(2 * 366 * 24 * time.Hour), Budget: 100},
		} {
			if _, err := campaigns.Create(ctx, admin, r); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
				t.Errorf("%s: %v, want invalid_request", name, err)
			}
		}

		const n = 50
		regs := make([]hebao.Registered, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			svc := &hebao.CustomerService{Store: dbs[i%2], OTP: anyCode{}, Argon2: cheapArgon2, Gifts: keys}
			wg.Go(func() {
				regs[i], errs[i] = svc.Register(ctx, hebao.Registration{Phone: fmt.Sprintf("137%08d", i), OTP: "123456", Password: "correct horse", DeviceID: "d"})
			})
		}
		wg.Wait()
		gifted, giftedPhone := 0, ""
		for i, r := range regs {
			if errs[i] != nil {
				t.Fatalf("register %d: %v", i, errs[i])
			}
			var promo int64
			dbs[0].View(ctx, func(tx hebao.Tx) error {
				as, err := tx.Accounts(ctx, r.Wallet.PromoAccount)
				promo = as[r.Wallet.PromoAccount].Balance
				return err
			})
			switch promo {
			case 888:
				gifted++
				giftedPhone = r.Customer.Phone
			case 0:
			default:
				t.Errorf("wallet %d got %d in red packets", i, promo)
			}
		}
		if gifted != 10 {
			t.Errorf("%d wallets got the red packet, want 10 (the budget holds 10)", gifted)
		}
		st, err := campaigns.Status(ctx, c.ID)
		if err != nil || st.State != "budget_spent" || st.Remaining != 0 || st.Spent != 8_880 || st.Grants != 10 {
			t.Errorf("the spent campaign: %v %+v", err, st)
		}
		if _, err := campaigns.Status(ctx, "cmp_nope"); hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("an unknown campaign: %v", err)
		}
		// Once per person: the grant is keyed by the person, whatever wallet asks.
		err = dbs[0].Transact(ctx, func(tx hebao.Tx) error {
			return tx.CreateGrant(ctx, hebao.Grant{ID: hebao.NewID("gnt"), CampaignID: c.ID, Kind: hebao.GrantOpeningRedPacket,
				PersonKey: "phone:" + keys.Lookup("grant person", giftedPhone), WalletID: "wal_x", Amount: 1, CreatedAt: tx.Now()})
		})
		if hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Errorf("a second grant to the same person: %v, want conflict", err)
		}
		mustVerify(t, dbs[0])
	})
}

// TestPromoSpending: red-packet money pays merchants first and never leaves as a
// transfer; a refund gives the red-packet share back to the promo balance, in
// proportion and exactly in total (hand-worked figures in the comments).
func TestPromoSpending(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		s := newShop(t, w, nil)
		ctx := context.Background()
		now := time.Now()
		if _, err := (&hebao.CampaignService{Store: w.db, Keys: w.keys}).Create(ctx, hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_x"},
			hebao.CampaignRequest{Name: "开通礼", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(time.Hour), Budget: 10_000,
				Rules: hebao.CampaignRules{OpeningRedPacket: 888}}); err != nil {
			t.Fatal(err)
		}
		r, err := (&hebao.CustomerService{Store: w.db, OTP: anyCode{}, Argon2: cheapArgon2, Gifts: w.keys}).Register(ctx,
			hebao.Registration{Phone: "13800001001", OTP: "123456", Password: "correct horse", DeviceID: "dev-13800001001"})
		if err != nil {
			t.Fatal(err)
		}
		hash := hebao.HashPaymentPassword(w.keys.DeriveKey(hebao.PaymentPasswordKeyPurpose), r.Wallet.ID, payPassword)
		if err := w.db.Transact(ctx, func(tx hebao.Tx) error {
			return tx.SavePaymentPassword(ctx, hebao.PaymentPassword{WalletID: r.Wallet.ID, Hash: hash, UpdatedAt: tx.Now()})
		}); err != nil {
			t.Fatal(err)
		}
		w.fund(r.Wallet.Account, 1_000)
		balances := func() (cash, promo int64) { return w.balance(r.Wallet.Account), w.balance(r.Wallet.PromoAccount) }
		check := func(step string, wantCash, wantPromo int64) {
			t.Helper()
			if cash, promo := balances(); cash != wantCash || promo != wantPromo {
				t.Errorf("%s: cash %d promo %d, want %d and %d", step, cash, promo, wantCash, wantPromo)
			}
		}
		check("opened", 1_000, 888)

		// 500 to pay, 888 in red packets: all from them. Left: cash 1000, promo 388.
		a := s.order("PROMO-0001", 500, "")
		if _, err := s.pay(r, a.ID, "p1"); err != nil {
			t.Fatal(err)
		}
		check("first payment", 1_000, 388)
		// 1000 to pay: 388 from red packets, 612 from cash. Left: cash 388, promo 0.
		b := s.order("PROMO-0002", 1_000, "")
		if _, err := s.pay(r, b.ID, "p2"); err != nil {
			t.Fatal(err)
		}
		check("second payment", 388, 0)
		if got, _ := s.orders.Get(ctx, s.merchant, b.OutTradeNo); got.PromoPaid != 388 {
			t.Errorf("promo paid %d, want 388", got.PromoPaid)
		}

		// Red-packet money never leaves as a transfer: only cash can.
		other := w.customer("13800001002", 2, 0)
		if _, err := w.transfers.Send(ctx, transferRequest(r, other.Customer.Phone, 389, "t1")); hebao.ErrorCode(err) != hebao.CodeInsufficientFunds {
			t.Errorf("a transfer above the cash balance: %v, want insufficient_funds", err)
		}

		// Refund half of b: 500 × 388 / 1000 = 194 back to red packets, 306 to cash.
		if _, _, err := s.refund(b.OutTradeNo, "PROMO-R-01", 500); err != nil {
			t.Fatal(err)
		}
		check("half refunded", 388+306, 194)
		// The other half: 1000 × 388 / 1000 − 194 = 194 more; 306 to cash. In all the
		// red packets get back exactly the 388 they paid.
		if _, _, err := s.refund(b.OutTradeNo, "PROMO-R-02", 500); err != nil {
			t.Fatal(err)
		}
		check("all refunded", 388+306+306, 388)
		// A refund of a, paid wholly by red packets: 333 × 500 / 500 = 333 back to them.
		if _, _, err := s.refund(a.OutTradeNo, "PROMO-R-03", 333); err != nil {
			t.Fatal(err)
		}
		check("a refunded in part", 1_000, 721)
		mustVerify(t, w.db)
	})
}

// TestPromoExpiry: when a campaign ends, the red-packet money its grants left unspent
// goes back to its budget, once, and the customer is told; money is taken as spent
// from the campaign that ends first (hand-worked figures in the comments).
func TestPromoExpiry(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		s := newShop(t, w, nil)
		ctx := context.Background()
		clock := &fakeClock{t: time.Now().UTC()}
		campaigns := &hebao.CampaignService{Store: w.db, Keys: w.keys, Now: clock.Now}
		admin := hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_x"}
		start := clock.Now().Add(-time.Minute)
		a, err := campaigns.Create(ctx, admin, hebao.CampaignRequest{Name: "A", StartsAt: start, EndsAt: start.Add(time.Hour), Budget: 10_000,
			Rules: hebao.CampaignRules{OpeningRedPacket: 888}})
		if err != nil {
			t.Fatal(err)
		}
		b, err := campaigns.Create(ctx, admin, hebao.CampaignRequest{Name: "B", StartsAt: start, EndsAt: start.Add(2 * time.Hour), Budget: 10_000,
			Rules: hebao.CampaignRules{OpeningRedPacket: 500}})
		if err != nil {
			t.Fatal(err)
		}
		customers := &hebao.CustomerService{Store: w.db, OTP: anyCode{}, Argon2: cheapArgon2, Gifts: w.keys, Now: clock.Now}
		open2 := func(phone string) hebao.Registered {
			r, err := customers.Register(ctx, hebao.Registration{Phone: phone, OTP: "123456", Password: "correct horse", DeviceID: "dev-" + phone})
			if err != nil {
				t.Fatal(err)
			}
			hash := hebao.HashPaymentPassword(w.keys.DeriveKey(hebao.PaymentPasswordKeyPurpose), r.Wallet.ID, payPassword)
			if err := w.db.Transact(ctx, func(tx hebao.Tx) error {
				return tx.SavePaymentPassword(ctx, hebao.PaymentPassword{WalletID: r.Wallet.ID, Hash: hash, UpdatedAt: tx.Now()})
			}); err != nil {
				t.Fatal(err)
			}
			return r
		}
		spender, saver := open2("13800001101"), open2("13800001102")
		if got := w.balance(spender.Wallet.PromoAccount); got != 888+500 {
			t.Fatalf("red packets %d, want 1388", got)
		}
		// Spend 1000: 1388 − 1000 = 388 left, counted as B's (A ends first).
		o := s.order("EXPIRE-0001", 1_000, "")
		if _, err := s.pay(spender, o.ID, "p"); err != nil {
			t.Fatal(err)
		}
		// A ends: the spender keeps 388 for B (≤ 500), so gives A back 0; the saver
		// gives A its whole 888.
		clock.Add(time.Hour)
		if n, err := campaigns.ExpireDue(ctx); err != nil || n != 2 {
			t.Fatalf("A's sweep: %d grants, %v; want 2", n, err)
		}
		if got := w.balance(spender.Wallet.PromoAccount); got != 388 {
			t.Errorf("spender after A: %d, want 388", got)
		}
		if got := w.balance(saver.Wallet.PromoAccount); got != 500 {
			t.Errorf("saver after A: %d, want 500", got)
		}
		if st, _ := campaigns.Status(ctx, a.ID); st.Remaining != 10_000-888-888+888 || st.State != "ended" {
			t.Errorf("A after its sweep: %+v", st)
		}
		if n, _ := campaigns.ExpireDue(ctx); n != 0 {
			t.Errorf("A swept again: %d", n)
		}
		// The spender's order is refunded after A ended: of its 1000 in red packets,
		// B's 112 go back to the promo balance (500 again, all B gave) and A's 888 to
		// A's budget, not to a balance no sweep would empty.
		if _, _, err := s.refund("EXPIRE-0001", "EXPIRE-R-0001", 1_000); err != nil {
			t.Fatal(err)
		}
		if got := w.balance(spender.Wallet.PromoAccount); got != 500 {
			t.Errorf("spender after the refund: %d, want 500", got)
		}
		if got := w.balance(spender.Wallet.Account); got != 0 {
			t.Errorf("the refund paid %d in cash, want 0", got)
		}
		if st, _ := campaigns.Status(ctx, a.ID); st.Remaining != 10_000-888-888+888+888 {
			t.Errorf("A after the refund: %+v", st)
		}
		// B ends: 500 and 500 go back.
		clock.Add(time.Hour)
		if n, err := campaigns.ExpireDue(ctx); err != nil || n != 2 {
			t.Fatalf("B's sweep: %d, %v", n, err)
		}
		if w.balance(spender.Wallet.PromoAccount) != 0 || w.balance(saver.Wallet.PromoAccount) != 0 {
			t.Error("red packets left after every campaign ended")
		}
		if st, _ := campaigns.Status(ctx, b.ID); st.Remaining != 10_000-500-500+500+500 {
			t.Errorf("B after its sweep: %+v", st)
		}
		if got := w.movementCount(saver.Wallet.ID, hebao.MovementPromoExpired); got != 2 {
			t.Errorf("the saver was told %d times, want 2", got)
		}
		mustVerify(t, w.db)
	})
}

// couponWorld: a shop, and a campaign whose opening pack holds the templates.
func couponWorld(t *testing.T, db *DB, budget int64, pack ...hebao.CouponTemplate) (*shop, *hebao.CustomerService, hebao.Campaign) {
	t.Helper()
	w := newWorld(t, db, nil)
	s := newShop(t, w, nil)
	now := time.Now()
	c, err := (&hebao.CampaignService{Store: db, Keys: w.keys}).Create(context.Background(), hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_x"},
		hebao.CampaignRequest{Name: "券包", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(30 * 24 * time.Hour), Budget: budget,
			Rules: hebao.CampaignRules{OpeningCoupons: pack}})
	if err != nil {
		t.Fatal(err)
	}
	return s, &hebao.CustomerService{Store: db, OTP: anyCode{}, Argon2: cheapArgon2, Gifts: w.keys}, c
}

// registerPaying opens a wallet through customers (with its opening gifts), sets the
// payment password and funds it.
func (s *shop) registerPaying(customers *hebao.CustomerService, phone string, fund int64) hebao.Registered {
	s.t.Helper()
	ctx := context.Background()
	r, err := customers.Register(ctx, hebao.Registration{Phone: phone, OTP: "123456", Password: "correct horse", DeviceID: "dev-" + phone})
	if err != nil {
		s.t.Fatal(err)
	}
	hash := hebao.HashPaymentPassword(s.keys.DeriveKey(hebao.PaymentPasswordKeyPurpose), r.Wallet.ID, payPassword)
	if err := s.db.Transact(ctx, func(tx hebao.Tx) error {
		return tx.SavePaymentPassword(ctx, hebao.PaymentPassword{WalletID: r.Wallet.ID, Hash: hash, UpdatedAt: tx.Now()})
	}); err != nil {
		s.t.Fatal(err)
	}
	if fund > 0 {
		s.fund(r.Wallet.Account, fund)
	}
	return r
}

func (s *shop) payWith(c hebao.Registered, orderID, couponID, key string) (hebao.Order, error) {
	var paid hebao.Order
	_, err := s.orders.Pay(context.Background(), hebao.PayRequest{CustomerID: c.Customer.ID, DeviceID: "dev-" + c.Customer.Phone,
		OrderID: orderID, Method: "balance", CouponID: couponID, PaymentPassword: payPassword,
		Key: hebao.NewIdempotencyKey(c.Customer.ID+" pay", key, []byte(orderID+couponID)),
		Reply: func(o hebao.Order, m hebao.Movement) (hebao.Reply, error) {
			paid = o
			return hebao.Reply{Status: 201, Body: []byte("{}")}, nil
		}})
	return paid, err
}

func couponOf(t *testing.T, db *DB, customerID string, kind hebao.CouponKind) string {
	t.Helper()
	var id string
	db.View(context.Background(), func(tx hebao.Tx) error {
		cs, err := tx.Coupons(context.Background(), customerID, time.Now())
		for _, c := range cs {
			if c.Kind == kind {
				id = c.ID
			}
		}
		return err
	})
	if id == "" {
		t.Fatalf("no %s coupon", kind)
	}
	return id
}

// TestCoupons: a threshold coupon just below and at its threshold, a percent coupon
// at its cap; the merchant gets the full price, the campaign pays the difference in
// the same transfer; refunds give the subsidy back in proportion (hand-worked figures)
// and the coupon is not given back.
func TestCoupons(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		s, customers, c := couponWorld(t, open(t), 100_000,
			hebao.CouponTemplate{Kind: hebao.CouponThreshold, Off: 500, Threshold: 3_000, ValidDays: 7},
			hebao.CouponTemplate{Kind: hebao.CouponPercent, Percent: 20, Cap: 1_000, ValidDays: 7})
		ctx := context.Background()
		r := s.registerPaying(customers, "13800001201", 20_000)
		threshold, percent := couponOf(t, s.db, r.Customer.ID, hebao.CouponThreshold), couponOf(t, s.db, r.Customer.ID, hebao.CouponPercent)

		// ¥29.99 is below the ¥30 threshold: refused, nothing paid.
		below := s.order("COUPON-0001", 2_999, "")
		if _, err := s.payWith(r, below.ID, threshold, "k1"); hebao.ErrorCode(err) != hebao.CodeCouponUnusable {
			t.Errorf("below the threshold: %v, want coupon_unusable", err)
		}
		// ¥30.00: ¥5 off. The customer pays 2500, the campaign 500, the merchant gets 3000.
		at := s.order("COUPON-0002", 3_000, "")
		if paid, err := s.payWith(r, at.ID, threshold, "k2"); err != nil || paid.Subsidy != 500 {
			t.Fatalf("at the threshold: %v %+v", err, paid)
		}
		if got := s.balance(r.Wallet.Account); got != 20_000-2_500 {
			t.Errorf("after the threshold coupon: %d, want %d", got, 20_000-2_500)
		}
		// Used once: not again.
		again := s.order("COUPON-0003", 3_000, "")
		if _, err := s.payWith(r, again.ID, threshold, "k3"); hebao.ErrorCode(err) != hebao.CodeCouponUnusable {
			t.Errorf("a used coupon: %v, want coupon_unusable", err)
		}
		// ¥100 at 20% off is ¥20, capped at ¥10: the customer pays 9000.
		big := s.order("COUPON-0004", 10_000, "")
		if paid, err := s.payWith(r, big.ID, percent, "k4"); err != nil || paid.Subsidy != 1_000 {
			t.Fatalf("percent at its cap: %v %+v", err, paid)
		}
		if got := s.balance(r.Wallet.Account); got != 20_000-2_500-9_000 {
			t.Errorf("after the percent coupon: %d", got)
		}
		if got := s.merchantBalance(); got != 3_000+10_000 {
			t.Errorf("merchant %d, want 13000: the full prices", got)
		}
		budget := func() int64 { return s.balance(c.Account) }
		if got := budget(); got != 100_000-500-1_000 {
			t.Errorf("campaign %d, want %d", got, 100_000-500-1_000)
		}
		// Refund ¥40 of the ¥100 order: 4000 × 1000 / 10000 = 400 back to the campaign,
		// 3600 to the customer; then the other ¥60: 1000 − 400 = 600 and 5400. In all
		// the customer gets back the 9000 paid and the campaign its 1000.
		if _, _, err := s.refund(big.OutTradeNo, "COUPON-R-01", 4_000); err != nil {
			t.Fatal(err)
		}
		if got := budget(); got != 100_000-500-1_000+400 {
			t.Errorf("campaign after ¥40 refunded: %d", got)
		}
		if _, _, err := s.refund(big.OutTradeNo, "COUPON-R-02", 6_000); err != nil {
			t.Fatal(err)
		}
		if got := budget(); got != 100_000-500 {
			t.Errorf("campaign after all refunded: %d, want %d", got, 100_000-500)
		}
		if got := s.balance(r.Wallet.Account); got != 20_000-2_500 {
			t.Errorf("customer after all refunded: %d, want %d", got, 20_000-2_500)
		}
		// The coupon stays used.
		if _, err := s.payWith(r, s.order("COUPON-0005", 10_000, "").ID, percent, "k5"); hebao.ErrorCode(err) != hebao.CodeCouponUnusable {
			t.Errorf("the refunded order's coupon again: %v, want coupon_unusable", err)
		}
		if offers, err := (&hebao.CampaignService{Store: s.db}).Coupons(ctx, r.Customer.ID, ""); err != nil || len(offers) != 0 {
			t.Errorf("usable coupons left: %v %d", err, len(offers))
		}
		mustVerify(t, s.db)
	})
}

// TestCouponBudgetRace: 50 customers each pay at once with a ¥1 coupon of a campaign
// whose budget holds ¥10: exactly 10 payments use a coupon, the campaign account never
// goes below zero, and the rest are refused whole.
func TestCouponBudgetRace(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		s, customers, c := couponWorld(t, open(t), 1_000, hebao.CouponTemplate{Kind: hebao.CouponFixed, Off: 100, ValidDays: 7})
		const n = 50
		payers := make([]hebao.Registered, n)
		coupons := make([]string, n)
		orders := make([]hebao.Order, n)
		for i := range n {
			payers[i] = s.registerPaying(customers, fmt.Sprintf("136%08d", i), 1_000)
			coupons[i] = couponOf(t, s.db, payers[i].Customer.ID, hebao.CouponFixed)
			orders[i] = s.order(fmt.Sprintf("BUDGET-%04d", i), 500, "")
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() { _, errs[i] = s.payWith(payers[i], orders[i].ID, coupons[i], "k") })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch hebao.ErrorCode(err) {
			case "":
				ok++
			case hebao.CodeCouponUnusable:
			default:
				t.Errorf("unexpected: %v", err)
			}
		}
		if ok != 10 {
			t.Errorf("%d payments with a coupon, want 10 (the budget holds 10)", ok)
		}
		if got := s.balance(c.Account); got != 0 {
			t.Errorf("campaign account %d, want 0", got)
		}
		mustVerify(t, s.db)
	})
}

// TestRefundNeverTurnsPromoIntoCash: an order paid 300 by a coupon and 700 by red
// packets (no cash) refunded 1 fen, then the rest: no fen of it comes back as cash,
// and the rest can be refunded.
func TestRefundNeverTurnsPromoIntoCash(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		s, customers, c := couponWorld(t, open(t), 100_000, hebao.CouponTemplate{Kind: hebao.CouponFixed, Off: 300, ValidDays: 7})
		ctx := context.Background()
		if _, err := (&hebao.CampaignService{Store: s.db, Keys: s.keys}).Create(ctx, hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_x"},
			hebao.CampaignRequest{Name: "红包", StartsAt: time.Now().Add(-time.Hour), EndsAt: time.Now().Add(time.Hour), Budget: 10_000,
				Rules: hebao.CampaignRules{OpeningRedPacket: 700}}); err != nil {
			t.Fatal(err)
		}
		r := s.registerPaying(customers, "13800009001", 0)
		o := s.order("RR-0001", 1_000, "")
		if paid, err := s.payWith(r, o.ID, couponOf(t, s.db, r.Customer.ID, hebao.CouponFixed), "k1"); err != nil || paid.Subsidy != 300 || paid.PromoPaid != 700 {
			t.Fatalf("pay: %v %+v", err, paid)
		}
		if _, _, err := s.refund(o.OutTradeNo, "RR-R-0001", 1); err != nil {
			t.Fatal(err)
		}
		if got := s.balance(r.Wallet.Account); got != 0 {
			t.Errorf("1 fen refunded: cash %d, want 0 (nothing was paid in cash)", got)
		}
		if _, _, err := s.refund(o.OutTradeNo, "RR-R-0002", 999); err != nil {
			t.Fatalf("the other 999: %v", err)
		}
		if cash, promo, budget := s.balance(r.Wallet.Account), s.balance(r.Wallet.PromoAccount), s.balance(c.Account); cash != 0 || promo != 700 || budget != 100_000 {
			t.Errorf("all refunded: cash %d promo %d coupon budget %d, want 0, 700, 100000", cash, promo, budget)
		}
		mustVerify(t, s.db)
	})
}

// TestStalePromoBalance: another process refunds red-packet money into a wallet this
// process remembers as having none; this process still spends it first.
func TestStalePromoBalance(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbA, dbB := open(t), open(t)
		w := newWorld(t, dbA, nil)
		s := newShop(t, w, nil)
		ctx := context.Background()
		if _, err := (&hebao.CampaignService{Store: dbA, Keys: w.keys}).Create(ctx, hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_x"},
			hebao.CampaignRequest{Name: "x", StartsAt: time.Now().Add(-time.Hour), EndsAt: time.Now().Add(time.Hour), Budget: 10_000,
				Rules: hebao.CampaignRules{OpeningRedPacket: 888}}); err != nil {
			t.Fatal(err)
		}
		customers := &hebao.CustomerService{Store: dbA, OTP: anyCode{}, Argon2: cheapArgon2, Gifts: w.keys}
		r := s.registerPaying(customers, "13800009003", 0)
		o := s.order("SP-0001", 888, "")
		if _, err := s.pay(r, o.ID, "p1"); err != nil { // A remembers: no red packets left
			t.Fatal(err)
		}
		inB := *s.orders
		inB.Store = dbB
		if _, _, _, err := inB.Refund(ctx, s.merchant, hebao.RefundRequest{OutTradeNo: o.OutTradeNo, OutRefundNo: "SP-R-0001", Amount: 888}); err != nil {
			t.Fatal(err)
		}
		if _, err := s.pay(r, s.order("SP-0002", 500, "").ID, "p2"); err != nil {
			t.Fatalf("paying from the red packets B gave back: %v", err)
		}
		s.fund(r.Wallet.Account, 1_000)
		if _, err := s.pay(r, s.order("SP-0003", 500, "").ID, "p3"); err != nil {
			t.Fatal(err)
		}
		// 888 − 500 = 388 of red packets, then 500 = 388 of them and 112 of cash.
		if promo, cash := s.balance(r.Wallet.PromoAccount), s.balance(r.Wallet.Account); promo != 0 || cash != 888 {
			t.Errorf("promo %d cash %d, want 0 and 888: red packets first", promo, cash)
		}
		mustVerify(t, dbA)
	})
}
