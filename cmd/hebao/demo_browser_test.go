package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// The browser tests of the merchant portal (/merchant) and the demo shop
// (/demo/shop), on the harness of browser_test.go.

// TestBrowserDemoShopPaid: the demo shop's page orders a tote bag through the
// shop's server, shows Hebao's QR code and pay link, and, once a customer has paid
// through the API and Hebao's signed webhook has reached the shop, says "paid —
// verified webhook".
func TestBrowserDemoShopPaid(t *testing.T) {
	chromium(t) // skip before starting anything
	srv, _ := startDevServer(t)
	c := e2e{t, srv}
	const payPassword = "528471"
	token := openWallet(t, srv, newPhone(), "my secret 8", payPassword, 50_000)

	b := newBrowser(t, srv)
	b.run("open the shop", chromedp.Navigate(srv.url+"/demo/shop"), chromedp.WaitVisible(chromedp.CSS(`[data-product="tote"] button`)))
	if got := b.text(".demo-banner"); !strings.Contains(got, "开发演示") {
		t.Errorf("the shop is not labelled a development demo: %q", got)
	}
	b.click(`[data-product="tote"] button`)
	b.waitFor(`#order-state[data-state="unpaid"]`)
	if got := b.text("#checkout-amount"); got != "¥39.00" {
		t.Errorf("the checkout shows %q", got)
	}
	get(b, "the QR code loads", chromedp.Poll[bool](`document.querySelector('#qr').complete && document.querySelector('#qr').naturalWidth > 0`))
	href := get(b, "the pay link", chromedp.AttributeValue(chromedp.CSS("#pay-link"), "href")).Value
	orderID := href[strings.LastIndex(href, "/")+1:]
	if !strings.HasPrefix(href, "/pay/ord_") {
		t.Fatalf("the pay link is %q", href)
	}
	b.screenshot("demo-shop-qr")

	status, raw := c.money("/v1/orders/"+orderID+"/pay", token, "shop-pay", `{"method": "balance", "payment_password": "`+payPassword+`"}`)
	if status != 201 {
		t.Fatalf("pay: %d %s", status, raw)
	}
	b.waitText("#order-state", "已付款 — Webhook 已验签")
	if got := b.text("#order-events"); !strings.HasPrefix(got, "order.paid evt_") {
		t.Errorf("verified webhooks: %q", got)
	}
	if got := b.text("#hebao-status"); got != "SUCCESS" {
		t.Errorf("Hebao's status: %q", got)
	}
	b.click("#lang")
	b.waitText("#order-state", "paid — verified webhook")
	b.screenshot("demo-shop-paid")
}

// choose sets a select or date input to value and tells the page, as a person
// picking it would.
func (b *browser) choose(sel, value string) {
	b.t.Helper()
	b.run("choose "+value+" in "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(
		`{ const el = document.querySelector(%q); el.value = %q; el.dispatchEvent(new Event('change', {bubbles: true})); }`, sel, value)))
}

// rows counts the rows sel matches.
func (b *browser) rows(sel string) int {
	b.t.Helper()
	return get(b, "count "+sel, chromedp.Evaluate[int](fmt.Sprintf(`document.querySelectorAll(%q).length`, sel)))
}

// waitRows waits until sel matches n rows.
func (b *browser) waitRows(sel string, n int) {
	b.t.Helper()
	js := fmt.Sprintf(`document.querySelectorAll(%q).length === %d`, sel, n)
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		b.t.Errorf("%s: want %d rows, have %d (%v)", sel, n, b.rows(sel), err)
	}
	b.checkJS()
}

// TestBrowserMerchantRefund: the merchant signs in to the portal with the API key,
// sees the settlement balance and its orders, newest first and a page at a time,
// filters them by status and by day (and sees the API's words for a day it
// refuses), finds one by its number, opens the order the demo shop made in this
// browser from the list and refunds part of it (the form holds back more than is
// left, and shows the API's own refusal when another refund got there first), sees
// the webhook deliveries and replays one, is told when a bill is not ready yet, and
// the customer gets the refund.
func TestBrowserMerchantRefund(t *testing.T) {
	chromium(t) // skip before starting anything
	srv, apiKey := startDevServer(t)
	c := e2e{t, srv}
	const password, payPassword = "my secret 8", "528471"
	phone := newPhone()
	token := openWallet(t, srv, phone, password, payPassword, 50_000)
	// 20 older orders nobody pays, so that the list has a second page.
	for range 20 {
		merchantOrder(t, srv, apiKey, 100, "一张贴纸")
	}

	// The customer buys a tote bag (¥39.00) in the demo shop, in this browser.
	b := newBrowser(t, srv)
	b.run("open the shop", chromedp.Navigate(srv.url+"/demo/shop"), chromedp.WaitVisible(chromedp.CSS(`[data-product="tote"] button`)))
	b.click(`[data-product="tote"] button`)
	b.waitFor(`#order-state[data-state="unpaid"]`)
	no := b.text("#order-no")
	href := get(b, "the pay link", chromedp.AttributeValue(chromedp.CSS("#pay-link"), "href")).Value
	if status, raw := c.money("/v1/orders/"+href[strings.LastIndex(href, "/")+1:]+"/pay", token, "portal-pay", `{"method": "balance", "payment_password": "`+payPassword+`"}`); status != 201 {
		t.Fatalf("pay: %d %s", status, raw)
	}
	b.waitFor(`#order-state[data-state="paid"]`)
	// And a newer order, not paid.
	var unpaid struct {
		OutTradeNo string    `json:"out_trade_no"`
		CreatedAt  time.Time `json:"created_at"`
	}
	if st := apiJSON(t, srv, "POST", "/v1/merchant/orders", apiKey, "", map[string]any{"out_trade_no": "UNPAID-0001", "amount": 990, "subject": "一杯咖啡"}, &unpaid); st != 201 {
		t.Fatalf("the unpaid order: %d", st)
	}

	// Sign in: a wrong key is refused with the API's words, the right one opens the portal.
	b.run("open the portal", chromedp.Navigate(srv.url+"/merchant"), chromedp.WaitVisible(chromedp.CSS("#signin-form")))
	b.fill("#key", "mk_not_a_key")
	b.click("#signin-form button[type=submit]")
	if got := b.text("#signin-error"); !strings.Contains(got, "API 密钥无效") {
		t.Errorf("a wrong key: %q", got)
	}
	b.fill("#key", apiKey)
	b.click("#signin-form button[type=submit]")
	b.waitText("#balance", "¥39.00")
	stored := get(b, "the key's home", chromedp.Evaluate[string](`sessionStorage.getItem('hebao.merchant.key') + '|' + (localStorage.getItem('hebao.merchant.key') || '')`))
	if stored != apiKey+"|" {
		t.Errorf("the key is kept as %q, want in sessionStorage only", stored)
	}

	// The order list: newest first, 20 a page, then "more".
	const listed = `#orders tbody tr[data-no]`
	row := `#orders tr[data-no="` + no + `"]`
	b.waitRows(listed, 20)
	if first := b.text(listed); !strings.HasPrefix(first, "UNPAID-0001") {
		t.Errorf("the newest order listed: %q", first)
	}
	if got := b.text(row + " .badge"); got != "支付成功" {
		t.Errorf("the paid order's status in the list: %q", got)
	}
	b.click("#orders-more")
	b.waitRows(listed, 22)
	if got := b.text("#orders-count"); got != "已显示 22 笔" {
		t.Errorf("the count: %q", got)
	}
	b.run("no more pages", chromedp.WaitNotVisible(chromedp.CSS("#orders-more")))

	// By status: the paid one alone; the open ones, a page and then the rest.
	b.choose("#filter-status", "SUCCESS")
	b.waitRows(listed, 1)
	b.waitFor(row + `[data-status="SUCCESS"]`)
	b.choose("#filter-status", "NOTPAY")
	b.waitRows(listed, 20)
	b.click("#orders-more")
	b.waitRows(listed, 21)
	if n := b.rows(row); n != 0 {
		t.Errorf("the paid order is among the open ones")
	}
	// By China day: the day the orders were made, the day before, and a day the
	// API refuses, in its own words.
	b.choose("#filter-status", "")
	day := unpaid.CreatedAt.In(time.FixedZone("CST", 8*3600))
	b.choose("#filter-date", day.Format(time.DateOnly))
	b.waitRows(listed, 20)
	b.choose("#filter-date", day.AddDate(0, 0, -1).Format(time.DateOnly))
	b.waitText("#orders td.muted", "没有符合条件的订单。")
	b.choose("#filter-date", "1999-12-31")
	b.waitText("#orders-error", "请求有误：date must be a China day written YYYY-MM-DD, such as 2026-11-25")
	b.click("#filter-clear")
	b.waitRows(listed, 20)
	b.run("the error goes", chromedp.WaitNotVisible(chromedp.CSS("#orders-error")))

	// Search by number: an unknown one in the API's words, then the unpaid one,
	// marked in the list.
	b.fill("#search-no", "NOPE-0001")
	b.click("#search-form button[type=submit]")
	if got := b.text("#search-error"); !strings.HasPrefix(got, "未找到：") {
		t.Errorf("an unknown order: %q", got)
	}
	b.fill("#search-no", "UNPAID-0001")
	b.click("#search-form button[type=submit]")
	b.waitFor(`#order[data-status="NOTPAY"]`)
	b.waitFor(`#orders tr.sel[data-no="UNPAID-0001"]`)
	if n := b.rows("#refund-form"); n != 0 {
		t.Error("an unpaid order offers a refund")
	}
	b.run("show the list", chromedp.Evaluate[chromedp.Void](`document.querySelector('#orders-card h3').scrollIntoView({block: 'start'})`))
	b.screenshot("merchant-orders")

	// The paid order, opened from the list.
	b.click(row + " button")
	b.waitFor(`#order[data-status="SUCCESS"]`)

	// More than is left is held back by the form; a refund is then made once.
	b.fill("#refund-amount", "39.01")
	b.click("#refund-submit")
	if got := b.text("#refund-error"); !strings.Contains(got, "¥39.00") {
		t.Errorf("refunding too much: %q", got)
	}
	b.fill("#refund-amount", "10")
	b.fill("#refund-reason", "少一件")
	b.click("#refund-submit")
	b.waitFor(`#order[data-status="REFUND"]`)
	if got := b.text("#refund-note"); !strings.Contains(got, "已退款 ¥10.00") {
		t.Errorf("the refund note: %q", got)
	}
	b.waitFor(row + `[data-status="REFUND"]`)
	b.waitText("#balance", "¥29.00")
	b.run("show the refund", chromedp.Evaluate[chromedp.Void](`document.querySelector('#refund-note').scrollIntoView({block: 'end'})`))
	b.screenshot("merchant-refunded")

	// Someone else refunds ¥20 through the API meanwhile: the portal's next refund of
	// ¥15 is refused by the API, and the page shows its code's words and its detail.
	if st := apiJSON(t, srv, "POST", "/v1/merchant/refunds", apiKey, "", map[string]any{"out_trade_no": no, "out_refund_no": "R-elsewhere-1", "amount": 2000}, nil); st != 201 {
		t.Fatalf("the other refund: %d", st)
	}
	b.fill("#refund-amount", "15")
	b.fill("#refund-reason", "")
	b.click("#refund-submit")
	b.waitText("#refund-error", "超出可退金额：only ¥9.00 of order "+no+" is left to refund")
	var left struct{ Refunded int64 }
	apiJSON(t, srv, "GET", "/v1/merchant/orders/"+no, apiKey, "", nil, &left)
	if left.Refunded != 3000 {
		t.Errorf("refunded in Hebao: %d, want 3000", left.Refunded)
	}

	// The customer got ¥10 back (and then ¥20), and sees it in the wallet app.
	var history struct {
		Items []struct {
			Kind   string `json:"kind"`
			Amount int64  `json:"amount"`
			Status string `json:"status"`
		} `json:"items"`
	}
	apiJSON(t, srv, "GET", "/v1/transactions", token, "", nil, &history)
	if len(history.Items) < 2 || history.Items[1].Kind != "refund" || history.Items[1].Amount != 1000 || history.Items[1].Status != "succeeded" {
		t.Errorf("the customer's history: %+v", history.Items)
	}

	// Webhook deliveries: the shop's order.paid and the refunds' refund.succeeded;
	// one is replayed.
	b.click("#webhooks-refresh")
	paidRow := `#webhooks tr[data-event="order.paid"][data-no="` + no + `"]`
	b.waitFor(paidRow)
	b.waitFor(`#webhooks tr[data-event="refund.succeeded"][data-no="` + no + `"]`)
	b.click(paidRow + " button")
	if got := b.text("#webhooks-note"); !strings.Contains(got, "whd_") {
		t.Errorf("the replay note: %q", got)
	}

	// Today's bill is not ready (T+1): the API's detail says from when.
	b.run("today", chromedp.Evaluate[chromedp.Void](`document.querySelector('#bill-date').value = document.querySelector('#bill-date').max`))
	b.click("#bill-form button[type=submit]")
	if got := b.text("#bill-error"); !strings.Contains(got, "ready from") {
		t.Errorf("today's bill: %q", got)
	}

	// English.
	b.click("#lang")
	b.waitText("#balance-card h2", "Settlement balance")
	if got := b.text("#order dd .badge"); got != "Refunded" {
		t.Errorf("the status in English: %q", got)
	}
	b.run("to the top", chromedp.Evaluate[chromedp.Void](`window.scrollTo(0, 0)`))
	b.screenshot("merchant-portal")

	// The customer, in the wallet app on this browser, sees both refunds.
	b.signIn(phone, password)
	b.click(`#tabs a[href="#/history"]`)
	refunds := `#history .tx[data-kind="refund"][data-status="succeeded"]`
	b.waitFor(refunds)
	if n := get(b, "count the refunds", chromedp.Evaluate[int](`document.querySelectorAll('`+refunds+`').length`)); n != 2 {
		t.Errorf("the wallet's history shows %d refunds, want 2", n)
	}
	if got := b.text(refunds); !strings.Contains(got, "Hebao Demo Shop") {
		t.Errorf("the refund in the wallet: %q", got)
	}
}

// TestBrowserDemoTill: the till takes a customer's payment code: a wrong one is
// refused with Hebao's words, one within the password-free allowance is paid at
// once, and without the allowance the till waits (USERPAYING) until the customer
// confirms in the app.
func TestBrowserDemoTill(t *testing.T) {
	chromium(t) // skip before starting anything
	srv, apiKey := startDevServer(t)
	c := e2e{t, srv}
	const payPassword = "528471"
	token := openWallet(t, srv, newPhone(), "my secret 8", payPassword, 50_000)
	code := func() string {
		var pc struct{ Code string }
		c.call("POST", "/v1/payment-codes", token, "", 201, &pc)
		return pc.Code
	}

	b := newBrowser(t, srv)
	b.run("open the till", chromedp.Navigate(srv.url+"/demo/till"), chromedp.WaitVisible(chromedp.CSS("#charge-form")))
	if got := b.text(".demo-banner"); !strings.Contains(got, "开发演示") {
		t.Errorf("the till is not labelled a development demo: %q", got)
	}
	b.fill("#amount", "8")
	b.fill("#code", "12345")
	b.click("#charge")
	if got := b.text("#charge-error"); got != "付款码是 18 位数字" {
		t.Errorf("a short code: %q", got)
	}
	b.fill("#code", "8100 0000 0000 0000 00")
	b.click("#charge")
	b.waitText("#charge-error", "付款码无效或已过期，请顾客刷新后重扫：this payment code is not valid: ask the customer to refresh it and scan again")

	b.fill("#code", code())
	b.click("#charge")
	b.waitFor(`#result-status[data-status="SUCCESS"]`)
	b.screenshot("demo-till-paid")
	b.click("#next")

	c.call("PUT", "/v1/wallet/settings", token, `{"password_free": {"enabled": false, "per_payment_limit": 100000}, "auto_topup": false, "sms_threshold": null}`, 200, nil)
	b.fill("#amount", "15.50")
	b.fill("#code", code())
	b.click("#charge")
	b.waitFor(`#result-status[data-status="USERPAYING"]`)
	b.screenshot("demo-till-waiting")
	no := strings.Fields(b.text("#result-detail"))
	var waiting struct{ ID string }
	apiJSON(t, srv, "GET", "/v1/merchant/orders/"+no[len(no)-1], apiKey, "", nil, &waiting)
	if st := apiJSON(t, srv, "POST", "/v1/payment-codes/confirm", token, "till-confirm", map[string]string{"order_id": waiting.ID, "payment_password": payPassword}, nil); st != 201 {
		t.Fatalf("confirm: %d", st)
	}
	b.waitFor(`#result-status[data-status="SUCCESS"]`)
	if got := b.text("#result-detail"); !strings.HasPrefix(got, "¥15.50 · 门店收款 Till payment · 订单号 TILL-") {
		t.Errorf("the paid charge: %q", got)
	}
}
