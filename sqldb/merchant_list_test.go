package sqldb

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// listAll walks every page of a merchant's order list with limit, checking that each
// page but the last is full, and returns the ids in the order they came.
func listAll(t *testing.T, s *shop, r hebao.OrderListRequest) []string {
	t.Helper()
	var ids []string
	for pages := 0; ; pages++ {
		if pages > 100 {
			t.Fatalf("%+v: more than 100 pages", r)
		}
		p, err := s.orders.List(context.Background(), s.merchant, r)
		if err != nil {
			t.Fatalf("%+v: %v", r, err)
		}
		for _, o := range p.Orders {
			if o.MerchantID != s.merchant.ID {
				t.Fatalf("%+v: %s's list holds %s of %s", r, s.merchant.ID, o.ID, o.MerchantID)
			}
			ids = append(ids, o.ID)
		}
		if p.Next == "" {
			return ids
		}
		if len(p.Orders) != r.Limit {
			t.Fatalf("%+v: a page of %d orders with more to come, want %d", r, len(p.Orders), r.Limit)
		}
		r.Cursor = p.Next
	}
}

// TestMerchantOrderList pages through a merchant's orders on each backend: newest
// first, with no order twice and none left out though many share a creation time,
// by status, by China day across midnight (16:00 UTC), never another merchant's
// whatever the cursor, and bad requests refused.
func TestMerchantOrderList(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ctx := context.Background()
		// 23:59:59.999998 in Beijing on 25 November.
		midnight := time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC)
		clock := &fakeClock{t: midnight.Add(-2 * time.Microsecond)}
		w := newWorld(t, open(t), nil)
		a, b := newShop(t, w, clock), newShop(t, w, clock)
		payer := w.customer("13800000601", 2, 100_000)

		var mine []hebao.Order // a's orders, as they end up
		made := 0
		create := func(s *shop, n int, at time.Time) []hebao.Order {
			t.Helper()
			clock.mu.Lock()
			clock.t = at
			clock.mu.Unlock()
			var out []hebao.Order
			for range n {
				made++
				o, _, err := s.orders.Create(ctx, s.merchant, hebao.OrderRequest{OutTradeNo: fmt.Sprintf("LIST-%04d", made),
					Amount: 1_000, Subject: "noodles", ExpiresIn: 24 * time.Hour})
				if err != nil {
					t.Fatal(err)
				}
				out = append(out, o)
			}
			return out
		}
		// Interleaved with b's, several to a microsecond: the last microsecond of the
		// 25th in China, the first of the 26th, and later.
		for _, at := range []time.Time{
			midnight.Add(-time.Hour), midnight.Add(-time.Microsecond), midnight.Add(-time.Microsecond),
			midnight, midnight, midnight.Add(time.Microsecond), midnight.Add(2 * time.Hour),
		} {
			mine = append(mine, create(a, 3, at)...)
			create(b, 2, at)
		}
		// Paid, refunded and closed ones among them, in their own batches; the list
		// shows what each became.
		clock.Add(time.Minute)
		for _, i := range []int{0, 4, 5, 9, 16, 20} {
			paid, err := a.pay(payer, mine[i].ID, "k-"+mine[i].ID)
			if err != nil {
				t.Fatal(err)
			}
			mine[i] = paid
		}
		if _, o, err := a.refund(mine[5].OutTradeNo, "R-"+mine[5].OutTradeNo, 100); err != nil || o.Status != hebao.OrderRefund {
			t.Fatalf("refund: %v %+v", err, o)
		}
		for _, i := range []int{1, 12} {
			if _, err := a.orders.Close(ctx, a.merchant, mine[i].OutTradeNo); err != nil {
				t.Fatal(err)
			}
		}
		for i := range mine {
			o, err := a.orders.Get(ctx, a.merchant, mine[i].OutTradeNo)
			if err != nil {
				t.Fatal(err)
			}
			mine[i] = o
		}
		slices.SortFunc(mine, func(x, y hebao.Order) int {
			return cmp.Or(y.CreatedAt.Compare(x.CreatedAt), strings.Compare(y.ID, x.ID))
		})
		want := func(keep func(o hebao.Order) bool) []string {
			var ids []string
			for _, o := range mine {
				if keep(o) {
					ids = append(ids, o.ID)
				}
			}
			return ids
		}
		all := func(hebao.Order) bool { return true }
		status := func(st hebao.OrderStatus) func(hebao.Order) bool {
			return func(o hebao.Order) bool { return o.Status == st }
		}
		before := func(o hebao.Order) bool { return o.CreatedAt.Before(midnight) }
		for _, c := range []struct {
			name string
			r    hebao.OrderListRequest
			want []string
		}{
			{"all", hebao.OrderListRequest{}, want(all)},
			{"paid", hebao.OrderListRequest{Status: "SUCCESS"}, want(status(hebao.OrderSuccess))},
			{"refunded", hebao.OrderListRequest{Status: "REFUND"}, want(status(hebao.OrderRefund))},
			{"closed", hebao.OrderListRequest{Status: "CLOSED"}, want(status(hebao.OrderClosed))},
			{"open", hebao.OrderListRequest{Status: "NOTPAY"}, want(status(hebao.OrderNotPaid))},
			{"waiting", hebao.OrderListRequest{Status: "USERPAYING"}, nil},
			{"the 25th", hebao.OrderListRequest{Date: "2026-11-25"}, want(before)},
			{"the 26th", hebao.OrderListRequest{Date: "2026-11-26"}, want(func(o hebao.Order) bool { return !before(o) })},
			{"the 27th", hebao.OrderListRequest{Date: "2026-11-27"}, nil},
			{"paid on the 26th", hebao.OrderListRequest{Date: "2026-11-26", Status: "SUCCESS"},
				want(func(o hebao.Order) bool { return !before(o) && o.Status == hebao.OrderSuccess })},
		} {
			for _, limit := range []int{1, 2, 3, 4, 100} {
				c.r.Limit = limit
				if d := gocmp.Diff(c.want, listAll(t, a, c.r)); d != "" {
					t.Errorf("%s, %d a page (-want +got):\n%s", c.name, limit, d)
				}
			}
		}
		if len(mine) != 21 || len(want(before)) != 9 || len(want(status(hebao.OrderSuccess))) != 5 {
			t.Fatalf("the test's own orders are not as planned: %d orders", len(mine))
		}

		// b's cursor in a's hands gives a's orders from that point on, never b's.
		pb, err := b.orders.List(ctx, b.merchant, hebao.OrderListRequest{Limit: 3})
		if err != nil || pb.Next == "" {
			t.Fatalf("b's first page: %v %+v", err, pb)
		}
		last := pb.Orders[2]
		got := listAll(t, a, hebao.OrderListRequest{Limit: 2, Cursor: pb.Next})
		if d := gocmp.Diff(want(func(o hebao.Order) bool {
			return cmp.Or(o.CreatedAt.Compare(last.CreatedAt), strings.Compare(o.ID, last.ID)) < 0
		}), got); d != "" {
			t.Errorf("a with b's cursor (-want +got):\n%s", d)
		}
		if n := len(listAll(t, b, hebao.OrderListRequest{Limit: 100})); n != 14 {
			t.Errorf("b has %d orders, want 14", n)
		}

		cursor := func(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }
		for _, r := range []hebao.OrderListRequest{
			{Limit: 0}, {Limit: -1}, {Limit: hebao.MaxPageSize + 1},
			{Limit: 10, Status: "PAID"}, {Limit: 10, Status: "success"},
			{Limit: 10, Date: "2026-02-30"}, {Limit: 10, Date: "2026-1-05"}, {Limit: 10, Date: "20261125"}, {Limit: 10, Date: "1999-12-31"},
			{Limit: 10, Cursor: "abc"}, {Limit: 10, Cursor: "o1.1.ord_x"},
			{Limit: 10, Cursor: cursor("o1.0." + mine[0].ID)}, {Limit: 10, Cursor: cursor("o1.-5." + mine[0].ID)},
			{Limit: 10, Cursor: cursor("o1.01." + mine[0].ID)}, {Limit: 10, Cursor: cursor("o1.5." + b.merchant.ID)},
			{Limit: 10, Cursor: cursor("v1.5")}, {Limit: 10, Cursor: cursor("o1.5")},
		} {
			if _, err := a.orders.List(ctx, a.merchant, r); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
				t.Errorf("%+v: %v, want invalid_request", r, err)
			}
		}
		mustVerify(t, w.db)
	})
}

// TestMerchantOrdersInBatch: inside a batch, orders whose status an earlier closure
// changed are listed with their new status, found by it and not by the old one, and a
// page is still full when rows the database holds as matching no longer do.
func TestMerchantOrdersInBatch(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ctx := context.Background()
		s := newShop(t, newWorld(t, open(t), nil), nil)
		var os []hebao.Order
		for i := range 6 {
			os = append(os, s.order(fmt.Sprintf("BATCH-%04d", i), 100, ""))
		}
		slices.Reverse(os) // newest first
		ids := func(os []hebao.Order) []string {
			var out []string
			for _, o := range os {
				out = append(out, o.ID)
			}
			return out
		}
		errRollBack := errors.New("roll back")
		// The closure runs on the store's committer: it reports with t.Errorf and
		// returns errors, never t.Fatal.
		err := s.db.Transact(ctx, func(tx hebao.Tx) error {
			// Close the three newest, in the batch only.
			for _, o := range os[:3] {
				closed := o
				closed.Status, closed.ClosedAt, closed.UpdatedAt = hebao.OrderClosed, tx.Now(), tx.Now()
				if ok, err := tx.UpdateOrder(ctx, closed, o); err != nil || !ok {
					return fmt.Errorf("close %s: %v %v", o.ID, ok, err)
				}
			}
			for _, c := range []struct {
				status hebao.OrderStatus
				limit  int
				want   []string
			}{
				{hebao.OrderNotPaid, 2, ids(os[3:5])},
				{hebao.OrderNotPaid, 3, ids(os[3:6])},
				{hebao.OrderNotPaid, 10, ids(os[3:6])},
				{hebao.OrderClosed, 2, ids(os[0:2])},
				{hebao.OrderClosed, 10, ids(os[0:3])},
				{"", 4, ids(os[0:4])},
			} {
				got, err := tx.MerchantOrders(ctx, hebao.OrderQuery{MerchantID: s.merchant.ID, Status: c.status, Limit: c.limit})
				if err != nil {
					return err
				}
				if d := gocmp.Diff(c.want, ids(got)); d != "" {
					t.Errorf("%q, limit %d, in the batch (-want +got):\n%s", c.status, c.limit, d)
				}
				for _, o := range got {
					if c.status != "" && o.Status != c.status {
						t.Errorf("%q: %s is %s", c.status, o.ID, o.Status)
					}
				}
			}
			return errRollBack
		})
		if !errors.Is(err, errRollBack) {
			t.Fatalf("batch: %v", err)
		}
		// Rolled back: all six are open again.
		if got := listAll(t, s, hebao.OrderListRequest{Limit: 4, Status: "NOTPAY"}); len(got) != 6 {
			t.Errorf("after the rollback %d open orders, want 6", len(got))
		}
	})
}

// TestMerchantOrdersQueryPlan: the list walks orders_merchant_created in its order
// and sorts nothing (checked on SQLite, whose plans are stable on small tables).
func TestMerchantOrdersQueryPlan(t *testing.T) {
	db := openTest(t, Config{DataDir: t.TempDir()})
	var plan []string
	rawQuery(t, db, "EXPLAIN QUERY PLAN "+ordersOfMerchant, []any{"mch_x", int64(1), int64(2), "ord_x", "", 10}, func(scan func(...any) error) error {
		var id, parent, unused int64
		var detail string
		err := scan(&id, &parent, &unused, &detail)
		plan = append(plan, detail)
		return err
	})
	s := strings.Join(plan, "; ")
	if !strings.Contains(s, "USING INDEX orders_merchant_created (merchant_id=? AND") || strings.Contains(s, "TEMP B-TREE") {
		t.Errorf("plan of the merchant's orders:\n%s\nwant a range of orders_merchant_created and no sort", s)
	}
}

// TestAdminLists lists merchants and campaigns for the staff console on each
// backend: newest first, page by page, with each merchant's settlement balance and
// each campaign's spend, grants and state as they stand after a grant, a payment with
// a coupon and a refund.
func TestAdminLists(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ctx := context.Background()
		db := open(t)
		w := newWorld(t, db, nil)
		s := newShop(t, w, nil)
		admin := hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_x"}
		others := []hebao.Merchant{}
		for _, name := range []string{"Tea House", "Bakery"} {
			nm, err := s.merchants.Create(ctx, admin, name)
			if err != nil {
				t.Fatal(err)
			}
			others = append(others, nm.Merchant)
		}
		campaigns := &hebao.CampaignService{Store: db, Keys: w.keys}
		now := time.Now()
		var made []hebao.Campaign
		for _, r := range []hebao.CampaignRequest{
			{Name: "红包", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour), Budget: 888,
				Rules: hebao.CampaignRules{OpeningRedPacket: 888}},
			{Name: "券包", StartsAt: now.Add(-time.Hour), EndsAt: now.Add(24 * time.Hour), Budget: 10_000,
				Rules: hebao.CampaignRules{OpeningCoupons: []hebao.CouponTemplate{{Kind: hebao.CouponFixed, Off: 300, ValidDays: 7}}}},
			{Name: "明天", StartsAt: now.Add(24 * time.Hour), EndsAt: now.Add(48 * time.Hour), Budget: 5_000},
		} {
			c, err := campaigns.Create(ctx, admin, r)
			if err != nil {
				t.Fatal(err)
			}
			made = append(made, c)
		}

		// A new wallet takes the red packet and the coupon; it pays ¥30 with the
		// coupon (the campaign pays ¥3), and a third is refunded (¥1 of it back).
		customers := &hebao.CustomerService{Store: db, OTP: anyCode{}, Argon2: cheapArgon2, Gifts: w.keys}
		payer := s.registerPaying(customers, "13800000701", 5_000)
		o := s.order("ADMIN-0001", 3_000, "")
		if paid, err := s.payWith(payer, o.ID, couponOf(t, db, payer.Customer.ID, hebao.CouponFixed), "k1"); err != nil || paid.Subsidy != 300 {
			t.Fatalf("pay with the coupon: %v %+v", err, paid)
		}

		type merchantRow struct {
			ID, Name string
			Balance  int64
		}
		listMerchants := func(limit int) []merchantRow {
			t.Helper()
			var rows []merchantRow
			cursor := ""
			for range 10 {
				ms, next, err := s.merchants.List(ctx, cursor, limit)
				if err != nil {
					t.Fatal(err)
				}
				if next != "" && len(ms) != limit {
					t.Fatalf("a page of %d merchants with more to come, want %d", len(ms), limit)
				}
				for _, m := range ms {
					rows = append(rows, merchantRow{m.Merchant.ID, m.Merchant.Name, m.Balance})
				}
				if cursor = next; next == "" {
					return rows
				}
			}
			t.Fatal("too many pages of merchants")
			return nil
		}
		type campaignRow struct {
			ID, Name                 string
			Budget, Spent, Remaining int64
			Grants                   int
			State                    string
		}
		listCampaigns := func(limit int) []campaignRow {
			t.Helper()
			var rows []campaignRow
			cursor := ""
			for range 10 {
				cs, next, err := campaigns.List(ctx, cursor, limit)
				if err != nil {
					t.Fatal(err)
				}
				if next != "" && len(cs) != limit {
					t.Fatalf("a page of %d campaigns with more to come, want %d", len(cs), limit)
				}
				for _, c := range cs {
					st, err := campaigns.Status(ctx, c.Campaign.ID)
					if err != nil {
						t.Fatal(err)
					}
					if d := gocmp.Diff(st, c); d != "" {
						t.Errorf("%s listed otherwise than its status (-status +listed):\n%s", c.Campaign.ID, d)
					}
					rows = append(rows, campaignRow{c.Campaign.ID, c.Campaign.Name, c.Campaign.Budget, c.Spent, c.Remaining, c.Grants, c.State})
				}
				if cursor = next; next == "" {
					return rows
				}
			}
			t.Fatal("too many pages of campaigns")
			return nil
		}
		check := func(when string, merchantBalance, couponSpent int64) {
			t.Helper()
			wantM := []merchantRow{{others[1].ID, "Bakery", 0}, {others[0].ID, "Tea House", 0}, {s.merchant.ID, "Noodle Shop", merchantBalance}}
			wantC := []campaignRow{
				{made[2].ID, "明天", 5_000, 0, 5_000, 0, "scheduled"},
				{made[1].ID, "券包", 10_000, couponSpent, 10_000 - couponSpent, 1, "active"},
				{made[0].ID, "红包", 888, 888, 0, 1, "budget_spent"},
			}
			for _, limit := range []int{1, 2, 100} {
				if d := gocmp.Diff(wantM, listMerchants(limit)); d != "" {
					t.Errorf("%s: merchants, %d a page (-want +got):\n%s", when, limit, d)
				}
				if d := gocmp.Diff(wantC, listCampaigns(limit)); d != "" {
					t.Errorf("%s: campaigns, %d a page (-want +got):\n%s", when, limit, d)
				}
			}
		}
		check("after the payment", 3_000, 300)
		if _, _, err := s.refund("ADMIN-0001", "ADMIN-R-1", 1_000); err != nil {
			t.Fatal(err)
		}
		check("after the refund", 2_000, 200)

		for _, c := range []struct {
			cursor string
			limit  int
		}{{"", 0}, {"", hebao.MaxPageSize + 1}, {"cmp_x", 10}, {made[0].ID, 10}} {
			if _, _, err := s.merchants.List(ctx, c.cursor, c.limit); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
				t.Errorf("merchants %+v: %v, want invalid_request", c, err)
			}
		}
		for _, c := range []struct {
			cursor string
			limit  int
		}{{"", 0}, {"", -3}, {"mch_x", 10}, {s.merchant.ID, 10}} {
			if _, _, err := campaigns.List(ctx, c.cursor, c.limit); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
				t.Errorf("campaigns %+v: %v, want invalid_request", c, err)
			}
		}
		mustVerify(t, db)
	})
}
