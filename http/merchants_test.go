package http

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"errors"
	"image/png"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

const (
	testPublicURL = "https://pay.example"
	shopNotifyURL = "https://shop.example/hebao/notify"
)

// checkShopURL is the tests' notify_url policy: https://shop.example/ and nothing else.
func checkShopURL(_ context.Context, url string) error {
	if !strings.HasPrefix(url, "https://shop.example/") {
		return errors.New("only https://shop.example/ in the tests")
	}
	return nil
}

// withShop adds merchants, their orders and webhooks to m's configuration and
// server.
func (m *money) withShop(t *testing.T) {
	t.Helper()
	a := m.accounts
	a.cfg.Merchants = &hebao.MerchantService{Store: a.store, Keys: a.cfg.Cards.Keys, Now: a.clock.Now}
	a.cfg.Orders = &hebao.OrderService{Store: a.store, Tiers: hebao.DefaultTierLimits(), Passwords: a.cfg.PaymentPasswords,
		OTP: a.cfg.OTP, CheckURL: checkShopURL, Now: a.clock.Now, Committed: m.disp.Wake}
	a.cfg.Orders.Codes = &hebao.PaymentCodeService{Store: a.store, Keys: a.cfg.Cards.Keys, Now: a.clock.Now}
	a.cfg.Orders.Bank = a.cfg.Bank
	a.cfg.Webhooks = &hebao.WebhookService{Store: a.store, Now: a.clock.Now}
	a.cfg.Campaigns = &hebao.CampaignService{Store: a.store, Keys: a.cfg.Cards.Keys, Now: a.clock.Now}
	a.cfg.PublicURL = testPublicURL + "/" // the server drops the slash
	m.s = newTestServer(t, a.cfg)
}

// newMerchant is what POST /v1/admin/merchants answers.
type newMerchant struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	APIKey        string `json:"api_key"`
	WebhookSecret string `json:"webhook_secret"`
}

// merchant has the admin create a merchant called name.
func (m *money) merchant(t *testing.T, name string) newMerchant {
	t.Helper()
	rec := m.s.do(t, "POST", "/v1/admin/merchants", authJSON(m.admin), body(map[string]string{"name": name}))
	var nm newMerchant
	if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &nm) != nil {
		t.Fatalf("create merchant: %d %s", rec.Code, rec.Body)
	}
	return nm
}

// merchantOrder is an order as the merchant API shows it.
type merchantOrder struct {
	ID         string     `json:"id"`
	OutTradeNo string     `json:"out_trade_no"`
	Status     string     `json:"status"`
	Amount     int64      `json:"amount"`
	Subject    string     `json:"subject"`
	Refunded   int64      `json:"refunded"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	PaidAt     *time.Time `json:"paid_at"`
	ClosedAt   *time.Time `json:"closed_at"`
	Payer      string     `json:"payer_wallet_id"`
	Method     string     `json:"method"`
	QRPayload  string     `json:"qr_payload"`
	QRURL      string     `json:"qr_url"`
}

// customerOrder is an order as a customer sees it.
type customerOrder struct {
	ID       string `json:"id"`
	Merchant struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	} `json:"merchant"`
	Amount        int64     `json:"amount"`
	Currency      string    `json:"currency"`
	Subject       string    `json:"subject"`
	Status        string    `json:"status"`
	ExpiresAt     time.Time `json:"expires_at"`
	PaidByYou     bool      `json:"paid_by_you"`
	TransactionID string    `json:"transaction_id"`
}

// delivery is a webhook delivery as the merchant API shows it.
type delivery struct {
	ID            string          `json:"id"`
	EventID       string          `json:"event_id"`
	EventType     string          `json:"event_type"`
	URL           string          `json:"url"`
	Status        string          `json:"status"`
	Attempts      int             `json:"attempts"`
	NextAttemptAt *time.Time      `json:"next_attempt_at"`
	Payload       json.RawMessage `json:"payload"`
}

func orderBody(outTradeNo string, amount int64, subject, notifyURL string) string {
	b := map[string]any{"out_trade_no": outTradeNo, "amount": amount, "subject": subject}
	if notifyURL != "" {
		b["notify_url"] = notifyURL
	}
	return body(b)
}

func payBody(password string) string {
	return body(map[string]string{"method": "balance", "payment_password": password})
}

// call sends a request with token as the bearer (none for "") and decodes a 2xx
// answer into out; it returns the status and the body.
func (m *money) call(t *testing.T, method, target, token, b string, out any) (int, string) {
	t.Helper()
	h := jsonHeader()
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	rec := m.s.do(t, method, target, h, b)
	if rec.Code < 300 && out != nil {
		if err := json.Unmarshal(rec.Body.Bytes(), out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, target, err, rec.Body)
		}
	}
	return rec.Code, rec.Body.String()
}

// order creates an order for the merchant with key.
func (m *money) order(t *testing.T, key, outTradeNo string, amount int64, notifyURL string) merchantOrder {
	t.Helper()
	var o merchantOrder
	if status, b := m.call(t, "POST", "/v1/merchant/orders", key, orderBody(outTradeNo, amount, "两杯拿铁", notifyURL), &o); status != 201 {
		t.Fatalf("create order %s: %d %s", outTradeNo, status, b)
	}
	return o
}

// pay pays the order from the balance of the customer with token, with the
// Idempotency-Key key.
func (m *money) pay(t *testing.T, token, orderID, key string) {
	t.Helper()
	if out := m.post(t, token, "/v1/orders/"+orderID+"/pay", key, payBody(payPassword)); !strings.HasPrefix(out.String(), "201 ") {
		t.Fatalf("pay %s: %s", orderID, out)
	}
}

// deliveries lists the first page of the merchant's webhook deliveries.
func (m *money) deliveries(t *testing.T, key string) []delivery {
	t.Helper()
	var page struct {
		Items      []delivery `json:"items"`
		NextCursor *string    `json:"next_cursor"`
	}
	if status, b := m.call(t, "GET", "/v1/merchant/webhook-deliveries", key, "", &page); status != 200 {
		t.Fatalf("webhook deliveries: %d %s", status, b)
	}
	return page.Items
}

// wantCode checks that status and b are a problem document with this status and code.
func wantCode(t *testing.T, what string, status int, b string, wantStatus int, wantCode string) {
	t.Helper()
	var p struct {
		Type   string `json:"type"`
		Status int    `json:"status"`
		Code   string `json:"code"`
	}
	json.Unmarshal([]byte(b), &p)
	if status != wantStatus || p.Status != wantStatus || p.Code != wantCode || p.Type != "https://hebao.dev/problems/"+wantCode {
		t.Errorf("%s: %d %s, want %d %s", what, status, b, wantStatus, wantCode)
	}
}

func TestScanToPay(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	m.fund(t, alice, 10_000)

	// The admin creates the merchant: its secrets are shown this once.
	rec := m.s.do(t, "POST", "/v1/admin/merchants", authJSON(m.admin), `{"name": "  荷包咖啡 "}`)
	var mch newMerchant
	if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &mch) != nil {
		t.Fatalf("create merchant: %d %s", rec.Code, rec.Body)
	}
	if !hebao.ValidID("mch", mch.ID) || mch.Name != "荷包咖啡" || !strings.HasPrefix(mch.APIKey, "mk_") ||
		!strings.HasPrefix(mch.WebhookSecret, "whsec_") || mch.APIKey[3:] == mch.WebhookSecret[6:] {
		t.Fatalf("create merchant: %s", rec.Body)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("create merchant: Cache-Control %q, want no-store", cc)
	}
	if got := m.actions(); !strings.HasSuffix(got, "merchant.add") {
		t.Errorf("audit log %q, want merchant.add last", got)
	}
	for _, r := range m.store.Audit() {
		if d, _ := json.Marshal(r); bytes.Contains(d, []byte(mch.APIKey)) || bytes.Contains(d, []byte(mch.WebhookSecret)) {
			t.Errorf("the audit log holds a secret: %s", d)
		}
	}
	key := mch.APIKey

	// The merchant creates an order; the same request again is the same order.
	const no = "T20261126-0001"
	create := orderBody(no, 1234, "两杯拿铁", shopNotifyURL)
	var o merchantOrder
	status, first := m.call(t, "POST", "/v1/merchant/orders", key, create, &o)
	if status != 201 || !hebao.ValidID("ord", o.ID) || o.OutTradeNo != no || o.Status != "NOTPAY" || o.Amount != 1234 ||
		o.Subject != "两杯拿铁" || o.PaidAt != nil || o.ClosedAt != nil || o.Payer != "" || o.Method != "" ||
		!o.ExpiresAt.Equal(m.clock.Now().Add(hebao.DefaultOrderExpiry)) {
		t.Fatalf("create order: %d %s", status, first)
	}
	if o.QRPayload != testPublicURL+"/pay/"+o.ID || o.QRURL != testPublicURL+"/v1/qr/"+o.ID+".svg" {
		t.Errorf("create order: qr_payload %q, qr_url %q", o.QRPayload, o.QRURL)
	}
	var again merchantOrder
	status, second := m.call(t, "POST", "/v1/merchant/orders", key,
		`{"subject": "两杯拿铁", "notify_url": "`+shopNotifyURL+`", "amount": 1234, "out_trade_no": "`+no+`"}`, &again)
	if status != 200 || second != first {
		t.Errorf("the same order again: %d %s\nwant 200 %s", status, second, first)
	}
	status, b := m.call(t, "POST", "/v1/merchant/orders", key, orderBody(no, 1235, "两杯拿铁", shopNotifyURL), nil)
	wantCode(t, "the same out_trade_no, another amount", status, b, 422, "idempotency_key_reused")
	status, b = m.call(t, "POST", "/v1/merchant/orders", key, orderBody(no, 1234, "两杯拿铁", ""), nil)
	wantCode(t, "the same out_trade_no, no notify_url", status, b, 422, "idempotency_key_reused")

	// The customer opens it and pays.
	var seen customerOrder
	if status, b := m.call(t, "GET", "/v1/orders/"+o.ID, alice.Token, "", &seen); status != 200 ||
		seen.ID != o.ID || seen.Merchant.ID != mch.ID || seen.Merchant.Name != "荷包咖啡" || seen.Amount != 1234 ||
		seen.Currency != "CNY" || seen.Subject != "两杯拿铁" || seen.Status != "NOTPAY" || seen.PaidByYou || seen.TransactionID != "" {
		t.Fatalf("customer's order: %d %s", status, b)
	}
	target := "/v1/orders/" + o.ID + "/pay"
	paid := m.post(t, alice.Token, target, "pay-1", payBody(payPassword)).String()
	var payment struct {
		Order       customerOrder `json:"order"`
		Transaction txn           `json:"transaction"`
	}
	if !strings.HasPrefix(paid, "201 ") || json.Unmarshal([]byte(paid[4:]), &payment) != nil {
		t.Fatalf("pay: %s", paid)
	}
	if p := payment; p.Order.ID != o.ID || p.Order.Status != "SUCCESS" || !p.Order.PaidByYou || p.Order.Merchant.Name != "荷包咖啡" ||
		p.Order.TransactionID != p.Transaction.ID || p.Transaction.Kind != "payment" || p.Transaction.Status != "succeeded" ||
		p.Transaction.Amount != 1234 || p.Transaction.Memo != "两杯拿铁" || p.Transaction.Counterparty == nil ||
		p.Transaction.Counterparty.Name != "荷包咖啡" {
		t.Errorf("pay: %s", paid)
	}
	if again := m.post(t, alice.Token, target, "pay-1", `{"payment_password": "`+payPassword+`", "method": "balance"}`).String(); again != paid {
		t.Errorf("pay, replayed:\n got %s\nwant %s", again, paid)
	}
	status, b = answerOf(m.post(t, alice.Token, target, "pay-2", payBody(payPassword)))
	wantCode(t, "pay again with another key", status, b, 422, "order_already_paid")
	if got := m.balance(t, alice.Token); got != 10_000-1234 {
		t.Errorf("alice's balance %d, want %d", got, 10_000-1234)
	}
	if ids, _ := m.history(t, alice.Token, "?limit=1"); len(ids) != 1 || ids[0] != "payment:succeeded" {
		t.Errorf("alice's history starts %v", ids)
	}
	if status, b := m.call(t, "GET", "/v1/orders/"+o.ID, alice.Token, "", &seen); status != 200 || seen.Status != "SUCCESS" ||
		!seen.PaidByYou || seen.TransactionID != payment.Transaction.ID {
		t.Errorf("customer's paid order: %d %s", status, b)
	}

	// The merchant sees it paid, and its money.
	var got merchantOrder
	if status, b := m.call(t, "GET", "/v1/merchant/orders/"+no, key, "", &got); status != 200 || got.ID != o.ID ||
		got.Status != "SUCCESS" || got.Payer != alice.Wallet.ID || got.Method != "balance" || got.PaidAt == nil ||
		!got.PaidAt.Equal(m.clock.Now()) || got.ClosedAt != nil {
		t.Errorf("merchant's paid order: %d %s", status, b)
	}
	var bal struct {
		MerchantID string `json:"merchant_id"`
		Name       string `json:"name"`
		Balance    int64  `json:"balance"`
		Currency   string `json:"currency"`
	}
	if status, b := m.call(t, "GET", "/v1/merchant/balance", key, "", &bal); status != 200 || bal.MerchantID != mch.ID ||
		bal.Name != "荷包咖啡" || bal.Balance != 1234 || bal.Currency != "CNY" {
		t.Errorf("merchant balance: %d %s", status, b)
	}
	status, b = m.call(t, "POST", "/v1/merchant/orders/"+no+"/close", key, "", nil)
	wantCode(t, "close a paid order", status, b, 422, "order_already_paid")

	// One webhook is owed, for the payment; the merchant can have it sent again.
	ds := m.deliveries(t, key)
	if len(ds) != 1 {
		t.Fatalf("deliveries: %+v", ds)
	}
	d := ds[0]
	var event struct {
		ID        string        `json:"id"`
		Type      string        `json:"type"`
		CreatedAt time.Time     `json:"created_at"`
		Data      merchantOrder `json:"data"`
	}
	if err := json.Unmarshal(d.Payload, &event); err != nil {
		t.Fatalf("delivery payload: %v: %s", err, d.Payload)
	}
	if d.EventType != "order.paid" || d.Status != "pending" || d.URL != shopNotifyURL || d.Attempts != 0 || d.NextAttemptAt == nil ||
		event.ID != d.EventID || event.Type != "order.paid" || event.Data.ID != o.ID || event.Data.Status != "SUCCESS" ||
		event.Data.Payer != alice.Wallet.ID || event.Data.QRPayload != "" {
		t.Errorf("delivery %+v, payload %s", d, d.Payload)
	}
	var replayed delivery
	if status, b := m.call(t, "POST", "/v1/merchant/webhook-deliveries/"+d.ID+"/replay", key, "", &replayed); status != 202 ||
		replayed.ID != d.ID || replayed.EventID != d.EventID || replayed.Status != "pending" || !bytes.Equal(replayed.Payload, d.Payload) {
		t.Errorf("replay: %d %s", status, b)
	}

	// Another merchant sees none of it.
	other := m.merchant(t, "隔壁小店")
	for _, tc := range []struct{ method, target string }{
		{"GET", "/v1/merchant/orders/" + no},
		{"POST", "/v1/merchant/orders/" + no + "/close"},
		{"POST", "/v1/merchant/webhook-deliveries/" + d.ID + "/replay"},
	} {
		status, b := m.call(t, tc.method, tc.target, other.APIKey, "", nil)
		wantCode(t, "another merchant: "+tc.method+" "+tc.target, status, b, 404, "not_found")
	}
	if ds := m.deliveries(t, other.APIKey); len(ds) != 0 {
		t.Errorf("another merchant's deliveries: %+v", ds)
	}
	var otherBal struct{ Balance int64 }
	if status, b := m.call(t, "GET", "/v1/merchant/balance", other.APIKey, "", &otherBal); status != 200 || otherBal.Balance != 0 {
		t.Errorf("another merchant's balance: %d %s", status, b)
	}
	// …and may use the same out_trade_no for its own order.
	if o2 := m.order(t, other.APIKey, no, 1234, ""); o2.ID == o.ID {
		t.Errorf("another merchant's order with the same number is the same order")
	}

	// Merchant routes take nothing but a merchant key.
	routes := []struct{ method, target, body string }{
		{"POST", "/v1/merchant/orders", orderBody("T20261126-0002", 1, "x", "")},
		{"GET", "/v1/merchant/orders/" + no, ""},
		{"POST", "/v1/merchant/orders/" + no + "/close", ""},
		{"GET", "/v1/merchant/balance", ""},
		{"GET", "/v1/merchant/webhook-deliveries", ""},
		{"POST", "/v1/merchant/webhook-deliveries/" + d.ID + "/replay", ""},
	}
	for _, who := range []struct{ name, token string }{
		{"no key", ""},
		{"a customer token", alice.Token},
		{"a staff token", m.admin},
		{"a garbage key", "mk_garbage"},
		{"a key not a merchant's", "mk_" + strings.Repeat("a", 52)},
	} {
		for _, r := range routes {
			rec := m.s.do(t, r.method, r.target, authJSON(who.token), r.body)
			if who.token == "" {
				rec = m.s.do(t, r.method, r.target, jsonHeader(), r.body)
			}
			wantCode(t, who.name+": "+r.method+" "+r.target, rec.Code, rec.Body.String(), 401, "unauthenticated")
			if h := rec.Header().Get("WWW-Authenticate"); !strings.HasPrefix(h, "Bearer ") {
				t.Errorf("%s: %s %s: WWW-Authenticate %q", who.name, r.method, r.target, h)
			}
		}
	}
	status, b = m.call(t, "GET", "/v1/merchant/orders/T20261126-0002", key, "", nil)
	wantCode(t, "the order refused for want of a key", status, b, 404, "not_found")
	// …and merchants are made by admins only.
	for _, who := range []struct{ name, token string }{{"customer", alice.Token}, {"agent", m.agent}} {
		status, b := m.call(t, "POST", "/v1/admin/merchants", who.token, `{"name": "x"}`, nil)
		wantCode(t, "create merchant as "+who.name, status, b, 403, "forbidden")
	}
	status, b = m.call(t, "POST", "/v1/admin/merchants", key, `{"name": "x"}`, nil)
	wantCode(t, "create merchant with a merchant key", status, b, 401, "unauthenticated")

	// The QR code of the pay link, for anyone.
	rec = m.s.do(t, "GET", "/v1/qr/"+o.ID+".svg", nil, "")
	if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/svg+xml" || !bytes.Contains(rec.Body.Bytes(), []byte("<svg")) {
		t.Fatalf("svg: %d %q %.80s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	if err := wellFormedXML(rec.Body.Bytes()); err != nil {
		t.Errorf("svg is not XML: %v", err)
	}
	for _, size := range []int{0, 128, 512} {
		target := "/v1/qr/" + o.ID + ".png"
		if size != 0 {
			target += "?size=" + strconv.Itoa(size)
		}
		rec = m.s.do(t, "GET", target, nil, "")
		if rec.Code != 200 || rec.Header().Get("Content-Type") != "image/png" {
			t.Fatalf("GET %s: %d %q", target, rec.Code, rec.Header().Get("Content-Type"))
		}
		img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatalf("GET %s: %v", target, err)
		}
		want := size
		if want == 0 {
			want = 256
		}
		if b := img.Bounds(); b.Dx() != b.Dy() || b.Dx() < want {
			t.Errorf("GET %s: a %dx%d image", target, b.Dx(), b.Dy())
		}
	}
	unknown := hebao.NewID("ord")
	for _, tc := range []struct {
		target string
		status int
		code   string
	}{
		{"/v1/qr/" + unknown + ".svg", 404, "not_found"},
		{"/v1/qr/" + unknown + ".png", 404, "not_found"},
		{"/v1/qr/" + o.ID + ".gif", 404, "not_found"},
		{"/v1/qr/" + o.ID, 404, "not_found"},
		{"/v1/qr/ord_x.svg", 404, "not_found"},
		{"/v1/qr/" + o.ID + ".png?size=127", 400, "invalid_request"},
		{"/v1/qr/" + o.ID + ".png?size=1025", 400, "invalid_request"},
		{"/v1/qr/" + o.ID + ".png?size=big", 400, "invalid_request"},
	} {
		rec := m.s.do(t, "GET", tc.target, nil, "")
		wantCode(t, "GET "+tc.target, rec.Code, rec.Body.String(), tc.status, tc.code)
	}
	for _, id := range []string{unknown, "ord_x"} {
		status, b := m.call(t, "GET", "/v1/orders/"+id, alice.Token, "", nil)
		wantCode(t, "customer's order "+id, status, b, 404, "not_found")
		status, b = answerOf(m.post(t, alice.Token, "/v1/orders/"+id+"/pay", "pay-"+id, payBody(payPassword)))
		wantCode(t, "pay "+id, status, b, 404, "not_found")
	}
}

func TestCreateOrderInvalid(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	key := m.merchant(t, "荷包咖啡").APIKey
	good := map[string]any{"out_trade_no": "T20261126-0001", "amount": 100, "subject": "咖啡"}
	with := func(k string, v any) string {
		b := map[string]any{}
		for k, v := range good {
			b[k] = v
		}
		if v == nil {
			delete(b, k)
		} else {
			b[k] = v
		}
		return body(b)
	}
	for _, tc := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"out_trade_no too short", with("out_trade_no", "T2026"), 400, "invalid_request"},
		{"out_trade_no too long", with("out_trade_no", strings.Repeat("T", 33)), 400, "invalid_request"},
		{"out_trade_no with a space", with("out_trade_no", "T2026 1126"), 400, "invalid_request"},
		{"out_trade_no with a slash", with("out_trade_no", "T2026/1126"), 400, "invalid_request"},
		{"out_trade_no in Chinese", with("out_trade_no", "订单二零二六一一"), 400, "invalid_request"},
		{"no out_trade_no", with("out_trade_no", nil), 400, "invalid_request"},
		{"amount 0", with("amount", 0), 400, "invalid_request"},
		{"amount negative", with("amount", -1), 400, "invalid_request"},
		{"amount fractional", strings.Replace(with("amount", 100), "100", "1.5", 1), 400, "invalid_request"},
		{"amount a string", with("amount", "100"), 400, "invalid_request"},
		{"amount above 10^12", with("amount", int64(1_000_000_000_001)), 400, "invalid_request"},
		{"no amount", with("amount", nil), 400, "invalid_request"},
		{"subject empty", with("subject", ""), 400, "invalid_request"},
		{"no subject", with("subject", nil), 400, "invalid_request"},
		{"subject too long", with("subject", strings.Repeat("咖", 129)), 400, "invalid_request"},
		{"subject with a newline", with("subject", "咖\n啡"), 400, "invalid_request"},
		{"expires_in 30", with("expires_in", 30), 400, "invalid_request"},
		{"expires_in negative", with("expires_in", -60), 400, "invalid_request"},
		{"expires_in over 7 days", with("expires_in", 7*24*3600+1), 400, "invalid_request"},
		{"expires_in huge", with("expires_in", int64(1)<<62), 400, "invalid_request"},
		{"unknown field", with("status", "SUCCESS"), 400, "invalid_request"},
		{"not an object", `["T20261126-0001"]`, 400, "invalid_request"},
		{"empty body", ``, 400, "invalid_request"},
		{"notify_url too long", with("notify_url", "https://shop.example/"+strings.Repeat("a", 2048)), 400, "invalid_request"},
		{"notify_url http", with("notify_url", "http://shop.example/notify"), 422, "notify_url_forbidden"},
		{"notify_url elsewhere", with("notify_url", "https://169.254.169.254/latest"), 422, "notify_url_forbidden"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b := m.call(t, "POST", "/v1/merchant/orders", key, tc.body, nil)
			wantCode(t, "create order", status, b, tc.status, tc.code)
		})
	}
	// Nothing was made: the number is still free, and GET finds nothing.
	for _, no := range []string{"T20261126-0001", strings.Repeat("T", 33), "T2026"} {
		status, b := m.call(t, "GET", "/v1/merchant/orders/"+no, key, "", nil)
		wantCode(t, "GET "+no+" after refusals", status, b, 404, "not_found")
	}
	if ds := m.deliveries(t, key); len(ds) != 0 {
		t.Errorf("deliveries after refusals: %+v", ds)
	}
	// The boundaries are accepted.
	for i, expiresIn := range []int64{60, 7 * 24 * 3600} {
		var o merchantOrder
		no := "T20261126-100" + strconv.Itoa(i)
		b := body(map[string]any{"out_trade_no": no, "amount": 1, "subject": strings.Repeat("咖", 128), "expires_in": expiresIn})
		if status, out := m.call(t, "POST", "/v1/merchant/orders", key, b, &o); status != 201 ||
			!o.ExpiresAt.Equal(o.CreatedAt.Add(time.Duration(expiresIn)*time.Second)) {
			t.Errorf("expires_in %d: %d %s", expiresIn, status, out)
		}
	}
}

func TestCloseOrder(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	m.fund(t, alice, 10_000)
	key := m.merchant(t, "荷包咖啡").APIKey
	o := m.order(t, key, "T20261126-0001", 500, shopNotifyURL)

	m.clock.Add(time.Minute)
	var closed merchantOrder
	if status, b := m.call(t, "POST", "/v1/merchant/orders/T20261126-0001/close", key, "", &closed); status != 200 ||
		closed.ID != o.ID || closed.Status != "CLOSED" || closed.ClosedAt == nil || !closed.ClosedAt.Equal(m.clock.Now()) || closed.PaidAt != nil {
		t.Fatalf("close: %d %s", status, b)
	}
	// Closing again changes nothing.
	m.clock.Add(time.Minute)
	var again merchantOrder
	if status, b := m.call(t, "POST", "/v1/merchant/orders/T20261126-0001/close", key, "", &again); status != 200 ||
		again.Status != "CLOSED" || !again.ClosedAt.Equal(*closed.ClosedAt) {
		t.Errorf("close again: %d %s", status, b)
	}
	status, b := answerOf(m.post(t, alice.Token, "/v1/orders/"+o.ID+"/pay", "pay-1", payBody(payPassword)))
	wantCode(t, "pay a closed order", status, b, 422, "order_closed")
	var seen customerOrder
	if status, b := m.call(t, "GET", "/v1/orders/"+o.ID, alice.Token, "", &seen); status != 200 || seen.Status != "CLOSED" {
		t.Errorf("customer's closed order: %d %s", status, b)
	}
	if got := m.balance(t, alice.Token); got != 10_000 {
		t.Errorf("alice's balance %d after paying a closed order", got)
	}
	ds := m.deliveries(t, key)
	if len(ds) != 1 || ds[0].EventType != "order.closed" {
		t.Errorf("deliveries after closing: %+v", ds)
	}
	status, b = m.call(t, "POST", "/v1/merchant/orders/T20261126-0404/close", key, "", nil)
	wantCode(t, "close an unknown order", status, b, 404, "not_found")

	// An order past its expiry cannot be paid even before the expiry job closes it.
	late := m.order(t, key, "T20261126-0002", 500, "")
	m.clock.Add(hebao.DefaultOrderExpiry)
	status, b = answerOf(m.post(t, alice.Token, "/v1/orders/"+late.ID+"/pay", "pay-2", payBody(payPassword)))
	wantCode(t, "pay an expired order", status, b, 422, "order_closed")

	// Refusals of a payment leave the order open and the money where it was.
	poor := m.order(t, key, "T20261126-0003", 10_001, "")
	for _, tc := range []struct {
		name, key, body string
		status          int
		code            string
	}{
		{"too little money", "pay-3", payBody(payPassword), 422, "insufficient_funds"},
		{"wrong password", "pay-4", payBody("640193"), 422, "payment_password_wrong"},
		{"by card, without a card", "pay-5", `{"method": "card", "payment_password": "` + payPassword + `"}`, 400, "invalid_request"},
		{"by card, not hers", "pay-10", `{"method": "card", "card_id": "card_06h1fhhdkjhta6g5xc3b1tjjr8", "payment_password": "` + payPassword + `"}`, 404, "not_found"},
		{"no method", "pay-6", `{"payment_password": "` + payPassword + `"}`, 400, "invalid_request"},
		{"with a coupon", "pay-7", `{"method": "balance", "coupon_id": "cpn_x", "payment_password": "` + payPassword + `"}`, 400, "invalid_request"},
		{"unknown field", "pay-8", `{"method": "balance", "amount": 1, "payment_password": "` + payPassword + `"}`, 400, "invalid_request"},
		{"no key", "", payBody(payPassword), 400, "invalid_request"},
	} {
		status, b := answerOf(m.post(t, alice.Token, "/v1/orders/"+poor.ID+"/pay", tc.key, tc.body))
		wantCode(t, "pay: "+tc.name, status, b, tc.status, tc.code)
	}
	status, b = answerOf(m.post(t, m.admin, "/v1/orders/"+poor.ID+"/pay", "pay-9", payBody(payPassword)))
	wantCode(t, "pay as staff", status, b, 403, "forbidden")
	if got := m.balance(t, alice.Token); got != 10_000 {
		t.Errorf("alice's balance %d after refused payments", got)
	}
	var open merchantOrder
	if m.call(t, "GET", "/v1/merchant/orders/T20261126-0003", key, "", &open); open.Status != "NOTPAY" {
		t.Errorf("order after refused payments: %+v", open)
	}
}

// TestPayOrderRace pays one order from two wallets at once, many times over: it is
// paid exactly once.
func TestPayOrderRace(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	bob := m.payer(t, "13700137000", testIDNumber2, cardBob)
	m.fund(t, alice, 10_000)
	m.fund(t, bob, 10_000)
	key := m.merchant(t, "荷包咖啡").APIKey
	o := m.order(t, key, "T20261126-0001", 700, shopNotifyURL)

	const n = 8
	answers := make(chan string, 2*n)
	var wg sync.WaitGroup
	for i := range n {
		for _, p := range []payer{alice, bob} {
			wg.Go(func() {
				answers <- m.post(t, p.Token, "/v1/orders/"+o.ID+"/pay", "race-"+strconv.Itoa(i), payBody(payPassword)).String()
			})
		}
	}
	wg.Wait()
	close(answers)
	paid := 0
	for a := range answers {
		status, b := answerOf(bytes.NewBufferString(a))
		if status == 201 {
			paid++
			continue
		}
		wantCode(t, "a losing payment", status, b, 422, "order_already_paid")
	}
	if paid != 1 {
		t.Errorf("%d payments succeeded, want 1", paid)
	}
	if got := m.balance(t, alice.Token) + m.balance(t, bob.Token); got != 20_000-700 {
		t.Errorf("the payers hold %d together, want %d", got, 20_000-700)
	}
	var bal struct{ Balance int64 }
	if status, b := m.call(t, "GET", "/v1/merchant/balance", key, "", &bal); status != 200 || bal.Balance != 700 {
		t.Errorf("merchant balance: %d %s", status, b)
	}
	if ds := m.deliveries(t, key); len(ds) != 1 || ds[0].EventType != "order.paid" {
		t.Errorf("deliveries: %+v", ds)
	}
}

func TestMerchantRoutesNotConfigured(t *testing.T) {
	a := newAccounts(t)
	s := newTestServer(t, a.cfg)
	for _, tc := range []struct {
		method, target, token, body string
	}{
		{"POST", "/v1/admin/merchants", a.admin, `{"name": "荷包咖啡"}`},
		{"POST", "/v1/merchant/orders", "mk_x", orderBody("T20261126-0001", 1, "x", "")},
		{"GET", "/v1/merchant/balance", "mk_x", ""},
		{"GET", "/v1/qr/" + hebao.NewID("ord") + ".svg", "", ""},
	} {
		h := jsonHeader()
		if tc.token != "" {
			h.Set("Authorization", "Bearer "+tc.token)
		}
		rec := s.do(t, tc.method, tc.target, h, tc.body)
		wantCode(t, tc.method+" "+tc.target, rec.Code, rec.Body.String(), 503, "unavailable")
	}
}

// answerOf splits what post returned into the status and the body.
func answerOf(out *bytes.Buffer) (int, string) {
	s := out.String()
	code, b, _ := strings.Cut(s, " ")
	status := 0
	for _, c := range code {
		status = status*10 + int(c-'0')
	}
	return status, b
}

// wellFormedXML reads b to its end as XML.
func wellFormedXML(b []byte) error {
	dec := xml.NewDecoder(bytes.NewReader(b))
	for {
		if _, err := dec.Token(); err == io.EOF {
			return nil
		} else if err != nil {
			return err
		}
	}
}

// TestPayPage: the page an order's QR code opens shows the merchant, the amount and
// the state, escapes what the merchant wrote, and nothing about the payer.
func TestPayPage(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	key := m.merchant(t, "荷包咖啡 <b>").APIKey
	o := m.order(t, key, "PAGE-000001", 1_234, "")
	rec := m.s.do(t, "GET", "/pay/"+o.ID, nil, "")
	page := rec.Body.String()
	if rec.Code != 200 || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Fatalf("pay page: %d %s", rec.Code, rec.Header().Get("Content-Type"))
	}
	for _, want := range []string{"¥12.34", "荷包咖啡 &lt;b&gt;", "待付款", "/v1/orders/" + o.ID + "/pay"} {
		if !strings.Contains(page, want) {
			t.Errorf("the page lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<b>") || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
		t.Error("the page is not escaped, or not locked down")
	}
}
