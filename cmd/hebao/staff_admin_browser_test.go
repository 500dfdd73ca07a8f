package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserStaffAdminLists: after a new wallet's opening gifts and a ¥30 payment
// with a ¥5 coupon at the seeded shop, an admin sees every merchant, newest first
// and a page at a time, the seeded one with its settlement balance, and a merchant
// made on the page at the top; and every campaign with its state, and the seeded
// one's spend, remaining budget and grants as the API gives them.
func TestBrowserStaffAdminLists(t *testing.T) {
	chromium(t) // skip before starting anything
	srv, dev := startStaffServer(t)
	if dev.Campaign == nil {
		t.Fatal("dev.json names no campaign")
	}
	admin := staffToken(t, srv, dev.Admin)
	// 20 newer merchants push the seeded one to the second page.
	for i := range 20 {
		if st := apiJSON(t, srv, "POST", "/v1/admin/merchants", admin, "", map[string]string{"name": fmt.Sprintf("测试商户 %02d", i+1)}, nil); st != 201 {
			t.Fatalf("merchant %d: %d", i+1, st)
		}
	}
	// A campaign that starts tomorrow.
	tomorrow := time.Now().Add(24 * time.Hour).UTC()
	var later struct{ ID string }
	if st := apiJSON(t, srv, "POST", "/v1/admin/campaigns", admin, "", map[string]any{"name": "双十二", "starts_at": tomorrow,
		"ends_at": tomorrow.Add(48 * time.Hour), "budget": 50_000, "rules": map[string]any{}}, &later); st != 201 {
		t.Fatalf("campaign: %d", st)
	}

	// The wallet opens with the demo campaign's ¥8.88 red packet and coupons, and
	// pays ¥30 with the ¥5-off-¥30 coupon: the campaign spends ¥13.88 in all, and the
	// shop gets the full ¥30.
	const payPassword = "528471"
	customer := openWallet(t, srv, newPhone(), "my secret 8", payPassword, 5_000)
	order, _ := merchantOrder(t, srv, dev.Merchant.APIKey, 3_000, "两杯拿铁")
	var coupons struct {
		Items []struct{ ID, Kind string }
	}
	apiJSON(t, srv, "GET", "/v1/coupons?order_id="+order, customer, "", nil, &coupons)
	coupon := ""
	for _, c := range coupons.Items {
		if c.Kind == "threshold" {
			coupon = c.ID
		}
	}
	if coupon == "" {
		t.Fatalf("no threshold coupon among %+v", coupons.Items)
	}
	if st := apiJSON(t, srv, "POST", "/v1/orders/"+order+"/pay", customer, "admin-lists-pay",
		map[string]string{"method": "balance", "coupon_id": coupon, "payment_password": payPassword}, nil); st != 201 {
		t.Fatalf("pay: %d", st)
	}
	var demo struct {
		Spent, Remaining int64
		Grants           int
		State            string
	}
	apiJSON(t, srv, "GET", "/v1/admin/campaigns/"+dev.Campaign.ID, admin, "", nil, &demo)
	if demo.Spent != 888+500 || demo.Grants < 1 || demo.State != "active" {
		t.Fatalf("the demo campaign says %+v", demo)
	}

	b := newBrowser(t, srv)
	b.staffSignIn(dev.Admin)

	// Merchants: 20 a page, newest first; the seeded shop is on the second.
	b.click("#nav-merchants")
	const merchants = "#mch-list-table tbody tr"
	b.waitRows(merchants, 20)
	if got := b.text(merchants + " td"); got != "测试商户 20" {
		t.Errorf("the newest merchant: %q", got)
	}
	seeded := fmt.Sprintf(`#mch-list-table tr[data-id="%s"]`, dev.Merchant.ID)
	if b.rows(seeded) != 0 {
		t.Error("the oldest merchant is on the first page")
	}
	b.click("#mch-list-more")
	b.waitRows(merchants, 21)
	if got := b.text(seeded); !strings.HasPrefix(got, "Hebao Demo Shop") || !strings.HasSuffix(got, "¥30.00") {
		t.Errorf("the seeded merchant's row: %q", got)
	}
	if got := b.text("#mch-list-count"); got != "已显示 21 家" {
		t.Errorf("the count: %q", got)
	}
	if b.rows("#mch-list-more") != 0 {
		t.Error(`"more" is offered after the last page`)
	}
	// One made here comes first, with its secrets shown once above the list.
	b.fill("#mch-name", "新开的店")
	b.click("#mch-form button[type=submit]")
	b.waitFor("#mch-api-key")
	b.waitText(merchants+" td", "新开的店")
	if got := b.text(merchants + ":first-child td.num"); got != "¥0.00" {
		t.Errorf("the new merchant's balance: %q", got)
	}
	b.click("#mch-saved")
	b.click("#mch-list-more")
	b.waitRows(merchants, 22)
	b.run("show the seeded shop", chromedp.Evaluate[chromedp.Void](`document.querySelector('#mch-list-count').scrollIntoView({block: 'end'})`))
	b.screenshot("staff-merchants")

	// Campaigns: newest first, with state and spend.
	b.click("#nav-campaigns")
	const campaigns = "#cmp-list-table tbody tr"
	b.waitRows(campaigns, 2)
	if got := b.text(campaigns + ":first-child"); !strings.HasPrefix(got, "双十二\t未开始\t¥500.00\t¥0.00\t¥500.00\t0") {
		t.Errorf("the newest campaign: %q", got)
	}
	row := fmt.Sprintf(`#cmp-list-table tr[data-id="%s"]`, dev.Campaign.ID)
	for field, want := range map[string]string{"spent": "¥13.88", "remaining": "¥9,986.12", "grants": fmt.Sprint(demo.Grants)} {
		if got := b.text(row + ` td[data-field="` + field + `"]`); got != want {
			t.Errorf("the demo campaign's %s: %q, want %q", field, got, want)
		}
	}
	if got := b.text(row + " .badge"); got != "进行中" {
		t.Errorf("the demo campaign's state: %q", got)
	}
	// Its page: the same figures, and its row marked.
	b.click(row + " a")
	b.waitText("#cmp-spent", "¥13.88")
	b.waitFor(row + ".current")
	b.screenshot("staff-campaigns")

	b.click("#lang")
	b.waitFor(row + ".current")
	if got := b.text(row + " .badge"); got != "Active" {
		t.Errorf("the state in English: %q", got)
	}
}
