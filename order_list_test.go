package hebao_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
)

// TestOrderList pages through merchants' orders in the in-memory store (the one
// the HTTP tests use; sqldb/merchant_list_test.go runs the same on SQLite and
// PostgreSQL): newest first with no order twice or missed though many share a
// microsecond, by status, by China day around 16:00 UTC, only the merchant's own
// whatever the cursor, and bad requests refused.
func TestOrderList(t *testing.T) {
	ctx := context.Background()
	midnight := time.Date(2026, 11, 25, 16, 0, 0, 0, time.UTC) // 00:00 on the 26th in Beijing
	c := &clock{t: midnight}
	store := inmem.New(c.Now)
	raw, err := hebao.GenerateKeyring()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := hebao.ParseKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	merchants := &hebao.MerchantService{Store: store, Keys: keys, Now: c.Now}
	orders := &hebao.OrderService{Store: store, Now: c.Now}
	var shops [2]hebao.Merchant
	for i := range shops {
		nm, err := merchants.Create(ctx, hebao.Actor{Kind: hebao.ActorSystem, ID: "test"}, fmt.Sprintf("Shop %d", i))
		if err != nil {
			t.Fatal(err)
		}
		shops[i] = nm.Merchant
	}
	a, b := shops[0], shops[1]

	var mine []hebao.Order
	n := 0
	for _, at := range []time.Time{midnight.Add(-time.Hour), midnight.Add(-time.Microsecond), midnight, midnight, midnight.Add(time.Hour)} {
		c.mu.Lock()
		c.t = at
		c.mu.Unlock()
		for _, m := range []hebao.Merchant{a, b, a} {
			n++
			o, _, err := orders.Create(ctx, m, hebao.OrderRequest{OutTradeNo: fmt.Sprintf("LIST-%04d", n), Amount: 100, Subject: "tea"})
			if err != nil {
				t.Fatal(err)
			}
			if m.ID == a.ID {
				mine = append(mine, o)
			}
		}
	}
	// Two of a's orders change status: the list shows the new one.
	for _, i := range []int{1, 4} {
		closed := mine[i]
		closed.Status, closed.ClosedAt = hebao.OrderClosed, c.Now()
		if err := store.Transact(ctx, func(tx hebao.Tx) error {
			_, err := tx.UpdateOrder(ctx, closed, mine[i])
			return err
		}); err != nil {
			t.Fatal(err)
		}
		mine[i] = closed
	}
	slices.SortFunc(mine, func(x, y hebao.Order) int {
		return cmp.Or(y.CreatedAt.Compare(x.CreatedAt), strings.Compare(y.ID, x.ID))
	})
	want := func(keep func(hebao.Order) bool) []string {
		var ids []string
		for _, o := range mine {
			if keep(o) {
				ids = append(ids, o.ID)
			}
		}
		return ids
	}
	walk := func(m hebao.Merchant, r hebao.OrderListRequest) []string {
		t.Helper()
		var ids []string
		for range 50 {
			p, err := orders.List(ctx, m, r)
			if err != nil {
				t.Fatalf("%+v: %v", r, err)
			}
			for _, o := range p.Orders {
				if o.MerchantID != m.ID {
					t.Fatalf("%s's list holds %s of %s", m.ID, o.ID, o.MerchantID)
				}
				ids = append(ids, o.ID)
			}
			if p.Next == "" {
				return ids
			}
			if len(p.Orders) != r.Limit {
				t.Fatalf("%+v: a page of %d with more to come", r, len(p.Orders))
			}
			r.Cursor = p.Next
		}
		t.Fatalf("%+v: too many pages", r)
		return nil
	}
	for _, tc := range []struct {
		name string
		r    hebao.OrderListRequest
		want []string
	}{
		{"all", hebao.OrderListRequest{}, want(func(hebao.Order) bool { return true })},
		{"closed", hebao.OrderListRequest{Status: "CLOSED"}, want(func(o hebao.Order) bool { return o.Status == hebao.OrderClosed })},
		{"open", hebao.OrderListRequest{Status: "NOTPAY"}, want(func(o hebao.Order) bool { return o.Status == hebao.OrderNotPaid })},
		{"the 25th", hebao.OrderListRequest{Date: "2026-11-25"}, want(func(o hebao.Order) bool { return o.CreatedAt.Before(midnight) })},
		{"the 26th", hebao.OrderListRequest{Date: "2026-11-26"}, want(func(o hebao.Order) bool { return !o.CreatedAt.Before(midnight) })},
		{"closed on the 25th", hebao.OrderListRequest{Date: "2026-11-25", Status: "CLOSED"},
			want(func(o hebao.Order) bool { return o.CreatedAt.Before(midnight) && o.Status == hebao.OrderClosed })},
	} {
		for _, limit := range []int{1, 2, 3, 100} {
			tc.r.Limit = limit
			if d := gocmp.Diff(tc.want, walk(a, tc.r)); d != "" {
				t.Errorf("%s, %d a page (-want +got):\n%s", tc.name, limit, d)
			}
		}
	}
	if len(mine) != 10 || len(want(func(o hebao.Order) bool { return o.CreatedAt.Before(midnight) })) != 4 {
		t.Fatalf("the test's orders are not as planned: %d", len(mine))
	}

	// b's cursor gives a only a's orders.
	pb, err := orders.List(ctx, b, hebao.OrderListRequest{Limit: 2})
	if err != nil || pb.Next == "" {
		t.Fatalf("b's first page: %v %+v", err, pb)
	}
	last := pb.Orders[1]
	if d := gocmp.Diff(want(func(o hebao.Order) bool {
		return cmp.Or(o.CreatedAt.Compare(last.CreatedAt), strings.Compare(o.ID, last.ID)) < 0
	}), walk(a, hebao.OrderListRequest{Limit: 3, Cursor: pb.Next})); d != "" {
		t.Errorf("a with b's cursor (-want +got):\n%s", d)
	}

	for _, r := range []hebao.OrderListRequest{
		{Limit: 0}, {Limit: hebao.MaxPageSize + 1}, {Limit: 5, Status: "paid"}, {Limit: 5, Date: "2026-11-31"},
		{Limit: 5, Date: "26-11-25"}, {Limit: 5, Cursor: "not a cursor"}, {Limit: 5, Cursor: pb.Next + "x"},
	} {
		if _, err := orders.List(ctx, a, r); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
			t.Errorf("%+v: %v, want invalid_request", r, err)
		}
	}
}
