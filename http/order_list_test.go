package http

import (
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// TestListOrders: GET /v1/merchant/orders pages through the calling merchant's
// orders only, newest first, by status; another merchant's cursor shows nothing of
// the other's; GET /v1/admin/merchants shows each merchant's balance after a payment
// and never its secrets; bad parameters are 400 invalid_request.
func TestListOrders(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	m.fund(t, alice, 10_000)
	a, b := m.merchant(t, "荷包咖啡"), m.merchant(t, "荷包面馆")
	var mine, theirs []string // newest first
	for _, no := range []string{"A-0001", "A-0002", "A-0003"} {
		m.clock.Add(time.Second)
		mine = append([]string{m.order(t, a.APIKey, no, 1_000, "").ID}, mine...)
		if no != "A-0003" {
			theirs = append([]string{m.order(t, b.APIKey, "B"+no[1:], 500, "").ID}, theirs...)
		}
	}
	m.pay(t, alice.Token, mine[1], "pay-1")

	type page struct {
		Items []struct {
			ID, Status string
		}
		NextCursor *string `json:"next_cursor"`
	}
	list := func(key, query string) page {
		t.Helper()
		var p page
		if status, body := m.call(t, "GET", "/v1/merchant/orders?"+query, key, "", &p); status != 200 {
			t.Fatalf("list %s: %d %s", query, status, body)
		}
		return p
	}
	walk := func(key, query string) (ids []string) {
		t.Helper()
		cursor := ""
		for range 10 {
			q := query
			if cursor != "" {
				q += "&cursor=" + url.QueryEscape(cursor)
			}
			p := list(key, q)
			for _, o := range p.Items {
				ids = append(ids, o.ID)
			}
			if p.NextCursor == nil {
				return ids
			}
			cursor = *p.NextCursor
		}
		t.Fatal("too many pages")
		return nil
	}
	if d := cmp.Diff(mine, walk(a.APIKey, "limit=2")); d != "" {
		t.Errorf("a's orders (-want +got):\n%s", d)
	}
	if d := cmp.Diff(theirs, walk(b.APIKey, "limit=1")); d != "" {
		t.Errorf("b's orders (-want +got):\n%s", d)
	}
	if p := list(a.APIKey, "status=SUCCESS"); len(p.Items) != 1 || p.Items[0].ID != mine[1] || p.NextCursor != nil {
		t.Errorf("a's paid orders: %+v", p)
	}
	// a's cursor in b's hands: b's orders older than where a's page ended.
	first := list(a.APIKey, "limit=1")
	if d := cmp.Diff(theirs, walk(b.APIKey, "limit=5&cursor="+url.QueryEscape(*first.NextCursor))); d != "" {
		t.Errorf("b with a's cursor (-want +got):\n%s", d)
	}

	for _, q := range []string{"limit=0", "limit=101", "limit=x", "status=paid", "date=2026-13-01", "date=yesterday", "cursor=" + url.QueryEscape(a.ID)} {
		status, body := m.call(t, "GET", "/v1/merchant/orders?"+q, a.APIKey, "", nil)
		wantCode(t, q, status, body, 400, "invalid_request")
	}

	var merchants struct {
		Items []struct {
			ID, Name string
			Balance  int64
		}
	}
	status, body := m.call(t, "GET", "/v1/admin/merchants", m.admin, "", &merchants)
	if status != 200 || strings.Contains(body, a.APIKey) || strings.Contains(body, "api_key") || strings.Contains(body, "webhook_secret") {
		t.Fatalf("merchants: %d %s", status, body)
	}
	want := []struct {
		ID, Name string
		Balance  int64
	}{{b.ID, "荷包面馆", 0}, {a.ID, "荷包咖啡", 1_000}}
	if d := cmp.Diff(want, merchants.Items); d != "" {
		t.Errorf("merchants (-want +got):\n%s", d)
	}
}
