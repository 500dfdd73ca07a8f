package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// demoPayer opens a wallet for phone on the running server, with a real name, a
// sandbox card, a payment password and ¥500 topped up, and returns its token.
func demoPayer(c e2e, phone, name, idNumber, payPassword string) string {
	c.t.Helper()
	body := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	var reg struct {
		Token string `json:"token"`
	}
	c.call("POST", "/v1/customers", "", body(map[string]string{"phone": phone, "otp": c.code(phone, "register"),
		"password": "Pa55word-of-the-demo-test", "device_id": "phone-demo"}), 201, &reg)
	c.call("POST", "/v1/wallet/real-name", reg.Token, body(map[string]string{"name": name, "id_number": idNumber}), 200, nil)
	var card struct{ ID string }
	c.call("POST", "/v1/cards", reg.Token, body(map[string]string{"card_number": "6222026000001234", "holder_name": name,
		"otp": c.code(phone, "bind_card")}), 201, &card)
	c.call("PUT", "/v1/wallet/payment-password", reg.Token, body(map[string]string{"password": payPassword,
		"otp": c.code(phone, "set_payment_password")}), 204, nil)
	status, raw := c.money("/v1/topups", reg.Token, "demo-topup", body(map[string]any{"card_id": card.ID, "amount": 50_000}))
	var topup transaction
	if json.Unmarshal(raw, &topup); status != 202 {
		c.t.Fatalf("top-up: %d %s", status, raw)
	}
	if got := c.settle("/v1/topups/"+topup.ID, reg.Token); got.Status != "succeeded" {
		c.t.Fatalf("top-up: %+v", got)
	}
	return reg.Token
}

// demoOrder is the demo shop's order as its page sees it.
type demoOrder struct {
	OutTradeNo  string   `json:"out_trade_no"`
	OrderID     string   `json:"order_id"`
	State       string   `json:"state"`
	Refunded    int64    `json:"refunded"`
	Events      []string `json:"events"`
	QRURL       string   `json:"qr_url"`
	PayURL      string   `json:"pay_url"`
	HebaoStatus string   `json:"hebao_status"`
}

// waitDemo polls the shop's order until its state is want.
func waitDemo(c e2e, no, want string) demoOrder {
	c.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		var o demoOrder
		c.call("GET", "/demo/shop/api/orders/"+no, "", "", 200, &o)
		if o.State == want {
			return o
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("the shop's order is %+v after 10s, want state %s", o, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// TestDemoShopAndTill runs serve --dev and the whole loop the demo pages drive,
// over HTTP: the shop orders through the merchant API, a customer pays through the
// customer API, and Hebao's signed webhook turns the shop's order "paid"; a refund
// turns it "refunded"; the till takes a payment code paid at once, and one the
// customer confirms. Neither the API key nor the webhook secret shows in the
// startup text or the log.
func TestDemoShopAndTill(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "--data-dir", dir, "--dev")
	c := e2e{t, s}
	const payPassword = "528471"

	for _, page := range []string{"/demo/shop", "/demo/till", "/merchant"} {
		if resp, _ := s.do(t, "GET", page, nil, ""); resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", page, resp.StatusCode)
		}
	}

	var o demoOrder
	c.call("POST", "/demo/shop/api/orders", "", `{"product_id": "tote"}`, 201, &o)
	// The links are on --public-url, which defaults to the address listened on: with
	// --addr 127.0.0.1:0, the port the system chose, not :0.
	if o.State != "unpaid" || o.QRURL != s.url+"/v1/qr/"+o.OrderID+".svg" || o.PayURL != s.url+"/pay/"+o.OrderID {
		t.Fatalf("the shop's order: %+v", o)
	}
	token := demoPayer(c, "13700137000", "王五", "11010519491231002X", payPassword)
	status, raw := c.money("/v1/orders/"+o.OrderID+"/pay", token, "demo-pay", `{"method": "balance", "payment_password": "`+payPassword+`"}`)
	if status != 201 {
		t.Fatalf("pay: %d %s", status, raw)
	}
	paid := waitDemo(c, o.OutTradeNo, "paid")
	if paid.HebaoStatus != "SUCCESS" || len(paid.Events) != 1 || !strings.HasPrefix(paid.Events[0], "order.paid evt_") {
		t.Errorf("paid: %+v", paid)
	}

	// The merchant refunds ¥10 (the key is dev.json's, as the portal's user types it).
	var dev devFile
	b, err := os.ReadFile(filepath.Join(dir, "dev.json"))
	if err != nil || json.Unmarshal(b, &dev) != nil || dev.Merchant == nil {
		t.Fatalf("dev.json: %v %s", err, b)
	}
	c.call("POST", "/v1/merchant/refunds", dev.Merchant.APIKey, `{"out_trade_no": "`+o.OutTradeNo+`", "out_refund_no": "R-`+o.OutTradeNo[5:]+`", "amount": 1000, "reason": "demo"}`, 201, nil)
	if got := waitDemo(c, o.OutTradeNo, "refunded"); got.Refunded != 1000 {
		t.Errorf("refunded: %+v", got)
	}

	// The till: within the password-free allowance it is paid at once.
	var code struct{ Code string }
	c.call("POST", "/v1/payment-codes", token, "", 201, &code)
	var ch struct {
		OutTradeNo string `json:"out_trade_no"`
		Status     string `json:"status"`
		Amount     int64  `json:"amount"`
	}
	c.call("POST", "/demo/till/api/charges", "", `{"amount": 800, "auth_code": "`+code.Code[:4]+" "+code.Code[4:]+`"}`, 201, &ch)
	if ch.Status != "SUCCESS" || ch.Amount != 800 || !strings.HasPrefix(ch.OutTradeNo, "TILL-") {
		t.Errorf("a password-free till payment: %+v", ch)
	}
	// Without the allowance it waits for the customer, who confirms it.
	c.call("PUT", "/v1/wallet/settings", token, `{"password_free": {"enabled": false, "per_payment_limit": 100000}, "auto_topup": false, "sms_threshold": null}`, 200, nil)
	c.call("POST", "/v1/payment-codes", token, "", 201, &code)
	c.call("POST", "/demo/till/api/charges", "", `{"amount": 1500, "auth_code": "`+code.Code+`", "subject": "一箱矿泉水"}`, 201, &ch)
	if ch.Status != "USERPAYING" {
		t.Fatalf("a till payment to confirm: %+v", ch)
	}
	c.call("GET", "/demo/till/api/charges/"+ch.OutTradeNo, "", "", 200, &ch)
	if ch.Status != "USERPAYING" {
		t.Errorf("before confirming: %+v", ch)
	}
	var waiting struct {
		ID string `json:"id"`
	}
	c.call("GET", "/v1/merchant/orders/"+ch.OutTradeNo, dev.Merchant.APIKey, "", 200, &waiting)
	if status, raw := c.money("/v1/payment-codes/confirm", token, "demo-confirm", `{"order_id": "`+waiting.ID+`", "payment_password": "`+payPassword+`"}`); status != 201 {
		t.Fatalf("confirm: %d %s", status, raw)
	}
	c.call("GET", "/demo/till/api/charges/"+ch.OutTradeNo, "", "", 200, &ch)
	if ch.Status != "SUCCESS" {
		t.Errorf("after confirming: %+v", ch)
	}
	var p problemDoc
	c.call("POST", "/demo/till/api/charges/"+ch.OutTradeNo+"/close", "", "", 422, &p)
	if p.Code != "order_already_paid" {
		t.Errorf("closing a paid charge: %+v", p)
	}

	s.stop()
	for name, out := range map[string]string{"startup text": s.stdout.String(), "log": s.stderr.String()} {
		if strings.Contains(out, dev.Merchant.APIKey) || strings.Contains(out, dev.Merchant.WebhookSecret) {
			t.Errorf("the %s shows the demo merchant's key or secret", name)
		}
	}
}

// TestNoDemoWithoutDev: without --dev there is no demo shop or till, neither the
// pages nor their server side.
func TestNoDemoWithoutDev(t *testing.T) {
	s := startServer(t, "--data-dir", t.TempDir())
	for _, r := range []struct{ method, path string }{
		{"GET", "/demo/shop"}, {"GET", "/demo/till"}, {"GET", "/demo/shop/api/products"},
		{"POST", "/demo/shop/api/orders"}, {"POST", "/demo/shop/webhook"}, {"POST", "/demo/till/api/charges"},
	} {
		if resp, _ := s.do(t, r.method, r.path, nil, "{}"); resp.StatusCode != 404 {
			t.Errorf("%s %s without --dev: %d, want 404", r.method, r.path, resp.StatusCode)
		}
	}
	if resp, _ := s.do(t, "GET", "/merchant", nil, ""); resp.StatusCode != 200 {
		t.Errorf("the merchant portal without --dev: %d", resp.StatusCode)
	}
}
