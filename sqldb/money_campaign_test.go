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
		// B ends: 388 and 500 go back.
		clock.Add(time.Hour)
		if n, err := campaigns.ExpireDue(ctx); err != nil || n != 2 {
			t.Fatalf("B's sweep: %d, %v", n, err)
		}
		if w.balance(spender.Wallet.PromoAccount) != 0 || w.balance(saver.Wallet.PromoAccount) != 0 {
			t.Error("red packets left after every campaign ended")
		}
		if st, _ := campaigns.Status(ctx, b.ID); st.Remaining != 10_000-500-500+388+500 {
			t.Errorf("B after its sweep: %+v", st)
		}
		if got := w.movementCount(saver.Wallet.ID, hebao.MovementPromoExpired); got != 2 {
			t.Errorf("the saver was told %d times, want 2", got)
		}
		mustVerify(t, w.db)
	})
}
