package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// pointsOf returns the wallet's points balance.
func (w *world) pointsOf(r hebao.Registered) int64 {
	w.t.Helper()
	return w.balance(r.Wallet.PointsAccount)
}

// buckets returns the wallet's buckets by year, as GET /v1/points shows them.
func (w *world) buckets(points *hebao.PointsService, r hebao.Registered) map[int]hebao.PointsBucket {
	w.t.Helper()
	v, err := points.Points(context.Background(), r.Customer.ID, 0, 1)
	if err != nil {
		w.t.Fatal(err)
	}
	out := map[int]hebao.PointsBucket{}
	for _, b := range v.Buckets {
		out[b.Year] = b
	}
	return out
}

// givePoints earns the wallet n points now, as a payment would.
func (w *world) givePoints(r hebao.Registered, n int64) {
	w.t.Helper()
	ctx := context.Background()
	if err := w.db.Transact(ctx, func(tx hebao.Tx) error {
		iss, err := tx.SystemAccount(ctx, hebao.AccountPointsIssuance, "")
		if err != nil {
			return err
		}
		return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("trf"), Kind: hebao.TransferPointsEarn, Ref: "test",
			Postings: hebao.Move(iss, r.Wallet.PointsAccount, hebao.POINT, n)})
	}); err != nil {
		w.t.Fatal(err)
	}
}

func pointsCampaign(t *testing.T, s *shop, budget int64, rules hebao.CampaignRules) hebao.Campaign {
	t.Helper()
	now := time.Now()
	if s.clock != nil {
		now = s.clock.Now()
	}
	c, err := (&hebao.CampaignService{Store: s.db, Keys: s.keys}).Create(context.Background(), hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_x"},
		hebao.CampaignRequest{Name: "积分活动", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(300 * 24 * time.Hour), Budget: budget, Rules: rules})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func redeem(points *hebao.PointsService, c hebao.Registered, r hebao.RedeemRequest) (hebao.Redemption, error) {
	var got hebao.Redemption
	r.CustomerID = c.Customer.ID
	if r.Key == "" {
		r.Key = hebao.NewID("key")
	}
	r.Reply = func(red hebao.Redemption) (hebao.Reply, error) {
		got = red
		b, err := json.Marshal(red)
		return hebao.Reply{Status: 201, Body: b}, err
	}
	_, err := points.Redeem(context.Background(), r)
	return got, err
}

// TestPointsEarnAndReverse: payments from the cash balance earn a point per whole
// yuan (more while a campaign gives more), red-packet money and coupon discounts
// earn nothing, and refunds take points back in proportion to the cash refunded,
// rounded down on the running total, all of them once the whole order is refunded.
// Hand-worked figures in the comments.
func TestPointsEarnAndReverse(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		s := newShop(t, w, nil)
		ctx := context.Background()
		plain := s.registerPaying(&hebao.CustomerService{Store: w.db, OTP: anyCode{}, Argon2: cheapArgon2, Gifts: w.keys}, "13900000001", 100_000)

		// ¥123.45 from cash: 123 points.
		o := s.order("PTS-0001", 12_345, "")
		paid, err := s.pay(plain, o.ID, "k1")
		if err != nil {
			t.Fatal(err)
		}
		if paid.PointsEarned != 123 || w.pointsOf(plain) != 123 {
			t.Fatalf("earned %d, balance %d, want 123", paid.PointsEarned, w.pointsOf(plain))
		}
		// ¥0.99 earns nothing.
		if _, err := s.pay(plain, s.order("PTS-0002", 99, "").ID, "k2"); err != nil {
			t.Fatal(err)
		}
		if got := w.pointsOf(plain); got != 123 {
			t.Fatalf("after ¥0.99: %d points, want 123", got)
		}
		// Refund ¥30.00 of ¥123.45: 123 × 3000 / 12345 = 29.9 → 29 back, 94 left.
		if _, _, err := s.refund("PTS-0001", "PTS-R-0001", 3_000); err != nil {
			t.Fatal(err)
		}
		if got := w.pointsOf(plain); got != 94 {
			t.Fatalf("after the first refund: %d points, want 94", got)
		}
		// Refund ¥0.45: running total 3045 → 123 × 3045 / 12345 = 30.3 → 30: 1 more back.
		if _, _, err := s.refund("PTS-0001", "PTS-R-0002", 45); err != nil {
			t.Fatal(err)
		}
		if got := w.pointsOf(plain); got != 93 {
			t.Fatalf("after the second refund: %d points, want 93", got)
		}
		// The rest: all 123 back, none left.
		_, ro, err := s.refund("PTS-0001", "PTS-R-0003", 9_300)
		if err != nil {
			t.Fatal(err)
		}
		if got := w.pointsOf(plain); got != 0 || ro.PointsReversed != 123 {
			t.Fatalf("after the whole refund: %d points, reversed %d, want 0 and 123", got, ro.PointsReversed)
		}

		// A campaign giving 3 points per yuan and a red packet of ¥8.88: a ¥100.00
		// order takes 888 from red packets and 9112 from cash, earning 91 × 3 = 273.
		pointsCampaign(t, s, 100_000, hebao.CampaignRules{OpeningRedPacket: 888, PointsPerYuan: 3})
		gifted := s.registerPaying(&hebao.CustomerService{Store: w.db, OTP: anyCode{}, Argon2: cheapArgon2, Gifts: w.keys}, "13900000002", 100_000)
		if p, err := s.pay(gifted, s.order("PTS-0003", 10_000, "").ID, "k3"); err != nil || p.PromoPaid != 888 || p.PointsEarned != 273 {
			t.Fatalf("paid with red packets: %v promo %d points %d, want 888 and 273", err, p.PromoPaid, p.PointsEarned)
		}
		// Refund ¥50.00: red packets get 888 × 5000 / 10000 = 444, cash 4556, and
		// points 273 × 4556 / 9112 = 136.5 → 136 go back; 137 left.
		if _, _, err := s.refund("PTS-0003", "PTS-R-0004", 5_000); err != nil {
			t.Fatal(err)
		}
		if got := w.pointsOf(gifted); got != 137 {
			t.Fatalf("after half refunded: %d points, want 137", got)
		}
		if _, _, err := s.refund("PTS-0003", "PTS-R-0005", 5_000); err != nil {
			t.Fatal(err)
		}
		if got := w.pointsOf(gifted); got != 0 {
			t.Fatalf("after all refunded: %d points, want 0", got)
		}

		// Points spent before the refund are not clawed back from anything else:
		// earn 300 on ¥100, turn them into cash, then the refund finds none to take.
		spender := s.registerPaying(&hebao.CustomerService{Store: w.db, OTP: anyCode{}, Argon2: cheapArgon2}, "13900000003", 100_000)
		if _, err := s.pay(spender, s.order("PTS-0004", 10_000, "").ID, "k4"); err != nil {
			t.Fatal(err)
		}
		cmp := pointsCampaign(t, s, 10_000, hebao.CampaignRules{PointsCash: &hebao.PointsCashRate{Points: 100, Fen: 100}})
		points := &hebao.PointsService{Store: w.db}
		if _, err := redeem(points, spender, hebao.RedeemRequest{CampaignID: cmp.ID, Kind: "cash", Points: 300}); err != nil {
			t.Fatal(err)
		}
		cashBefore := w.balance(spender.Wallet.Account)
		if _, ro, err := s.refund("PTS-0004", "PTS-R-0006", 10_000); err != nil || ro.PointsReversed != 300 {
			t.Fatalf("refund after spending: %v, reversed %d", err, ro.PointsReversed)
		}
		if got := w.pointsOf(spender); got != 0 {
			t.Errorf("points after the refund: %d, want 0", got)
		}
		if got := w.balance(spender.Wallet.Account) - cashBefore; got != 10_000 {
			t.Errorf("the refund paid %d, want the whole 10000 (redeemed cash is not taken back)", got)
		}
		_ = ctx
		mustVerify(t, w.db)
	})
}

// TestPointsRedeem: cash for points at a campaign's rate moves points to the issuance
// account and cash from the budget in one transfer; a coupon for points counts
// against its per-customer limit, even under a burst; bad requests change nothing.
func TestPointsRedeem(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		s := newShop(t, w, nil)
		customers := &hebao.CustomerService{Store: w.db, OTP: anyCode{}, Argon2: cheapArgon2}
		a := s.registerPaying(customers, "13900000011", 0)
		b := s.registerPaying(customers, "13900000012", 0)
		w.givePoints(a, 150)
		w.givePoints(a, 1_000)
		cmp := pointsCampaign(t, s, 5_000, hebao.CampaignRules{
			PointsCash: &hebao.PointsCashRate{Points: 100, Fen: 50},
			PointsCoupons: []hebao.PointsCouponOffer{{Points: 200, PerCustomer: 2,
				Coupon: hebao.CouponTemplate{Kind: hebao.CouponFixed, Off: 300, ValidDays: 30}}},
		})
		points := &hebao.PointsService{Store: w.db}

		for name, r := range map[string]hebao.RedeemRequest{
			"not a step":       {CampaignID: cmp.ID, Kind: "cash", Points: 150},
			"no points":        {CampaignID: cmp.ID, Kind: "cash"},
			"unknown kind":     {CampaignID: cmp.ID, Kind: "gold", Points: 100},
			"not a campaign":   {CampaignID: "ord_x", Kind: "cash", Points: 100},
			"negative coupon":  {CampaignID: cmp.ID, Kind: "coupon", CouponIndex: -1},
			"too many points":  {CampaignID: cmp.ID, Kind: "cash", Points: 1 << 60},
			"unknown campaign": {CampaignID: "cmp_06f8w3y0abcdefghjkmnpqrstv", Kind: "cash", Points: 100},
			"no such offer":    {CampaignID: cmp.ID, Kind: "coupon", CouponIndex: 3},
			"more than held":   {CampaignID: cmp.ID, Kind: "cash", Points: 1_200},
		} {
			if _, err := redeem(points, a, r); err == nil {
				t.Errorf("%s: accepted", name)
			}
		}
		if got := w.pointsOf(a); got != 1_150 {
			t.Fatalf("after refused requests: %d points, want 1150", got)
		}

		// 300 points → ¥1.50.
		red, err := redeem(points, a, hebao.RedeemRequest{CampaignID: cmp.ID, Kind: "cash", Points: 300})
		if err != nil || red.Cash != 150 || red.PointsAfter != 850 {
			t.Fatalf("redeem 300: %v %+v", err, red)
		}
		year := time.Now().In(time.FixedZone("CST", 8*3600)).Year()
		if bs := w.buckets(points, a); len(bs) != 1 || bs[year].Earned != 1_150 || bs[year].Remaining != 850 {
			t.Errorf("buckets after redeeming: %+v", bs)
		}
		if got := w.balance(a.Wallet.Account); got != 150 {
			t.Errorf("cash %d, want 150", got)
		}
		if got := w.balance(cmp.Account); got != 4_850 {
			t.Errorf("budget %d, want 4850", got)
		}
		// The same key again answers the first redemption and moves nothing.
		key := hebao.NewID("key")
		for range 2 {
			if _, err := redeem(points, a, hebao.RedeemRequest{CampaignID: cmp.ID, Kind: "cash", Points: 100, Key: key}); err != nil {
				t.Fatal(err)
			}
		}
		if got := w.pointsOf(a); got != 750 {
			t.Errorf("after a retried redemption: %d points, want 750", got)
		}
		if _, err := redeem(points, a, hebao.RedeemRequest{CampaignID: cmp.ID, Kind: "cash", Points: 200, Key: key}); hebao.ErrorCode(err) != hebao.CodeIdempotencyKeyReused {
			t.Errorf("the key with another request: %v", err)
		}

		// Ten coupon redemptions at once: the limit is two.
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range errs {
			wg.Go(func() {
				_, errs[i] = redeem(points, a, hebao.RedeemRequest{CampaignID: cmp.ID, Kind: "coupon", CouponIndex: 0})
			})
		}
		wg.Wait()
		codes := codeCounts(errs)
		if codes[""] != 2 || codes[hebao.CodePromotionUnavailable] != 8 {
			t.Errorf("coupon burst: %v, want 2 taken and 8 promotion_unavailable", codes)
		}
		if got := w.pointsOf(a); got != 350 {
			t.Errorf("after two coupons: %d points, want 350", got)
		}
		// The coupon pays: ¥3.00 off ¥10.00, the merchant gets ¥10.00.
		cpn := couponOf(t, w.db, a.Customer.ID, hebao.CouponFixed)
		w.fund(a.Wallet.Account, 1_000)
		if p, err := s.payWith(a, s.order("PTS-0101", 1_000, "").ID, cpn, "c1"); err != nil || p.Subsidy != 300 {
			t.Fatalf("pay with the points coupon: %v %+v", err, p)
		}
		if got := s.merchantBalance(); got != 1_000 {
			t.Errorf("merchant got %d, want 1000", got)
		}
		// A coupon is sold only while the budget can pay all it may take off: a
		// campaign holding ¥49.00 does not sell one of up to ¥50.00 off.
		big := pointsCampaign(t, s, 4_900, hebao.CampaignRules{PointsCoupons: []hebao.PointsCouponOffer{{Points: 10,
			Coupon: hebao.CouponTemplate{Kind: hebao.CouponPercent, Percent: 50, Cap: 5_000, ValidDays: 7}}}})
		if _, err := redeem(points, a, hebao.RedeemRequest{CampaignID: big.ID, Kind: "coupon"}); hebao.ErrorCode(err) != hebao.CodePromotionUnavailable {
			t.Errorf("a coupon the budget cannot cover: %v", err)
		}
		// b has no points.
		if _, err := redeem(points, b, hebao.RedeemRequest{CampaignID: cmp.ID, Kind: "cash", Points: 100}); hebao.ErrorCode(err) != hebao.CodeInsufficientFunds {
			t.Errorf("redeeming points one does not have: %v", err)
		}
		mustVerify(t, w.db)
	})
}

// TestPointsBudgetRace: 50 customers at once each turn points into the cash a
// campaign's budget holds for 10 of them: exactly 10 succeed, the budget ends at
// zero, and the others keep their points.
func TestPointsBudgetRace(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := []*DB{open(t), open(t)}
		w := newWorld(t, dbs[0], nil)
		s := newShop(t, w, nil)
		cmp := pointsCampaign(t, s, 1_000, hebao.CampaignRules{PointsCash: &hebao.PointsCashRate{Points: 10, Fen: 100}})
		const n = 50
		cs := make([]hebao.Registered, n)
		for i := range cs {
			cs[i] = w.customer(fmt.Sprintf("1390001%04d", i), 3, 0)
			w.givePoints(cs[i], 10)
		}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range cs {
			points := &hebao.PointsService{Store: dbs[i%2]}
			wg.Go(func() {
				_, errs[i] = redeem(points, cs[i], hebao.RedeemRequest{CampaignID: cmp.ID, Kind: "cash", Points: 10})
			})
		}
		wg.Wait()
		codes := codeCounts(errs)
		if codes[""] != 10 || codes[hebao.CodePromotionUnavailable] != 40 {
			t.Errorf("redemptions: %v, want 10 and 40 promotion_unavailable", codes)
		}
		if got := w.balance(cmp.Account); got != 0 {
			t.Errorf("budget left %d, want 0", got)
		}
		// A spent campaign says so, and offers nothing more.
		if st, err := (&hebao.CampaignService{Store: w.db}).Status(context.Background(), cmp.ID); err != nil || st.State != "budget_spent" {
			t.Errorf("the spent campaign: %v %+v", err, st)
		}
		if v, err := (&hebao.PointsService{Store: w.db}).Points(context.Background(), cs[0].Customer.ID, 0, 1); err != nil || len(v.Offers) != 0 {
			t.Errorf("offers of a spent campaign: %v %+v", err, v.Offers)
		}
		for i, c := range cs {
			pts, cash := w.pointsOf(c), w.balance(c.Wallet.Account)
			if (errs[i] == nil) != (pts == 0 && cash == 100) || (errs[i] != nil) != (pts == 10 && cash == 0) {
				t.Errorf("customer %d: %v, %d points, %d fen", i, errs[i], pts, cash)
			}
		}
		mustVerify(t, w.db)
	})
}

// TestPointsExpiry: with a fake clock, points earned in 2026 expire at the first
// moment of 2028 China time, those of 2027 a year later; spending takes the oldest
// first, a refund's points too, and the customer is told. Running the job again
// expires nothing twice.
func TestPointsExpiry(t *testing.T) {
	for _, backend := range sqldbtest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			t.Parallel()
			cst := time.FixedZone("CST", 8*3600)
			clock := &fakeClock{t: time.Date(2026, 6, 15, 12, 0, 0, 0, cst)}
			db := openTest(t, Config{URL: sqldbtest.URL(t, backend), DataDir: t.TempDir(), Now: clock.Now})
			w := newWorld(t, db, nil)
			s := newShop(t, w, clock)
			c := s.registerPaying(&hebao.CustomerService{Store: w.db, OTP: anyCode{}, Argon2: cheapArgon2}, "13900000021", 100_000)
			points := &hebao.PointsService{Store: w.db, Now: clock.Now}
			ctx := context.Background()

			if _, err := s.pay(c, s.order("EXP-0001", 50_000, "").ID, "e1"); err != nil { // 500 points in 2026
				t.Fatal(err)
			}
			clock.Add(30 * 24 * time.Hour)
			if _, err := s.pay(c, s.order("EXP-0002", 10_000, "").ID, "e2"); err != nil { // 100 more in 2026
				t.Fatal(err)
			}
			clock.t = time.Date(2027, 3, 1, 9, 0, 0, 0, cst)
			if _, err := s.pay(c, s.order("EXP-0003", 20_000, "").ID, "e3"); err != nil { // 200 in 2027
				t.Fatal(err)
			}
			cmp := pointsCampaign(t, s, 10_000, hebao.CampaignRules{PointsCash: &hebao.PointsCashRate{Points: 100, Fen: 100}})
			// 100 spent, and the refund of EXP-0003 in full takes back its 200: both
			// from the oldest, 2026's: 300 of its 600 left; 2027's 200 untouched.
			if _, err := redeem(points, c, hebao.RedeemRequest{CampaignID: cmp.ID, Kind: "cash", Points: 100}); err != nil {
				t.Fatal(err)
			}
			if _, _, err := s.refund("EXP-0003", "EXP-R-0003", 20_000); err != nil {
				t.Fatal(err)
			}
			if bs := w.buckets(points, c); len(bs) != 2 || bs[2026].Earned != 600 || bs[2026].Remaining != 300 || bs[2027].Earned != 200 || bs[2027].Remaining != 200 {
				t.Fatalf("buckets: %+v", bs)
			}
			if at := w.buckets(points, c)[2026].ExpiresAt(); !at.Equal(time.Date(2028, 1, 1, 0, 0, 0, 0, cst)) {
				t.Errorf("2026's points expire at %v", at)
			}

			clock.t = time.Date(2027, 12, 31, 23, 59, 59, 0, cst)
			if n, err := points.ExpireDue(ctx); err != nil || n != 0 {
				t.Fatalf("a second before 2028: %d expired, %v", n, err)
			}
			clock.t = time.Date(2028, 1, 1, 0, 0, 0, 0, cst)
			before := countOutbox(t, w.db)
			for i := range 2 {
				n, err := points.ExpireDue(ctx)
				if err != nil || n != 1-i {
					t.Fatalf("run %d at 2028: %d expired, %v", i, n, err)
				}
			}
			if got := w.pointsOf(c); got != 200 {
				t.Errorf("after 2026 expired: %d points, want 200", got)
			}
			if got := countOutbox(t, w.db) - before; got != 1 {
				t.Errorf("%d events told the customer, want 1", got)
			}
			// Another wallet earning after the job ran is untouched by a later run.
			clock.Add(time.Hour)
			if n, err := points.ExpireDue(ctx); err != nil || n != 0 {
				t.Fatalf("a later run in 2028: %d, %v", n, err)
			}
			clock.t = time.Date(2029, 1, 1, 0, 0, 0, 0, cst)
			if n, err := points.ExpireDue(ctx); err != nil || n != 1 {
				t.Fatalf("at 2029: %d expired, %v", n, err)
			}
			if got := w.pointsOf(c); got != 0 {
				t.Errorf("after 2027 expired: %d points", got)
			}
			view, err := points.Points(ctx, c.Customer.ID, 0, 50)
			if err != nil || view.Balance != 0 || len(view.Buckets) != 0 || len(view.History) != 7 {
				t.Fatalf("points view: %v %+v", err, view)
			}
			// Newest first: expiry, expiry, reversal, redemption, earned ×3.
			wantKinds := []hebao.TransferKind{hebao.TransferExpiry, hebao.TransferExpiry, hebao.TransferReversal, hebao.TransferPointsRedeem,
				hebao.TransferPointsEarn, hebao.TransferPointsEarn, hebao.TransferPointsEarn}
			wantAmounts := []int64{-200, -300, -200, -100, 200, 100, 500}
			for i, e := range view.History {
				if e.Kind != wantKinds[i] || e.Amount != wantAmounts[i] {
					t.Errorf("history %d: %s %d, want %s %d", i, e.Kind, e.Amount, wantKinds[i], wantAmounts[i])
				}
			}
			page, err := points.Points(ctx, c.Customer.ID, view.History[1].Seq, 2)
			if err != nil || len(page.History) != 2 || page.History[0].Seq != view.History[2].Seq {
				t.Errorf("the next page: %v %+v", err, page.History)
			}
			mustVerify(t, w.db)
		})
	}
}
