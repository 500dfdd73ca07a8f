package demo_test

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/demo"
	hebaohttp "github.com/hebaopay/hebao/http"
	"github.com/hebaopay/hebao/inmem"
	"github.com/hebaopay/hebao/webhook"
)

// world is a real Hebao API server on an in-memory store, with one merchant, the
// demo shop of that merchant mounted on it as serve --dev mounts it, and the
// webhook sender, run by hand.
type world struct {
	url    string
	key    string // the merchant's API key
	secret string // its webhook secret
	sender *webhook.Sender
}

func newWorld(t *testing.T) *world {
	t.Helper()
	st := inmem.New(time.Now)
	raw, err := hebao.GenerateKeyring()
	if err != nil {
		t.Fatal(err)
	}
	keys, err := hebao.ParseKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	merchants := &hebao.MerchantService{Store: st, Keys: keys}
	nm, err := merchants.Create(t.Context(), hebao.Actor{Kind: hebao.ActorSystem, ID: "test"}, "Hebao Demo Shop")
	if err != nil {
		t.Fatal(err)
	}
	// As under --dev: the shop on this machine may be sent webhooks over http.
	policy := webhook.Policy{AllowHTTP: true, AllowLoopback: true}
	ts := httptest.NewUnstartedServer(nil)
	w := &world{url: "http://" + ts.Listener.Addr().String(), key: nm.APIKey, secret: nm.WebhookSecret,
		sender: &webhook.Sender{Store: st, Secret: merchants.WebhookSecretOf, Policy: policy}}
	shop := &demo.Shop{API: w.url, APIKey: nm.APIKey, WebhookSecret: nm.WebhookSecret}
	srv, err := hebaohttp.NewServer(hebaohttp.Config{
		Store:     st,
		Dev:       true,
		Merchants: merchants,
		Orders: &hebao.OrderService{Store: st, CheckURL: policy.CheckURL,
			Codes: &hebao.PaymentCodeService{Store: st, Keys: keys}},
		Webhooks:    &hebao.WebhookService{Store: st},
		PublicURL:   w.url,
		Web:         shop.Handler(),
		WebPatterns: demo.Patterns,
	})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = srv.Handler()
	ts.Start()
	t.Cleanup(ts.Close)
	return w
}

// do sends a request to the server, with the merchant's key as the bearer if key,
// and returns the status and the body. No answer of the demo may hold the key or
// the webhook secret.
func (w *world) do(t *testing.T, method, path string, key bool, header http.Header, body string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, w.url+path, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range header {
		req.Header[k] = v
	}
	if body != "" && req.Header.Get("Content-Type") == "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key {
		req.Header.Set("Authorization", "Bearer "+w.key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if strings.HasPrefix(path, "/demo/") && (strings.Contains(string(b), w.key) || strings.Contains(string(b), w.secret)) {
		t.Errorf("%s %s shows a secret: %s", method, path, b)
	}
	return resp.StatusCode, b
}

// call is do, failing the test unless the status is want, and decoding the answer
// into out.
func (w *world) call(t *testing.T, method, path string, key bool, body string, want int, out any) {
	t.Helper()
	status, b := w.do(t, method, path, key, nil, body)
	if status != want {
		t.Fatalf("%s %s: %d, want %d: %s", method, path, status, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

// shopOrder is an order as the shop's page sees it.
type shopOrder struct {
	OutTradeNo  string   `json:"out_trade_no"`
	OrderID     string   `json:"order_id"`
	Product     string   `json:"product"`
	Amount      int64    `json:"amount"`
	State       string   `json:"state"`
	Refunded    int64    `json:"refunded"`
	Events      []string `json:"events"`
	QRURL       string   `json:"qr_url"`
	PayURL      string   `json:"pay_url"`
	HebaoStatus string   `json:"hebao_status"`
}

type problem struct {
	Status int    `json:"status"`
	Code   string `json:"code"`
	Detail string `json:"detail"`
}

// buy has the shop's page order a tote bag, and returns the shop's order.
func (w *world) buy(t *testing.T) shopOrder {
	t.Helper()
	var o shopOrder
	w.call(t, "POST", "/demo/shop/api/orders", false, `{"product_id": "tote"}`, 201, &o)
	return o
}

func (w *world) shopOrder(t *testing.T, no string) shopOrder {
	t.Helper()
	var o shopOrder
	w.call(t, "GET", "/demo/shop/api/orders/"+no, false, "", 200, &o)
	return o
}

// TestShopOrdersThroughTheAPI: the shop's server creates the order through the
// merchant API, with its webhook URL, and the page gets the QR code and pay link;
// when the merchant closes the order, Hebao's real signed webhook reaches the shop,
// which marks it closed and answers 204.
func TestShopOrdersThroughTheAPI(t *testing.T) {
	w := newWorld(t)
	var catalogue struct {
		Items []struct {
			ID    string `json:"id"`
			Price int64  `json:"price"`
		} `json:"items"`
	}
	w.call(t, "GET", "/demo/shop/api/products", false, "", 200, &catalogue)
	if len(catalogue.Items) < 3 || catalogue.Items[2].ID != "tote" || catalogue.Items[2].Price != 3900 {
		t.Fatalf("products: %+v", catalogue)
	}

	o := w.buy(t)
	if !strings.HasPrefix(o.OutTradeNo, "DEMO-") || o.Amount != 3900 || o.State != "unpaid" || o.HebaoStatus != "NOTPAY" ||
		o.QRURL != w.url+"/v1/qr/"+o.OrderID+".svg" || o.PayURL != w.url+"/pay/"+o.OrderID || len(o.Events) != 0 {
		t.Fatalf("the shop's new order: %+v", o)
	}
	var api struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Amount int64  `json:"amount"`
	}
	w.call(t, "GET", "/v1/merchant/orders/"+o.OutTradeNo, true, "", 200, &api)
	if api.ID != o.OrderID || api.Status != "NOTPAY" || api.Amount != 3900 {
		t.Fatalf("the order in Hebao: %+v", api)
	}
	status, _ := w.do(t, "GET", "/v1/qr/"+o.OrderID+".svg", false, nil, "")
	if status != 200 {
		t.Errorf("the QR code: %d", status)
	}

	w.call(t, "POST", "/v1/merchant/orders/"+o.OutTradeNo+"/close", true, "", 200, nil)
	if n, err := w.sender.DeliverDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("DeliverDue: %d, %v", n, err)
	}
	got := w.shopOrder(t, o.OutTradeNo)
	if got.State != "closed" || got.HebaoStatus != "CLOSED" || len(got.Events) != 1 || !strings.HasPrefix(got.Events[0], "order.closed evt_") {
		t.Errorf("after the order.closed webhook: %+v", got)
	}
	var deliveries struct {
		Items []struct {
			Status     string `json:"status"`
			URL        string `json:"url"`
			LastStatus int    `json:"last_status"`
		} `json:"items"`
	}
	w.call(t, "GET", "/v1/merchant/webhook-deliveries", true, "", 200, &deliveries)
	if len(deliveries.Items) != 1 || deliveries.Items[0].Status != "delivered" || deliveries.Items[0].LastStatus != 204 ||
		deliveries.Items[0].URL != w.url+"/demo/shop/webhook" {
		t.Errorf("deliveries: %+v", deliveries)
	}

	var p problem
	w.call(t, "POST", "/demo/shop/api/orders", false, `{"product_id": "caviar"}`, 400, &p)
	if p.Code != "invalid_request" {
		t.Errorf("an unknown product: %+v", p)
	}
	w.call(t, "GET", "/demo/shop/api/orders/DEMO-20261126-NOTMINE1", false, "", 404, nil)
	w.call(t, "GET", "/demo/shop/api/nothing", false, "", 404, nil)
}

// event is a webhook body about the order o with status and refunded.
func event(id, typ string, o shopOrder, status string, refunded int64) string {
	order := map[string]any{"id": o.OrderID, "out_trade_no": o.OutTradeNo, "status": status, "amount": o.Amount,
		"subject": "荷包帆布袋 Hebao tote bag", "refunded": refunded}
	data := any(order)
	if typ == "refund.succeeded" {
		data = map[string]any{"id": "rfd_1", "out_refund_no": "R1", "out_trade_no": o.OutTradeNo, "status": "SUCCESS",
			"amount": refunded, "order": order}
	}
	b, _ := json.Marshal(map[string]any{"id": id, "type": typ, "created_at": time.Now().UTC(), "data": data})
	return string(b)
}

func (w *world) deliver(t *testing.T, header, body string) int {
	t.Helper()
	h := http.Header{"Content-Type": {"application/json"}}
	if header != "" {
		h.Set(webhook.SignatureHeader, header)
	}
	status, _ := w.do(t, "POST", "/demo/shop/webhook", false, h, body)
	return status
}

// TestWebhookFlipsTheOrder: a webhook signed with the merchant's secret marks the
// order paid, once however often it comes; a refund marks it refunded, and a late
// order.paid does not undo that.
func TestWebhookFlipsTheOrder(t *testing.T) {
	w := newWorld(t)
	o := w.buy(t)
	secret := []byte(w.secret)

	paid := event("evt_paid", "order.paid", o, "SUCCESS", 0)
	for range 2 { // the second is a duplicate: answered 204, not applied again
		if status := w.deliver(t, webhook.Sign(secret, time.Now(), []byte(paid)), paid); status != 204 {
			t.Fatalf("order.paid: %d, want 204", status)
		}
	}
	got := w.shopOrder(t, o.OutTradeNo)
	if got.State != "paid" || len(got.Events) != 1 || got.Events[0] != "order.paid evt_paid" {
		t.Errorf("after order.paid: %+v", got)
	}

	refund := event("evt_refund", "refund.succeeded", o, "REFUND", 1000)
	if status := w.deliver(t, webhook.Sign(secret, time.Now(), []byte(refund)), refund); status != 204 {
		t.Fatalf("refund.succeeded: %d", status)
	}
	late := event("evt_paid_late", "order.paid", o, "SUCCESS", 0)
	if status := w.deliver(t, webhook.Sign(secret, time.Now(), []byte(late)), late); status != 204 {
		t.Fatalf("a late order.paid: %d", status)
	}
	got = w.shopOrder(t, o.OutTradeNo)
	if got.State != "refunded" || got.Refunded != 1000 || len(got.Events) != 3 {
		t.Errorf("after the refund and a late order.paid: %+v", got)
	}
}

// TestWebhookRefused: a webhook that is not signed with the merchant's secret, was
// changed after signing, or was signed more than 5 minutes from now is answered
// 400 and changes nothing.
func TestWebhookRefused(t *testing.T) {
	w := newWorld(t)
	o := w.buy(t)
	secret := []byte(w.secret)
	body := event("evt_forged", "order.paid", o, "SUCCESS", 0)
	now := time.Now()
	for _, tc := range []struct {
		name, header, body string
	}{
		{"no signature", "", body},
		{"another secret", webhook.Sign([]byte("whsec_not_the_shops"), now, []byte(body)), body},
		{"the body changed after signing", webhook.Sign(secret, now, []byte(body)), strings.Replace(body, `"SUCCESS"`, `"REFUND"`, 1)},
		{"a stale signature (a replay)", webhook.Sign(secret, now.Add(-6*time.Minute), []byte(body)), body},
		{"a signature from the future", webhook.Sign(secret, now.Add(6*time.Minute), []byte(body)), body},
		{"a malformed header", "t=soon,v1=00", body},
	} {
		if status := w.deliver(t, tc.header, tc.body); status != 400 {
			t.Errorf("%s: %d, want 400", tc.name, status)
		}
	}
	if got := w.shopOrder(t, o.OutTradeNo); got.State != "unpaid" || len(got.Events) != 0 {
		t.Errorf("after forged webhooks: %+v", got)
	}
	// The same event, signed properly, is then applied: the refusals recorded nothing.
	if status := w.deliver(t, webhook.Sign(secret, now, []byte(body)), body); status != 204 {
		t.Fatalf("the genuine event: %d", status)
	}
	if got := w.shopOrder(t, o.OutTradeNo); got.State != "paid" {
		t.Errorf("after the genuine event: %+v", got)
	}
}

// TestTill: the till's server posts the payment code to the code-payment API and
// passes Hebao's refusals on with their code and detail.
func TestTill(t *testing.T) {
	w := newWorld(t)
	var p problem
	w.call(t, "POST", "/demo/till/api/charges", false, `{"amount": 800, "auth_code": "8158 2921 2469 4666 98"}`, 422, &p)
	if p.Code != "payment_code_invalid" || p.Detail == "" {
		t.Errorf("an unknown payment code: %+v", p)
	}
	w.call(t, "POST", "/demo/till/api/charges", false, `{"amount": 0, "auth_code": "815829212469466698"}`, 400, &p)
	if p.Code != "invalid_request" {
		t.Errorf("a zero amount: %+v", p)
	}
	w.call(t, "POST", "/demo/till/api/charges", false, `{"amount": 8.5, "auth_code": "815829212469466698"}`, 400, &p)
	w.call(t, "GET", "/demo/till/api/charges/TILL-20261126-NOTMINE1", false, "", 404, nil)
	w.call(t, "POST", "/demo/till/api/charges/TILL-20261126-NOTMINE1/close", false, "", 404, nil)
}

// TestShopWithAWrongKey: when Hebao refuses the shop's key, the page is told the
// shop cannot reach Hebao (502), and nothing about the key.
func TestShopWithAWrongKey(t *testing.T) {
	w := newWorld(t)
	bad := &demo.Shop{API: w.url, APIKey: "mk_wrong", WebhookSecret: w.secret}
	rec := httptest.NewRecorder()
	bad.Handler().ServeHTTP(rec, httptest.NewRequest("POST", "/demo/shop/api/orders", strings.NewReader(`{"product_id": "latte"}`)))
	if rec.Code != 502 || strings.Contains(rec.Body.String(), "mk_") {
		t.Errorf("a wrong key: %d %s", rec.Code, rec.Body)
	}
}
