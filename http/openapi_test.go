package http

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"github.com/google/go-cmp/cmp"
	"github.com/hebaopay/hebao"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
)

// A bill (text/csv) ends in summary rows shorter than its header and a digest line;
// kin-openapi's own CSV decoder wants every row as wide as the first, so bills are
// checked as text here and by bill_test.go as CSV.
func init() {
	asText := func(body io.Reader, _ http.Header, _ *openapi3.SchemaRef, _ openapi3filter.EncodingFn) (any, error) {
		b, err := io.ReadAll(body)
		return string(b), err
	}
	openapi3filter.RegisterBodyDecoder("text/csv", asText)
	openapi3filter.RegisterBodyDecoder("text/html", asText)
}

// loadOpenAPI parses and validates the embedded document.
func loadOpenAPI(t *testing.T) *openapi3.T {
	t.Helper()
	doc, err := openapi3.NewLoader().LoadFromData(openapiDoc)
	if err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("openapi.json is not a valid OpenAPI document: %v", err)
	}
	return doc
}

func TestOpenAPIIsJSON31(t *testing.T) {
	var doc struct {
		OpenAPI string `json:"openapi"`
	}
	dec := json.NewDecoder(bytes.NewReader(openapiDoc))
	if err := dec.Decode(&doc); err != nil {
		t.Fatalf("openapi.json is not JSON: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		t.Fatal("openapi.json has data after its JSON value")
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf(`openapi = %q, want "3.1.x"`, doc.OpenAPI)
	}
	if !loadOpenAPI(t).IsOpenAPI31OrLater() {
		t.Error("kin-openapi does not read the document as 3.1")
	}
}

// docPath turns a ServeMux pattern's path into an OpenAPI path template:
// "/v1/files/{name...}" is "/v1/files/{name}".
func docPath(path string) string {
	return strings.ReplaceAll(path, "...}", "}")
}

// TestOpenAPICoversRoutes fails when a route is served but not documented, or
// documented but not served.
func TestOpenAPICoversRoutes(t *testing.T) {
	doc := loadOpenAPI(t)
	cfg, _ := otpConfig(true) // development mode: every route there is
	s := newTestServer(t, cfg)

	served := map[string]bool{}
	for _, pattern := range s.routes {
		method, path, _ := strings.Cut(pattern, " ")
		path = docPath(path)
		served[method+" "+path] = true
		item := doc.Paths.Value(path)
		if item == nil || item.GetOperation(method) == nil {
			t.Errorf("route %s is not in openapi.json", pattern)
		}
	}
	for path, item := range doc.Paths.Map() {
		for method := range item.Operations() {
			if !served[method+" "+path] {
				t.Errorf("openapi.json documents %s %s, which the server does not serve", method, path)
			}
		}
	}
}

// TestOpenAPIResponses serves requests to every route and checks each answer
// against the document: its status is listed for the operation, its content type is
// one documented for that status, its body matches the schema, and its documented
// headers are there.
func TestOpenAPIResponses(t *testing.T) {
	doc := loadOpenAPI(t)
	down := errors.New("connection refused")

	full := func(setup func(cfg *Config, inbox *devInbox)) Config {
		cfg, inbox := otpConfig(true)
		if setup != nil {
			setup(&cfg, inbox)
		}
		return cfg
	}
	sent := full(func(cfg *Config, _ *devInbox) { cfg.OTP.Send(context.Background(), "13800138000", hebao.PurposeLogin) })
	otp := `{"phone": "13800138000", "purpose": "login"}`

	acct := newAccounts(t)
	mon := acct.withMoney(t) // acct.cfg moves money from here on
	mon.withShop(t)          // and has merchants
	payerA := mon.payer(t, "15000150000", "110101198001011232", "6222026000070007")
	payerB := mon.payer(t, "15100151000", "11010119850505456X", "6222026000070015")
	resetting := mon.payer(t, "15300153000", "110101199505050010", "6222026000070023") // an agent starts a reset
	mon.fund(t, payerA, 10_000)
	_, paid := answer(t, mon.post(t, payerA.Token, "/v1/transfers", "oa-1", transferBody("15100151000", 100, payPassword)))
	_, out := answer(t, mon.post(t, payerA.Token, "/v1/withdrawals", "oa-2", body(map[string]any{"card_id": payerA.card, "amount": 100, "payment_password": payPassword})))
	mon.settle(t, payerA.Token, "/v1/withdrawals/"+out.ID)
	if _, err := mon.disp.DispatchOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var history struct{ Items []struct{ ID, Kind string } }
	json.Unmarshal(mon.s.do(t, "GET", "/v1/transactions", bearerHeader(payerA.Token), "").Body.Bytes(), &history)
	topupID := history.Items[len(history.Items)-1].ID
	idem := func(token, key string) http.Header {
		h := authJSON(token)
		h.Set("Idempotency-Key", key)
		return h
	}
	settings := `{"password_free":{"enabled":true,"per_payment_limit":100},"auto_topup":false,"sms_threshold":null}`
	known := acct.register(t, "13700137000", "dev-a")
	leaving := acct.register(t, "13600136000", "dev-a") // signs out on this device
	// a second desk of the agent, signing out
	leavingAgent, err := acct.cfg.Staff.Login(t.Context(), "agent", testStaffPassword)
	if err != nil {
		t.Fatal(err)
	}
	everyone := acct.register(t, "13500135000", "dev-a") // signs out everywhere
	freezer := acct.register(t, "13200132000", "dev-a")  // freezes its own wallet
	closer := acct.register(t, "13100131000", "dev-a")   // closes its own wallet
	unfreezeCode := acct.code(t, "13200132000", hebao.PurposeUnfreeze)
	noWallet, noCustomer := hebao.NewID("wal"), hebao.NewID("cus")
	named := acct.register(t, "13300133000", "dev-a") // real-named, then binds a card
	bindCode := acct.code(t, "13300133000", hebao.PurposeBindCard)
	payCode := acct.code(t, "13300133000", hebao.PurposeSetPaymentPassword)
	resetCode := acct.code(t, "13300133000", hebao.PurposeResetPaymentPassword)
	newPhone := acct.code(t, "13900139000", hebao.PurposeRegister)
	takenPhone := acct.code(t, "13700137000", hebao.PurposeRegister)
	broken := acct.cfg
	noIdentity := acct.cfg
	noIdentity.Identity = nil
	noIdentity.Cards = nil
	noIdentity.Face = nil
	noIdentity.PaymentPasswords = nil
	noIdentity.Transfers, noIdentity.Bank, noIdentity.Hub = nil, nil, nil
	broken.Ledger = brokenLedger{}
	noShop := acct.cfg
	noShop.Merchants, noShop.Orders, noShop.Webhooks, noShop.Campaigns = nil, nil, nil, nil
	// Two merchants, orders in every state (one paid and partly refunded), and the
	// webhooks they owe.
	mch, rival := mon.merchant(t, "荷包咖啡"), mon.merchant(t, "隔壁小店")
	var toPay merchantOrder // its subject is longer than a transfer's memo may be
	if status, b := mon.call(t, "POST", "/v1/merchant/orders", mch.APIKey, orderBody("oa-order-1", 100, strings.Repeat("咖", 100), shopNotifyURL), &toPay); status != 201 {
		t.Fatalf("create order: %d %s", status, b)
	}
	paidOrder := mon.order(t, mch.APIKey, "oa-order-2", 100, shopNotifyURL)
	mon.pay(t, payerA.Token, paidOrder.ID, "oa-pay-0")
	shop, err := acct.cfg.Merchants.Authenticate(t.Context(), mch.APIKey)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, _, err := acct.cfg.Orders.Refund(t.Context(), shop, hebao.RefundRequest{OutTradeNo: "oa-order-2", OutRefundNo: "oa-refund-1", Amount: 30, Reason: "少了一杯"}); err != nil {
		t.Fatal(err)
	}
	mon.order(t, mch.APIKey, "oa-order-3", 100, "")
	closedOrder := mon.order(t, mch.APIKey, "oa-order-4", 100, shopNotifyURL)
	if status, b := mon.call(t, "POST", "/v1/merchant/orders/oa-order-4/close", mch.APIKey, "", nil); status != 200 {
		t.Fatalf("close order: %d %s", status, b)
	}
	bigOrder := mon.order(t, mch.APIKey, "oa-order-5", 9_999, "") // more than payerA has
	whd := mon.deliveries(t, mch.APIKey)[0].ID
	noOrder := hebao.NewID("ord")
	// Payment codes: payerA turns the password-free allowance off, so a till's order
	// waits for them; payerB keeps it.
	if err := acct.store.Transact(t.Context(), func(tx hebao.Tx) error {
		set := hebao.DefaultWalletSettings(payerA.Wallet.ID)
		set.PasswordFree = false
		return tx.SaveWalletSettings(t.Context(), set)
	}); err != nil {
		t.Fatal(err)
	}
	issue := func(c hebao.Registered) string {
		ic, err := acct.cfg.Orders.Codes.Issue(t.Context(), c.Customer.ID)
		if err != nil {
			t.Fatal(err)
		}
		return ic.Code
	}
	codePay := func(no, code string, amount int64) string {
		return body(map[string]any{"out_trade_no": no, "auth_code": code, "amount": amount, "subject": "收银台"})
	}
	waiting, _, err := acct.cfg.Orders.PayByCode(t.Context(), shop, hebao.CodePaymentRequest{OutTradeNo: "oa-code-1", AuthCode: issue(payerA.Registered), Amount: 200, Subject: "收银台"})
	if err != nil || waiting.Status != hebao.OrderUserPaying {
		t.Fatalf("code payment: %v %+v", err, waiting)
	}
	waitingBig, _, err := acct.cfg.Orders.PayByCode(t.Context(), shop, hebao.CodePaymentRequest{OutTradeNo: "oa-code-2", AuthCode: issue(payerA.Registered), Amount: 50_000, Subject: "收银台"})
	if err != nil {
		t.Fatal(err)
	}
	codeB := issue(payerB.Registered)
	confirmBody := func(orderID string) string {
		return body(map[string]any{"order_id": orderID, "payment_password": payPassword})
	}
	campaignBody := `{"name": "开通礼", "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-04-01T00:00:00Z", "budget": 88800, "rules": {"opening_red_packet": 888, "opening_coupons": [{"kind": "threshold", "off": 500, "threshold": 3000, "valid_days": 7}]}}`
	campaign, err := acct.cfg.Campaigns.Create(t.Context(), hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_x"}, hebao.CampaignRequest{Name: "春节",
		StartsAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), EndsAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Budget: 1_000})
	if err != nil {
		t.Fatal(err)
	}
	// Points: payerA earns 1 point on paidOrder and 5 on this one; a campaign gives
	// cash and a coupon (once each) for them.
	mon.pay(t, payerA.Token, mon.order(t, mch.APIKey, "oa-order-points", 500, "").ID, "oa-pay-points")
	acct.cfg.Points = &hebao.PointsService{Store: acct.store, Tiers: hebao.DefaultTierLimits(), Now: acct.clock.Now, Committed: mon.disp.Wake}
	noPoints := acct.cfg
	noPoints.Points = nil
	acct.cfg.Stats = &hebao.StatsService{Store: acct.store, Now: acct.clock.Now}
	noStats := acct.cfg
	noStats.Stats = nil
	pointsCampaign, err := acct.cfg.Campaigns.Create(t.Context(), hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_x"}, hebao.CampaignRequest{Name: "积分兑换",
		StartsAt: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC), EndsAt: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC), Budget: 1_000,
		Rules: hebao.CampaignRules{PointsPerYuan: 2, PointsCash: &hebao.PointsCashRate{Points: 1, Fen: 1},
			PointsCoupons: []hebao.PointsCouponOffer{{Points: 1, PerCustomer: 1, Coupon: hebao.CouponTemplate{Kind: hebao.CouponFixed, Off: 100, ValidDays: 7}}}}})
	if err != nil {
		t.Fatal(err)
	}
	redeemCash := func(points int64) string {
		return body(map[string]any{"campaign_id": pointsCampaign.ID, "kind": "cash", "points": points})
	}
	redeemCoupon := func(i int) string {
		return body(map[string]any{"campaign_id": pointsCampaign.ID, "kind": "coupon", "coupon": i})
	}
	pointsCampaignBody := `{"name": "双倍积分", "starts_at": "2026-03-01T00:00:00Z", "ends_at": "2026-04-01T00:00:00Z", "budget": 10000, "rules": {"points_per_yuan": 2, "points_cash": {"points": 100, "fen": 100}, "points_coupons": [{"points": 500, "coupon": {"kind": "fixed", "off": 500, "valid_days": 30}, "per_customer": 1}]}}`
	// Tickets: payerA has one about the top-up and one to resolve; payerB none.
	acct.cfg.Tickets = &hebao.TicketService{Store: acct.store, Now: acct.clock.Now, Committed: mon.disp.Wake}
	noTickets := acct.cfg
	noTickets.Tickets = nil
	openTicket := func(subject string) hebao.TicketThread {
		th, err := acct.cfg.Tickets.Open(t.Context(), payerA.Customer.ID, hebao.TicketRequest{Category: hebao.TicketDelayed,
			Subject: subject, Message: "充值还没到账\n请帮忙看看", TransactionID: topupID})
		if err != nil {
			t.Fatal(err)
		}
		return th
	}
	ticket, toResolve, noTicket := openTicket("充值没到账"), openTicket("已经好了"), hebao.NewID("tkt")
	ticketBody := func(category, subject, message, txID string) string {
		m := map[string]string{"category": category, "subject": subject, "message": message}
		if txID != "" {
			m["transaction_id"] = txID
		}
		return body(m)
	}
	messageBody := func(m string) string { return body(map[string]string{"message": m}) }
	refundBody := func(no, refundNo string, amount int64, reason string) string {
		return body(map[string]any{"out_trade_no": no, "out_refund_no": refundNo, "amount": amount, "reason": reason})
	}
	tests := []struct {
		name   string
		cfg    Config
		method string
		target string
		header http.Header
		body   string
		status int
	}{
		{name: "healthz", method: "GET", target: "/healthz", status: 200},
		{name: "readyz", method: "GET", target: "/readyz", status: 200},
		{name: "readyz down", cfg: Config{Store: &fakeStore{PingFn: func(context.Context) error { return down }}}, method: "GET", target: "/readyz", status: 503},
		{name: "metrics", method: "GET", target: "/metrics", status: 200},
		{name: "openapi", method: "GET", target: "/openapi.json", status: 200},
		{name: "old client", cfg: Config{MinClientVersion: "2.0"}, method: "GET", target: "/healthz", header: http.Header{"X-Client-Version": {"1.9"}}, status: 426},
		{name: "bad client version", cfg: Config{MinClientVersion: "2.0"}, method: "GET", target: "/readyz", header: http.Header{"X-Client-Version": {"two"}}, status: 400},
		{name: "send otp", cfg: full(nil), method: "POST", target: "/v1/otp", header: jsonHeader(), body: otp, status: 202},
		{name: "send otp, bad phone", cfg: full(nil), method: "POST", target: "/v1/otp", header: jsonHeader(), body: `{"phone": "1", "purpose": "login"}`, status: 400},
		{name: "send otp again", cfg: sent, method: "POST", target: "/v1/otp", header: jsonHeader(), body: otp, status: 429},
		{name: "send otp, no gateway", cfg: full(func(cfg *Config, _ *devInbox) { cfg.OTP.SMS = nil }), method: "POST", target: "/v1/otp", header: jsonHeader(), body: otp, status: 503},
		{name: "dev sms", cfg: sent, method: "GET", target: "/v1/dev/sms?phone=13800138000", status: 200},
		{name: "dev sms, none", cfg: full(nil), method: "GET", target: "/v1/dev/sms?phone=13800138000", status: 200},
		{name: "dev sms, bad phone", cfg: full(nil), method: "GET", target: "/v1/dev/sms?phone=x", status: 400},
		{name: "register", cfg: acct.cfg, method: "POST", target: "/v1/customers", header: jsonHeader(), body: registerBody("13900139000", newPhone, "dev-a"), status: 201},
		{name: "register, phone taken", cfg: acct.cfg, method: "POST", target: "/v1/customers", header: jsonHeader(), body: registerBody("13700137000", takenPhone, "dev-a"), status: 409},
		{name: "register, wrong code", cfg: acct.cfg, method: "POST", target: "/v1/customers", header: jsonHeader(), body: registerBody("13400134000", "123456", "dev-a"), status: 422},
		{name: "register, weak password", cfg: acct.cfg, method: "POST", target: "/v1/customers", header: jsonHeader(), body: `{"phone": "13400134000", "otp": "123456", "password": "12345678", "device_id": "d"}`, status: 400},
		{name: "register, not configured", method: "POST", target: "/v1/customers", header: jsonHeader(), body: registerBody("13400134000", "123456", "dev-a"), status: 503},
		{name: "login", cfg: acct.cfg, method: "POST", target: "/v1/sessions", header: jsonHeader(), body: loginBody("13700137000", testPassword, "dev-a", ""), status: 201},
		{name: "login, wrong password", cfg: acct.cfg, method: "POST", target: "/v1/sessions", header: jsonHeader(), body: loginBody("13700137000", "wrong horse", "dev-a", ""), status: 401},
		{name: "login, new device", cfg: acct.cfg, method: "POST", target: "/v1/sessions", header: jsonHeader(), body: loginBody("13700137000", testPassword, "dev-b", ""), status: 422},
		{name: "login, no device", cfg: acct.cfg, method: "POST", target: "/v1/sessions", header: jsonHeader(), body: loginBody("13700137000", testPassword, "", ""), status: 400},
		{name: "wallet", cfg: acct.cfg, method: "GET", target: "/v1/wallet", header: bearerHeader(known.Token), status: 200},
		{name: "wallet, no token", cfg: acct.cfg, method: "GET", target: "/v1/wallet", status: 401},
		{name: "wallet, staff token", cfg: acct.cfg, method: "GET", target: "/v1/wallet", header: bearerHeader(acct.admin), status: 403},
		{name: "logout", cfg: acct.cfg, method: "DELETE", target: "/v1/sessions/current", header: bearerHeader(leaving.Token), status: 204},
		{name: "logout again", cfg: acct.cfg, method: "DELETE", target: "/v1/sessions/current", header: bearerHeader(leaving.Token), status: 401},
		{name: "logout, staff token", cfg: acct.cfg, method: "DELETE", target: "/v1/sessions/current", header: bearerHeader(acct.agent), status: 403},
		{name: "logout everywhere", cfg: acct.cfg, method: "DELETE", target: "/v1/sessions", header: bearerHeader(everyone.Token), status: 204},
		{name: "logout everywhere, bad token", cfg: acct.cfg, method: "DELETE", target: "/v1/sessions", header: bearerHeader("hb_nope"), status: 401},
		{name: "logout everywhere, staff token", cfg: acct.cfg, method: "DELETE", target: "/v1/sessions", header: bearerHeader(acct.admin), status: 403},
		{name: "real name", cfg: acct.cfg, method: "POST", target: "/v1/wallet/real-name", header: authJSON(named.Token), body: realNameBody("张三", testIDNumber), status: 200},
		{name: "real name, taken", cfg: acct.cfg, method: "POST", target: "/v1/wallet/real-name", header: authJSON(known.Token), body: realNameBody("张三", testIDNumber), status: 409},
		{name: "real name, bad number", cfg: acct.cfg, method: "POST", target: "/v1/wallet/real-name", header: authJSON(known.Token), body: realNameBody("张三", "110105194912310021"), status: 422},
		{name: "real name, not configured", cfg: noIdentity, method: "POST", target: "/v1/wallet/real-name", header: authJSON(known.Token), body: realNameBody("张三", testIDNumber2), status: 503},
		{name: "bind card", cfg: acct.cfg, method: "POST", target: "/v1/cards", header: authJSON(named.Token), body: bindBody(sandboxCard, "张三", bindCode), status: 201},
		{name: "bind card, no real name", cfg: acct.cfg, method: "POST", target: "/v1/cards", header: authJSON(known.Token), body: bindBody(sandboxCard, "张三", "123456"), status: 422},
		{name: "bind card, cvv", cfg: acct.cfg, method: "POST", target: "/v1/cards", header: authJSON(known.Token), body: `{"cvv": "123"}`, status: 400},
		{name: "bind card, not configured", cfg: noIdentity, method: "POST", target: "/v1/cards", header: authJSON(known.Token), body: bindBody(sandboxCard, "张三", "123456"), status: 503},
		{name: "cards", cfg: acct.cfg, method: "GET", target: "/v1/cards", header: bearerHeader(named.Token), status: 200},
		{name: "cards, none", cfg: acct.cfg, method: "GET", target: "/v1/cards", header: bearerHeader(known.Token), status: 200},
		{name: "cards, no token", cfg: acct.cfg, method: "GET", target: "/v1/cards", status: 401},
		{name: "order cards", cfg: acct.cfg, method: "PUT", target: "/v1/cards/order", header: authJSON(known.Token), body: `{"card_ids": []}`, status: 200},
		{name: "order cards, wrong ids", cfg: acct.cfg, method: "PUT", target: "/v1/cards/order", header: authJSON(known.Token), body: `{"card_ids": ["card_x"]}`, status: 400},
		{name: "remove card, not found", cfg: acct.cfg, method: "DELETE", target: "/v1/cards/card_x", header: bearerHeader(known.Token), status: 404},
		{name: "remove card, staff", cfg: acct.cfg, method: "DELETE", target: "/v1/cards/card_x", header: bearerHeader(acct.agent), status: 403},
		{name: "face check", cfg: acct.cfg, method: "POST", target: "/v1/wallet/face-verification", header: authJSON(named.Token), body: faceBody("me"), status: 200},
		{name: "face check, failed", cfg: acct.cfg, method: "POST", target: "/v1/wallet/face-verification", header: authJSON(named.Token), body: faceBody("stranger"), status: 422},
		{name: "face check, bad image", cfg: acct.cfg, method: "POST", target: "/v1/wallet/face-verification", header: authJSON(named.Token), body: `{"image": "%%"}`, status: 400},
		{name: "face check, not configured", cfg: noIdentity, method: "POST", target: "/v1/wallet/face-verification", header: authJSON(named.Token), body: faceBody("me"), status: 503},
		{name: "payment password", cfg: acct.cfg, method: "PUT", target: "/v1/wallet/payment-password", header: authJSON(named.Token), body: body(map[string]string{"password": "528471", "otp": payCode}), status: 204},
		{name: "payment password, weak", cfg: acct.cfg, method: "PUT", target: "/v1/wallet/payment-password", header: authJSON(named.Token), body: body(map[string]string{"password": "123456", "otp": "123456"}), status: 422},
		{name: "payment password, not configured", cfg: noIdentity, method: "PUT", target: "/v1/wallet/payment-password", header: authJSON(named.Token), body: body(map[string]string{"password": "528471", "otp": "123456"}), status: 503},
		{name: "reset payment password", cfg: acct.cfg, method: "POST", target: "/v1/wallet/payment-password/reset", header: authJSON(named.Token), body: body(map[string]string{"password": "640193", "otp": resetCode, "id_number": testIDNumber}), status: 204},
		{name: "reset payment password, bad id", cfg: acct.cfg, method: "POST", target: "/v1/wallet/payment-password/reset", header: authJSON(named.Token), body: body(map[string]string{"password": "640193", "otp": "123456", "id_number": "1"}), status: 422},
		{name: "reset payment password, no body", cfg: acct.cfg, method: "POST", target: "/v1/wallet/payment-password/reset", header: authJSON(named.Token), status: 400},
		{name: "staff login", cfg: acct.cfg, method: "POST", target: "/v1/staff/sessions", header: jsonHeader(), body: `{"username": "agent", "password": "a long staff password"}`, status: 201},
		{name: "staff login, wrong password", cfg: acct.cfg, method: "POST", target: "/v1/staff/sessions", header: jsonHeader(), body: `{"username": "agent", "password": "wrong"}`, status: 401},
		{name: "staff login, no body", cfg: acct.cfg, method: "POST", target: "/v1/staff/sessions", header: jsonHeader(), status: 400},
		{name: "staff logout", cfg: acct.cfg, method: "DELETE", target: "/v1/staff/sessions/current", header: bearerHeader(leavingAgent.Token), status: 204},
		{name: "staff logout again", cfg: acct.cfg, method: "DELETE", target: "/v1/staff/sessions/current", header: bearerHeader(leavingAgent.Token), status: 401},
		{name: "staff logout, customer token", cfg: acct.cfg, method: "DELETE", target: "/v1/staff/sessions/current", header: bearerHeader(known.Token), status: 403},
		{name: "staff logout, no token", cfg: acct.cfg, method: "DELETE", target: "/v1/staff/sessions/current", status: 401},
		{name: "verify", cfg: acct.cfg, method: "GET", target: "/v1/admin/ledger/verify", header: bearerHeader(acct.admin), status: 200},
		{name: "verify, broken ledger", cfg: broken, method: "GET", target: "/v1/admin/ledger/verify", header: bearerHeader(acct.admin), status: 200},
		{name: "verify, agent", cfg: acct.cfg, method: "GET", target: "/v1/admin/ledger/verify", header: bearerHeader(acct.agent), status: 403},
		{name: "verify, customer", cfg: acct.cfg, method: "GET", target: "/v1/admin/ledger/verify", header: bearerHeader(known.Token), status: 403},
		{name: "verify, no token", cfg: acct.cfg, method: "GET", target: "/v1/admin/ledger/verify", status: 401},
		{name: "audit", cfg: acct.cfg, method: "GET", target: "/v1/admin/audit?limit=2", header: bearerHeader(acct.admin), status: 200},
		{name: "audit, all", cfg: acct.cfg, method: "GET", target: "/v1/admin/audit", header: bearerHeader(acct.admin), status: 200},
		{name: "audit, bad limit", cfg: acct.cfg, method: "GET", target: "/v1/admin/audit?limit=101", header: bearerHeader(acct.admin), status: 400},
		{name: "audit, bad cursor", cfg: acct.cfg, method: "GET", target: "/v1/admin/audit?cursor=x", header: bearerHeader(acct.admin), status: 400},
		{name: "audit, customer", cfg: acct.cfg, method: "GET", target: "/v1/admin/audit", header: bearerHeader(known.Token), status: 403},
		{name: "stats", cfg: acct.cfg, method: "GET", target: "/v1/admin/stats?minutes=5", header: bearerHeader(acct.admin), status: 200},
		{name: "stats, bad minutes", cfg: acct.cfg, method: "GET", target: "/v1/admin/stats?minutes=0", header: bearerHeader(acct.admin), status: 400},
		{name: "stats, agent", cfg: acct.cfg, method: "GET", target: "/v1/admin/stats", header: bearerHeader(acct.agent), status: 403},
		{name: "stats, not configured", cfg: noStats, method: "GET", target: "/v1/admin/stats", header: bearerHeader(acct.admin), status: 503},
		{name: "freeze", cfg: acct.cfg, method: "POST", target: "/v1/wallet/freeze", header: authJSON(freezer.Token), body: `{"reason": "lost my card"}`, status: 200},
		{name: "freeze again", cfg: acct.cfg, method: "POST", target: "/v1/wallet/freeze", header: authJSON(freezer.Token), body: `{"reason": "again"}`, status: 409},
		{name: "freeze, no token", cfg: acct.cfg, method: "POST", target: "/v1/wallet/freeze", header: jsonHeader(), body: `{"reason": "x"}`, status: 401},
		{name: "freeze by phone, wrong code", cfg: acct.cfg, method: "POST", target: "/v1/wallet/freeze", header: jsonHeader(), body: `{"phone": "13700137000", "otp": "123456", "reason": "phone stolen"}`, status: 422},
		{name: "freeze by phone, bad phone", cfg: acct.cfg, method: "POST", target: "/v1/wallet/freeze", header: jsonHeader(), body: `{"phone": "1", "otp": "123456", "reason": "x"}`, status: 400},
		{name: "freeze, staff token", cfg: acct.cfg, method: "POST", target: "/v1/wallet/freeze", header: authJSON(acct.agent), body: `{"reason": "x"}`, status: 403},
		{name: "unfreeze, no real name", cfg: acct.cfg, method: "POST", target: "/v1/wallet/unfreeze", header: authJSON(freezer.Token), body: body(map[string]string{"otp": unfreezeCode, "id_number": testIDNumber2}), status: 422},
		{name: "unfreeze, no token", cfg: acct.cfg, method: "POST", target: "/v1/wallet/unfreeze", header: jsonHeader(), body: `{}`, status: 401},
		{name: "unfreeze, no body", cfg: acct.cfg, method: "POST", target: "/v1/wallet/unfreeze", header: authJSON(freezer.Token), status: 400},
		{name: "close", cfg: acct.cfg, method: "POST", target: "/v1/wallet/close", header: bearerHeader(closer.Token), status: 200},
		{name: "close, signed out", cfg: acct.cfg, method: "POST", target: "/v1/wallet/close", header: bearerHeader(closer.Token), status: 401},
		{name: "close, staff token", cfg: acct.cfg, method: "POST", target: "/v1/wallet/close", header: bearerHeader(acct.admin), status: 403},
		{name: "agent find", cfg: acct.cfg, method: "GET", target: "/v1/agent/customers?phone=13300133000", header: bearerHeader(acct.agent), status: 200},
		{name: "agent find, none", cfg: acct.cfg, method: "GET", target: "/v1/agent/customers?phone=13000130000", header: bearerHeader(acct.agent), status: 404},
		{name: "agent find, bad phone", cfg: acct.cfg, method: "GET", target: "/v1/agent/customers?phone=x", header: bearerHeader(acct.admin), status: 400},
		{name: "agent find, customer", cfg: acct.cfg, method: "GET", target: "/v1/agent/customers?phone=13700137000", header: bearerHeader(known.Token), status: 403},
		{name: "agent find, no token", cfg: acct.cfg, method: "GET", target: "/v1/agent/customers?phone=13700137000", status: 401},
		{name: "agent customer", cfg: acct.cfg, method: "GET", target: "/v1/agent/customers/" + known.Customer.ID, header: bearerHeader(acct.agent), status: 200},
		{name: "agent customer, malformed", cfg: acct.cfg, method: "GET", target: "/v1/agent/customers/cus_x", header: bearerHeader(acct.agent), status: 400},
		{name: "agent customer, unknown", cfg: acct.cfg, method: "GET", target: "/v1/agent/customers/" + noCustomer, header: bearerHeader(acct.agent), status: 404},
		{name: "agent freeze", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + known.Wallet.ID + "/freeze", header: authJSON(acct.agent), body: `{"reason": "customer called: phone stolen"}`, status: 200},
		{name: "agent freeze again", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + known.Wallet.ID + "/freeze", header: authJSON(acct.agent), body: `{"reason": "again"}`, status: 409},
		{name: "agent freeze, no reason", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + known.Wallet.ID + "/freeze", header: authJSON(acct.agent), body: `{}`, status: 400},
		{name: "agent freeze, unknown", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + noWallet + "/freeze", header: authJSON(acct.agent), body: `{"reason": "x"}`, status: 404},
		{name: "agent freeze, customer", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + known.Wallet.ID + "/freeze", header: authJSON(known.Token), body: `{"reason": "x"}`, status: 403},
		{name: "agent unfreeze", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + known.Wallet.ID + "/unfreeze", header: authJSON(acct.agent), body: `{"identity_check": "answered the three security questions"}`, status: 200},
		{name: "agent unfreeze again", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + known.Wallet.ID + "/unfreeze", header: authJSON(acct.agent), body: `{"identity_check": "again"}`, status: 409},
		{name: "agent unfreeze, malformed", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/wal_x/unfreeze", header: authJSON(acct.agent), body: `{"identity_check": "x"}`, status: 400},
		{name: "agent history", cfg: acct.cfg, method: "GET", target: "/v1/agent/wallets/" + payerA.Wallet.ID + "/transactions?limit=1", header: bearerHeader(acct.agent), status: 200},
		{name: "agent history, empty", cfg: acct.cfg, method: "GET", target: "/v1/agent/wallets/" + known.Wallet.ID + "/transactions", header: bearerHeader(acct.admin), status: 200},
		{name: "agent history, malformed", cfg: acct.cfg, method: "GET", target: "/v1/agent/wallets/wal_x/transactions", header: bearerHeader(acct.agent), status: 400},
		{name: "agent history, bad cursor", cfg: acct.cfg, method: "GET", target: "/v1/agent/wallets/" + payerA.Wallet.ID + "/transactions?cursor=x", header: bearerHeader(acct.agent), status: 400},
		{name: "agent history, unknown", cfg: acct.cfg, method: "GET", target: "/v1/agent/wallets/" + noWallet + "/transactions", header: bearerHeader(acct.agent), status: 404},
		{name: "agent history, customer", cfg: acct.cfg, method: "GET", target: "/v1/agent/wallets/" + payerA.Wallet.ID + "/transactions", header: bearerHeader(payerA.Token), status: 403},
		{name: "agent history, no token", cfg: acct.cfg, method: "GET", target: "/v1/agent/wallets/" + payerA.Wallet.ID + "/transactions", status: 401},
		{name: "agent reset, no identity check", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + resetting.Wallet.ID + "/payment-password/reset", header: authJSON(acct.agent), body: `{}`, status: 400},
		{name: "agent reset, malformed", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/wal_x/payment-password/reset", header: authJSON(acct.agent), body: `{"identity_check": "x"}`, status: 400},
		{name: "agent reset, unknown", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + noWallet + "/payment-password/reset", header: authJSON(acct.agent), body: `{"identity_check": "x"}`, status: 404},
		{name: "agent reset, customer", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + resetting.Wallet.ID + "/payment-password/reset", header: authJSON(resetting.Token), body: `{"identity_check": "x"}`, status: 403},
		{name: "agent reset, no token", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + resetting.Wallet.ID + "/payment-password/reset", header: jsonHeader(), body: `{"identity_check": "x"}`, status: 401},
		{name: "agent reset, no real name", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + known.Wallet.ID + "/payment-password/reset", header: authJSON(acct.agent), body: `{"identity_check": "x"}`, status: 422},
		{name: "agent reset, not configured", cfg: noIdentity, method: "POST", target: "/v1/agent/wallets/" + resetting.Wallet.ID + "/payment-password/reset", header: authJSON(acct.agent), body: `{"identity_check": "x"}`, status: 503},
		{name: "agent reset", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + resetting.Wallet.ID + "/payment-password/reset", header: authJSON(acct.agent), body: `{"identity_check": "called in; name and the last four digits of the ID number match"}`, status: 200},
		{name: "agent reset again", cfg: acct.cfg, method: "POST", target: "/v1/agent/wallets/" + resetting.Wallet.ID + "/payment-password/reset", header: authJSON(acct.agent), body: `{"identity_check": "again"}`, status: 409},
		{name: "wallet, reset required", cfg: acct.cfg, method: "GET", target: "/v1/wallet", header: bearerHeader(resetting.Token), status: 200},
		{name: "transfer, reset required", cfg: acct.cfg, method: "POST", target: "/v1/transfers", header: idem(resetting.Token, "oa-reset-1"), body: transferBody("15000150000", 1, payPassword), status: 423},
		{name: "set tier", cfg: acct.cfg, method: "POST", target: "/v1/admin/wallets/" + known.Wallet.ID + "/tier", header: authJSON(acct.admin), body: `{"tier": 1}`, status: 200},
		{name: "set tier, bad tier", cfg: acct.cfg, method: "POST", target: "/v1/admin/wallets/" + known.Wallet.ID + "/tier", header: authJSON(acct.admin), body: `{"tier": 5}`, status: 400},
		{name: "set tier, unknown", cfg: acct.cfg, method: "POST", target: "/v1/admin/wallets/" + noWallet + "/tier", header: authJSON(acct.admin), body: `{"tier": 2}`, status: 404},
		{name: "set tier, agent", cfg: acct.cfg, method: "POST", target: "/v1/admin/wallets/" + known.Wallet.ID + "/tier", header: authJSON(acct.agent), body: `{"tier": 1}`, status: 403},
		{name: "set tier, customer", cfg: acct.cfg, method: "POST", target: "/v1/admin/wallets/" + known.Wallet.ID + "/tier", header: authJSON(known.Token), body: `{"tier": 1}`, status: 403},
		{name: "transfer", cfg: acct.cfg, method: "POST", target: "/v1/transfers", header: idem(payerA.Token, "oa-3"), body: transferBody("15100151000", 1, payPassword), status: 201},
		{name: "transfer, replay", cfg: acct.cfg, method: "POST", target: "/v1/transfers", header: idem(payerA.Token, "oa-1"), body: transferBody("15100151000", 100, payPassword), status: 201},
		{name: "transfer, key reused", cfg: acct.cfg, method: "POST", target: "/v1/transfers", header: idem(payerA.Token, "oa-1"), body: transferBody("15100151000", 101, payPassword), status: 422},
		{name: "transfer, no key", cfg: acct.cfg, method: "POST", target: "/v1/transfers", header: authJSON(payerA.Token), body: transferBody("15100151000", 1, payPassword), status: 400},
		{name: "transfer, unknown payee", cfg: acct.cfg, method: "POST", target: "/v1/transfers", header: idem(payerA.Token, "oa-4"), body: transferBody("15200152000", 1, payPassword), status: 404},
		{name: "transfer, not configured", cfg: noIdentity, method: "POST", target: "/v1/transfers", header: idem(payerA.Token, "oa-5"), body: transferBody("15100151000", 1, payPassword), status: 503},
		{name: "topup", cfg: acct.cfg, method: "POST", target: "/v1/topups", header: idem(payerB.Token, "oa-6"), body: body(map[string]any{"card_id": payerB.card, "amount": 100}), status: 202},
		{name: "topup, another's card", cfg: acct.cfg, method: "POST", target: "/v1/topups", header: idem(payerB.Token, "oa-7"), body: body(map[string]any{"card_id": payerA.card, "amount": 100}), status: 404},
		{name: "topup, fractional", cfg: acct.cfg, method: "POST", target: "/v1/topups", header: idem(payerB.Token, "oa-8"), body: `{"card_id": "` + payerB.card + `", "amount": 1.5}`, status: 400},
		{name: "get topup", cfg: acct.cfg, method: "GET", target: "/v1/topups/" + topupID, header: bearerHeader(payerA.Token), status: 200},
		{name: "get topup, another's", cfg: acct.cfg, method: "GET", target: "/v1/topups/" + topupID, header: bearerHeader(payerB.Token), status: 404},
		{name: "get topup, malformed", cfg: acct.cfg, method: "GET", target: "/v1/topups/x", header: bearerHeader(payerA.Token), status: 400},
		{name: "withdraw", cfg: acct.cfg, method: "POST", target: "/v1/withdrawals", header: idem(payerA.Token, "oa-9"), body: body(map[string]any{"card_id": payerA.card, "amount": 1, "payment_password": payPassword}), status: 202},
		{name: "withdraw, wrong password", cfg: acct.cfg, method: "POST", target: "/v1/withdrawals", header: idem(payerA.Token, "oa-10"), body: body(map[string]any{"card_id": payerA.card, "amount": 1, "payment_password": "640193"}), status: 422},
		{name: "withdraw, no key", cfg: acct.cfg, method: "POST", target: "/v1/withdrawals", header: authJSON(payerA.Token), body: body(map[string]any{"card_id": payerA.card, "amount": 1, "payment_password": payPassword}), status: 400},
		{name: "get withdrawal", cfg: acct.cfg, method: "GET", target: "/v1/withdrawals/" + out.ID, header: bearerHeader(payerA.Token), status: 200},
		{name: "get withdrawal, a top-up", cfg: acct.cfg, method: "GET", target: "/v1/withdrawals/" + topupID, header: bearerHeader(payerA.Token), status: 404},
		{name: "transactions", cfg: acct.cfg, method: "GET", target: "/v1/transactions?limit=2", header: bearerHeader(payerA.Token), status: 200},
		{name: "transactions, limit 101", cfg: acct.cfg, method: "GET", target: "/v1/transactions?limit=101", header: bearerHeader(payerA.Token), status: 400},
		{name: "transactions, no token", cfg: acct.cfg, method: "GET", target: "/v1/transactions", status: 401},
		{name: "transaction", cfg: acct.cfg, method: "GET", target: "/v1/transactions/" + paid.ID, header: bearerHeader(payerA.Token), status: 200},
		{name: "transaction, a withdrawal", cfg: acct.cfg, method: "GET", target: "/v1/transactions/" + out.ID, header: bearerHeader(payerA.Token), status: 200},
		{name: "transaction, another's", cfg: acct.cfg, method: "GET", target: "/v1/transactions/" + paid.ID, header: bearerHeader(payerB.Token), status: 404},
		{name: "notifications", cfg: acct.cfg, method: "GET", target: "/v1/notifications", header: bearerHeader(payerB.Token), status: 200},
		{name: "notifications, bad cursor", cfg: acct.cfg, method: "GET", target: "/v1/notifications?cursor=x", header: bearerHeader(payerB.Token), status: 400},
		{name: "events, not configured", cfg: noIdentity, method: "GET", target: "/v1/events", header: bearerHeader(payerB.Token), status: 503},
		{name: "events, no token", cfg: acct.cfg, method: "GET", target: "/v1/events", status: 401},
		{name: "settings", cfg: acct.cfg, method: "GET", target: "/v1/wallet/settings", header: bearerHeader(payerB.Token), status: 200},
		{name: "put settings", cfg: acct.cfg, method: "PUT", target: "/v1/wallet/settings", header: authJSON(payerB.Token), body: settings, status: 200},
		{name: "put settings, too high", cfg: acct.cfg, method: "PUT", target: "/v1/wallet/settings", header: authJSON(payerB.Token), body: strings.Replace(settings, ":100}", ":100001}", 1), status: 400},
		{name: "set tier, no token", cfg: acct.cfg, method: "POST", target: "/v1/admin/wallets/" + known.Wallet.ID + "/tier", header: jsonHeader(), body: `{"tier": 1}`, status: 401},
		{name: "create merchant", cfg: acct.cfg, method: "POST", target: "/v1/admin/merchants", header: authJSON(acct.admin), body: `{"name": "荷包便利店"}`, status: 201},
		{name: "create merchant, no name", cfg: acct.cfg, method: "POST", target: "/v1/admin/merchants", header: authJSON(acct.admin), body: `{"name": " "}`, status: 400},
		{name: "create merchant, agent", cfg: acct.cfg, method: "POST", target: "/v1/admin/merchants", header: authJSON(acct.agent), body: `{"name": "x"}`, status: 403},
		{name: "create merchant, customer", cfg: acct.cfg, method: "POST", target: "/v1/admin/merchants", header: authJSON(known.Token), body: `{"name": "x"}`, status: 403},
		{name: "create merchant, no token", cfg: acct.cfg, method: "POST", target: "/v1/admin/merchants", header: jsonHeader(), body: `{"name": "x"}`, status: 401},
		{name: "create merchant, not configured", cfg: noShop, method: "POST", target: "/v1/admin/merchants", header: authJSON(acct.admin), body: `{"name": "x"}`, status: 503},
		{name: "list merchants", cfg: acct.cfg, method: "GET", target: "/v1/admin/merchants?limit=1", header: bearerHeader(acct.admin), status: 200},
		{name: "list merchants, bad cursor", cfg: acct.cfg, method: "GET", target: "/v1/admin/merchants?cursor=x", header: bearerHeader(acct.admin), status: 400},
		{name: "list merchants, agent", cfg: acct.cfg, method: "GET", target: "/v1/admin/merchants", header: bearerHeader(acct.agent), status: 403},
		{name: "list merchants, no token", cfg: acct.cfg, method: "GET", target: "/v1/admin/merchants", status: 401},
		{name: "create order", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders", header: authJSON(mch.APIKey), body: orderBody("oa-order-6", 100, "两杯拿铁", shopNotifyURL), status: 201},
		{name: "create order again", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders", header: authJSON(mch.APIKey), body: orderBody("oa-order-2", 100, "两杯拿铁", shopNotifyURL), status: 200},
		{name: "create order, number reused", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders", header: authJSON(mch.APIKey), body: orderBody("oa-order-2", 101, "两杯拿铁", shopNotifyURL), status: 422},
		{name: "create order, forbidden notify_url", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders", header: authJSON(mch.APIKey), body: orderBody("oa-order-7", 100, "两杯拿铁", "http://10.0.0.1/"), status: 422},
		{name: "create order, bad number", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders", header: authJSON(mch.APIKey), body: orderBody("oa 8", 100, "两杯拿铁", ""), status: 400},
		{name: "create order, no key", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders", header: jsonHeader(), body: orderBody("oa-order-8", 100, "两杯拿铁", ""), status: 401},
		{name: "create order, customer token", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders", header: authJSON(known.Token), body: orderBody("oa-order-8", 100, "两杯拿铁", ""), status: 401},
		{name: "create order, not configured", cfg: noShop, method: "POST", target: "/v1/merchant/orders", header: authJSON(mch.APIKey), body: orderBody("oa-order-8", 100, "两杯拿铁", ""), status: 503},
		{name: "get order, refunded", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders/oa-order-2", header: bearerHeader(mch.APIKey), status: 200},
		{name: "get order, closed", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders/oa-order-4", header: bearerHeader(mch.APIKey), status: 200},
		{name: "get order, another merchant's", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders/oa-order-2", header: bearerHeader(rival.APIKey), status: 404},
		{name: "get order, malformed number", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders/oa", header: bearerHeader(mch.APIKey), status: 404},
		{name: "get order, garbage key", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders/oa-order-2", header: bearerHeader("mk_garbage"), status: 401},
		{name: "close order", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders/oa-order-3/close", header: bearerHeader(mch.APIKey), status: 200},
		{name: "close order, paid", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders/oa-order-2/close", header: bearerHeader(mch.APIKey), status: 422},
		{name: "close order, unknown", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders/oa-order-404/close", header: bearerHeader(mch.APIKey), status: 404},
		{name: "close order, staff token", cfg: acct.cfg, method: "POST", target: "/v1/merchant/orders/oa-order-3/close", header: bearerHeader(acct.admin), status: 401},
		{name: "list orders", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders?limit=2", header: bearerHeader(mch.APIKey), status: 200},
		{name: "list orders, paid", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders?status=REFUND", header: bearerHeader(mch.APIKey), status: 200},
		{name: "list orders, bad status", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders?status=PAID", header: bearerHeader(mch.APIKey), status: 400},
		{name: "list orders, bad date", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders?date=2026-02-30", header: bearerHeader(mch.APIKey), status: 400},
		{name: "list orders, bad cursor", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders?cursor=abc", header: bearerHeader(mch.APIKey), status: 400},
		{name: "list orders, too many", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders?limit=101", header: bearerHeader(mch.APIKey), status: 400},
		{name: "list orders, staff token", cfg: acct.cfg, method: "GET", target: "/v1/merchant/orders", header: bearerHeader(acct.admin), status: 401},
		{name: "merchant balance", cfg: acct.cfg, method: "GET", target: "/v1/merchant/balance", header: bearerHeader(mch.APIKey), status: 200},
		{name: "merchant balance, no key", cfg: acct.cfg, method: "GET", target: "/v1/merchant/balance", status: 401},
		{name: "merchant balance, not configured", cfg: noShop, method: "GET", target: "/v1/merchant/balance", header: bearerHeader(mch.APIKey), status: 503},
		{name: "webhook deliveries", cfg: acct.cfg, method: "GET", target: "/v1/merchant/webhook-deliveries", header: bearerHeader(mch.APIKey), status: 200},
		{name: "webhook deliveries, one page", cfg: acct.cfg, method: "GET", target: "/v1/merchant/webhook-deliveries?limit=1", header: bearerHeader(mch.APIKey), status: 200},
		{name: "webhook deliveries, none", cfg: acct.cfg, method: "GET", target: "/v1/merchant/webhook-deliveries", header: bearerHeader(rival.APIKey), status: 200},
		{name: "webhook deliveries, bad cursor", cfg: acct.cfg, method: "GET", target: "/v1/merchant/webhook-deliveries?cursor=x", header: bearerHeader(mch.APIKey), status: 400},
		{name: "webhook deliveries, limit 101", cfg: acct.cfg, method: "GET", target: "/v1/merchant/webhook-deliveries?limit=101", header: bearerHeader(mch.APIKey), status: 400},
		{name: "webhook deliveries, no key", cfg: acct.cfg, method: "GET", target: "/v1/merchant/webhook-deliveries", status: 401},
		{name: "replay delivery", cfg: acct.cfg, method: "POST", target: "/v1/merchant/webhook-deliveries/" + whd + "/replay", header: bearerHeader(mch.APIKey), status: 202},
		{name: "replay delivery, another merchant's", cfg: acct.cfg, method: "POST", target: "/v1/merchant/webhook-deliveries/" + whd + "/replay", header: bearerHeader(rival.APIKey), status: 404},
		{name: "replay delivery, malformed", cfg: acct.cfg, method: "POST", target: "/v1/merchant/webhook-deliveries/whd_x/replay", header: bearerHeader(mch.APIKey), status: 404},
		{name: "replay delivery, customer token", cfg: acct.cfg, method: "POST", target: "/v1/merchant/webhook-deliveries/" + whd + "/replay", header: bearerHeader(payerA.Token), status: 401},
		{name: "refund", cfg: acct.cfg, method: "POST", target: "/v1/merchant/refunds", header: authJSON(mch.APIKey), body: refundBody("oa-order-2", "oa-refund-2", 10, ""), status: 201},
		{name: "refund again", cfg: acct.cfg, method: "POST", target: "/v1/merchant/refunds", header: authJSON(mch.APIKey), body: refundBody("oa-order-2", "oa-refund-1", 30, "少了一杯"), status: 200},
		{name: "refund, too much", cfg: acct.cfg, method: "POST", target: "/v1/merchant/refunds", header: authJSON(mch.APIKey), body: refundBody("oa-order-2", "oa-refund-3", 1_000, ""), status: 422},
		{name: "refund, unknown order", cfg: acct.cfg, method: "POST", target: "/v1/merchant/refunds", header: authJSON(mch.APIKey), body: refundBody("oa-order-404", "oa-refund-4", 1, ""), status: 404},
		{name: "refund, another merchant's order", cfg: acct.cfg, method: "POST", target: "/v1/merchant/refunds", header: authJSON(rival.APIKey), body: refundBody("oa-order-2", "oa-refund-5", 1, ""), status: 404},
		{name: "refund, bad number", cfg: acct.cfg, method: "POST", target: "/v1/merchant/refunds", header: authJSON(mch.APIKey), body: refundBody("oa-order-2", "r1", 1, ""), status: 400},
		{name: "refund, no key", cfg: acct.cfg, method: "POST", target: "/v1/merchant/refunds", header: jsonHeader(), body: refundBody("oa-order-2", "oa-refund-6", 1, ""), status: 401},
		{name: "get refund", cfg: acct.cfg, method: "GET", target: "/v1/merchant/refunds/oa-refund-1", header: bearerHeader(mch.APIKey), status: 200},
		{name: "get refund, another merchant's", cfg: acct.cfg, method: "GET", target: "/v1/merchant/refunds/oa-refund-1", header: bearerHeader(rival.APIKey), status: 404},
		{name: "get refund, no key", cfg: acct.cfg, method: "GET", target: "/v1/merchant/refunds/oa-refund-1", status: 401},
		{name: "code payment", cfg: acct.cfg, method: "POST", target: "/v1/merchant/code-payments", header: authJSON(mch.APIKey), body: codePay("oa-code-3", codeB, 50), status: 201},
		{name: "code payment again", cfg: acct.cfg, method: "POST", target: "/v1/merchant/code-payments", header: authJSON(mch.APIKey), body: codePay("oa-code-1", "810000000000000000", 200), status: 200},
		{name: "code payment, unknown code", cfg: acct.cfg, method: "POST", target: "/v1/merchant/code-payments", header: authJSON(mch.APIKey), body: codePay("oa-code-4", "810000000000000000", 50), status: 422},
		{name: "code payment, malformed code", cfg: acct.cfg, method: "POST", target: "/v1/merchant/code-payments", header: authJSON(mch.APIKey), body: codePay("oa-code-4", "12", 50), status: 400},
		{name: "code payment, no key", cfg: acct.cfg, method: "POST", target: "/v1/merchant/code-payments", header: jsonHeader(), body: codePay("oa-code-4", codeB, 50), status: 401},
		{name: "code payment, not configured", cfg: noShop, method: "POST", target: "/v1/merchant/code-payments", header: authJSON(mch.APIKey), body: codePay("oa-code-4", codeB, 50), status: 503},
		{name: "payment code", cfg: acct.cfg, method: "POST", target: "/v1/payment-codes", header: bearerHeader(payerB.Token), status: 201},
		{name: "payment code, staff token", cfg: acct.cfg, method: "POST", target: "/v1/payment-codes", header: bearerHeader(acct.agent), status: 403},
		{name: "payment code, no token", cfg: acct.cfg, method: "POST", target: "/v1/payment-codes", status: 401},
		{name: "payment code, not configured", cfg: noShop, method: "POST", target: "/v1/payment-codes", header: bearerHeader(payerB.Token), status: 503},
		{name: "confirm", cfg: acct.cfg, method: "POST", target: "/v1/payment-codes/confirm", header: idem(payerA.Token, "oa-confirm-1"), body: confirmBody(waiting.ID), status: 201},
		{name: "confirm, too little money", cfg: acct.cfg, method: "POST", target: "/v1/payment-codes/confirm", header: idem(payerA.Token, "oa-confirm-2"), body: confirmBody(waitingBig.ID), status: 422},
		{name: "confirm, another's order", cfg: acct.cfg, method: "POST", target: "/v1/payment-codes/confirm", header: idem(payerB.Token, "oa-confirm-3"), body: confirmBody(waitingBig.ID), status: 404},
		{name: "confirm, no key", cfg: acct.cfg, method: "POST", target: "/v1/payment-codes/confirm", header: authJSON(payerA.Token), body: confirmBody(waitingBig.ID), status: 400},
		{name: "bill", cfg: acct.cfg, method: "GET", target: "/v1/merchant/bills/2026-03-01", header: bearerHeader(mch.APIKey), status: 200},
		{name: "bill, today", cfg: acct.cfg, method: "GET", target: "/v1/merchant/bills/2026-03-02", header: bearerHeader(mch.APIKey), status: 409},
		{name: "bill, bad date", cfg: acct.cfg, method: "GET", target: "/v1/merchant/bills/yesterday", header: bearerHeader(mch.APIKey), status: 400},
		{name: "bill, no key", cfg: acct.cfg, method: "GET", target: "/v1/merchant/bills/2026-03-01", status: 401},
		{name: "pay page", cfg: acct.cfg, method: "GET", target: "/pay/" + toPay.ID, status: 200},
		{name: "pay page, paid", cfg: acct.cfg, method: "GET", target: "/pay/" + paidOrder.ID, status: 200},
		{name: "pay page, a till's order", cfg: acct.cfg, method: "GET", target: "/pay/" + waiting.ID, status: 404},
		{name: "pay page, unknown", cfg: acct.cfg, method: "GET", target: "/pay/" + noOrder, status: 404},
		{name: "pay page, not configured", cfg: noShop, method: "GET", target: "/pay/" + toPay.ID, status: 503},
		{name: "create campaign", cfg: acct.cfg, method: "POST", target: "/v1/admin/campaigns", header: authJSON(acct.admin), body: campaignBody, status: 201},
		{name: "create campaign, ends first", cfg: acct.cfg, method: "POST", target: "/v1/admin/campaigns", header: authJSON(acct.admin), body: strings.Replace(campaignBody, "2026-04-01", "2026-01-01", 1), status: 400},
		{name: "create campaign, agent", cfg: acct.cfg, method: "POST", target: "/v1/admin/campaigns", header: authJSON(acct.agent), body: campaignBody, status: 403},
		{name: "create campaign, no token", cfg: acct.cfg, method: "POST", target: "/v1/admin/campaigns", header: jsonHeader(), body: campaignBody, status: 401},
		{name: "list campaigns", cfg: acct.cfg, method: "GET", target: "/v1/admin/campaigns", header: bearerHeader(acct.admin), status: 200},
		{name: "list campaigns, bad limit", cfg: acct.cfg, method: "GET", target: "/v1/admin/campaigns?limit=0", header: bearerHeader(acct.admin), status: 400},
		{name: "list campaigns, agent", cfg: acct.cfg, method: "GET", target: "/v1/admin/campaigns", header: bearerHeader(acct.agent), status: 403},
		{name: "create campaign, not configured", cfg: noShop, method: "POST", target: "/v1/admin/campaigns", header: authJSON(acct.admin), body: campaignBody, status: 503},
		{name: "campaign", cfg: acct.cfg, method: "GET", target: "/v1/admin/campaigns/" + campaign.ID, header: bearerHeader(acct.admin), status: 200},
		{name: "campaign, unknown", cfg: acct.cfg, method: "GET", target: "/v1/admin/campaigns/cmp_nope", header: bearerHeader(acct.admin), status: 404},
		{name: "campaign, customer", cfg: acct.cfg, method: "GET", target: "/v1/admin/campaigns/" + campaign.ID, header: bearerHeader(payerA.Token), status: 403},
		{name: "coupons", cfg: acct.cfg, method: "GET", target: "/v1/coupons", header: bearerHeader(payerA.Token), status: 200},
		{name: "coupons for an order", cfg: acct.cfg, method: "GET", target: "/v1/coupons?order_id=" + toPay.ID, header: bearerHeader(payerA.Token), status: 200},
		{name: "coupons, unknown order", cfg: acct.cfg, method: "GET", target: "/v1/coupons?order_id=" + noOrder, header: bearerHeader(payerA.Token), status: 404},
		{name: "coupons, bad order id", cfg: acct.cfg, method: "GET", target: "/v1/coupons?order_id=x", header: bearerHeader(payerA.Token), status: 400},
		{name: "coupons, no token", cfg: acct.cfg, method: "GET", target: "/v1/coupons", status: 401},
		{name: "customer order", cfg: acct.cfg, method: "GET", target: "/v1/orders/" + toPay.ID, header: bearerHeader(payerB.Token), status: 200},
		{name: "customer order, paid by you", cfg: acct.cfg, method: "GET", target: "/v1/orders/" + paidOrder.ID, header: bearerHeader(payerA.Token), status: 200},
		{name: "customer order, unknown", cfg: acct.cfg, method: "GET", target: "/v1/orders/" + noOrder, header: bearerHeader(payerA.Token), status: 404},
		{name: "customer order, no token", cfg: acct.cfg, method: "GET", target: "/v1/orders/" + toPay.ID, status: 401},
		{name: "customer order, staff token", cfg: acct.cfg, method: "GET", target: "/v1/orders/" + toPay.ID, header: bearerHeader(acct.agent), status: 403},
		{name: "customer order, not configured", cfg: noShop, method: "GET", target: "/v1/orders/" + toPay.ID, header: bearerHeader(payerA.Token), status: 503},
		{name: "pay order", cfg: acct.cfg, method: "POST", target: "/v1/orders/" + toPay.ID + "/pay", header: idem(payerA.Token, "oa-pay-1"), body: payBody(payPassword), status: 201},
		{name: "pay order, replay", cfg: acct.cfg, method: "POST", target: "/v1/orders/" + paidOrder.ID + "/pay", header: idem(payerA.Token, "oa-pay-0"), body: payBody(payPassword), status: 201},
		{name: "pay order, paid", cfg: acct.cfg, method: "POST", target: "/v1/orders/" + paidOrder.ID + "/pay", header: idem(payerA.Token, "oa-pay-2"), body: payBody(payPassword), status: 422},
		{name: "pay order, closed", cfg: acct.cfg, method: "POST", target: "/v1/orders/" + closedOrder.ID + "/pay", header: idem(payerA.Token, "oa-pay-3"), body: payBody(payPassword), status: 422},
		{name: "pay order, too little money", cfg: acct.cfg, method: "POST", target: "/v1/orders/" + bigOrder.ID + "/pay", header: idem(payerA.Token, "oa-pay-4"), body: payBody(payPassword), status: 422},
		{name: "pay order, by card", cfg: acct.cfg, method: "POST", target: "/v1/orders/" + bigOrder.ID + "/pay", header: idem(payerA.Token, "oa-pay-5"), body: `{"method": "card", "card_id": "` + payerA.card + `", "payment_password": "` + payPassword + `"}`, status: 202},
		{name: "pay order, no key", cfg: acct.cfg, method: "POST", target: "/v1/orders/" + bigOrder.ID + "/pay", header: authJSON(payerA.Token), body: payBody(payPassword), status: 400},
		{name: "pay order, unknown", cfg: acct.cfg, method: "POST", target: "/v1/orders/" + noOrder + "/pay", header: idem(payerA.Token, "oa-pay-6"), body: payBody(payPassword), status: 404},
		{name: "pay order, staff token", cfg: acct.cfg, method: "POST", target: "/v1/orders/" + bigOrder.ID + "/pay", header: idem(acct.admin, "oa-pay-7"), body: payBody(payPassword), status: 403},
		{name: "pay order, not configured", cfg: noShop, method: "POST", target: "/v1/orders/" + bigOrder.ID + "/pay", header: idem(payerA.Token, "oa-pay-8"), body: payBody(payPassword), status: 503},
		{name: "qr svg", cfg: acct.cfg, method: "GET", target: "/v1/qr/" + toPay.ID + ".svg", status: 200},
		{name: "qr png", cfg: acct.cfg, method: "GET", target: "/v1/qr/" + toPay.ID + ".png?size=128", status: 200},
		{name: "qr, unknown order", cfg: acct.cfg, method: "GET", target: "/v1/qr/" + noOrder + ".svg", status: 404},
		{name: "qr, other format", cfg: acct.cfg, method: "GET", target: "/v1/qr/" + toPay.ID + ".gif", status: 404},
		{name: "qr, bad size", cfg: acct.cfg, method: "GET", target: "/v1/qr/" + toPay.ID + ".png?size=2048", status: 400},
		{name: "qr, not configured", cfg: noShop, method: "GET", target: "/v1/qr/" + toPay.ID + ".svg", status: 503},
		{name: "create campaign with points", cfg: acct.cfg, method: "POST", target: "/v1/admin/campaigns", header: authJSON(acct.admin), body: pointsCampaignBody, status: 201},
		{name: "create campaign, points rate too high", cfg: acct.cfg, method: "POST", target: "/v1/admin/campaigns", header: authJSON(acct.admin), body: strings.Replace(pointsCampaignBody, `"points_per_yuan": 2`, `"points_per_yuan": 101`, 1), status: 400},
		{name: "create campaign, points cash over the budget", cfg: acct.cfg, method: "POST", target: "/v1/admin/campaigns", header: authJSON(acct.admin), body: strings.Replace(pointsCampaignBody, `"fen": 100`, `"fen": 10001`, 1), status: 400},
		{name: "create campaign, points coupon unknown field", cfg: acct.cfg, method: "POST", target: "/v1/admin/campaigns", header: authJSON(acct.admin), body: strings.Replace(pointsCampaignBody, `"per_customer": 1`, `"per_person": 1`, 1), status: 400},
		{name: "campaign with points offers", cfg: acct.cfg, method: "GET", target: "/v1/admin/campaigns/" + pointsCampaign.ID, header: bearerHeader(acct.admin), status: 200},
		{name: "points", cfg: acct.cfg, method: "GET", target: "/v1/points", header: bearerHeader(payerA.Token), status: 200},
		{name: "points, a page", cfg: acct.cfg, method: "GET", target: "/v1/points?limit=1", header: bearerHeader(payerA.Token), status: 200},
		{name: "points, the page after", cfg: acct.cfg, method: "GET", target: "/v1/points?limit=1&before=1", header: bearerHeader(payerA.Token), status: 200},
		{name: "points, none", cfg: acct.cfg, method: "GET", target: "/v1/points", header: bearerHeader(known.Token), status: 200},
		{name: "points, bad limit", cfg: acct.cfg, method: "GET", target: "/v1/points?limit=101", header: bearerHeader(payerA.Token), status: 400},
		{name: "points, bad before", cfg: acct.cfg, method: "GET", target: "/v1/points?before=-3", header: bearerHeader(payerA.Token), status: 400},
		{name: "points, no token", cfg: acct.cfg, method: "GET", target: "/v1/points", status: 401},
		{name: "points, staff token", cfg: acct.cfg, method: "GET", target: "/v1/points", header: bearerHeader(acct.agent), status: 403},
		{name: "points, not configured", cfg: noPoints, method: "GET", target: "/v1/points", header: bearerHeader(payerA.Token), status: 503},
		{name: "redeem cash", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-1"), body: redeemCash(2), status: 201},
		{name: "redeem cash, replay", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-1"), body: redeemCash(2), status: 201},
		{name: "redeem cash, key reused", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-1"), body: redeemCash(1), status: 422},
		{name: "redeem coupon", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-2"), body: redeemCoupon(0), status: 201},
		{name: "redeem coupon again", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-3"), body: redeemCoupon(0), status: 422},
		{name: "redeem, unknown offer", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-4"), body: redeemCoupon(3), status: 404},
		{name: "redeem, unknown campaign", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-5"), body: `{"campaign_id": "` + hebao.NewID("cmp") + `", "kind": "cash", "points": 1}`, status: 404},
		{name: "redeem, too few points", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-6"), body: redeemCash(1_000), status: 422},
		{name: "redeem, frozen", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(freezer.Token, "oa-redeem-7"), body: redeemCash(1), status: 422},
		{name: "redeem, bad kind", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-8"), body: `{"campaign_id": "` + pointsCampaign.ID + `", "kind": "gold", "points": 1}`, status: 400},
		{name: "redeem, points and coupon", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-8"), body: `{"campaign_id": "` + pointsCampaign.ID + `", "kind": "cash", "points": 1, "coupon": 0}`, status: 400},
		{name: "redeem, bad campaign id", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-8"), body: `{"campaign_id": "cmp_x", "kind": "cash", "points": 1}`, status: 400},
		{name: "redeem, no key", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: authJSON(payerA.Token), body: redeemCash(1), status: 400},
		{name: "redeem, no token", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: jsonHeader(), body: redeemCash(1), status: 401},
		{name: "redeem, staff token", cfg: acct.cfg, method: "POST", target: "/v1/points/redeem", header: idem(acct.admin, "oa-redeem-9"), body: redeemCash(1), status: 403},
		{name: "redeem, not configured", cfg: noPoints, method: "POST", target: "/v1/points/redeem", header: idem(payerA.Token, "oa-redeem-10"), body: redeemCash(1), status: 503},
		{name: "transactions, with payments", cfg: acct.cfg, method: "GET", target: "/v1/transactions", header: bearerHeader(payerA.Token), status: 200},
		{name: "open ticket", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: authJSON(payerA.Token), body: ticketBody("payment_failed", "付款失败", "为什么失败了？", topupID), status: 201},
		{name: "open ticket, no transaction", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: authJSON(payerB.Token), body: ticketBody("account", "换手机号", "怎么换手机号\n谢谢", ""), status: 201},
		{name: "open ticket, another's transaction", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: authJSON(payerB.Token), body: ticketBody("delayed", "没到账", "没到账", topupID), status: 404},
		{name: "open ticket, bad category", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: authJSON(payerA.Token), body: ticketBody("refund", "退款", "退款", ""), status: 400},
		{name: "open ticket, long subject", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: authJSON(payerA.Token), body: ticketBody("other", strings.Repeat("长", 101), "x", ""), status: 400},
		{name: "open ticket, no message", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: authJSON(payerA.Token), body: ticketBody("other", "x", " \n ", ""), status: 400},
		{name: "open ticket, control character", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: authJSON(payerA.Token), body: ticketBody("other", "x", "a\u0007b", ""), status: 400},
		{name: "open ticket, bad transaction id", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: authJSON(payerA.Token), body: ticketBody("other", "x", "y", "mov_x"), status: 400},
		{name: "open ticket, unknown field", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: authJSON(payerA.Token), body: `{"category": "other", "subject": "x", "message": "y", "status": "resolved"}`, status: 400},
		{name: "open ticket, no token", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: jsonHeader(), body: ticketBody("other", "x", "y", ""), status: 401},
		{name: "open ticket, staff token", cfg: acct.cfg, method: "POST", target: "/v1/tickets", header: authJSON(acct.agent), body: ticketBody("other", "x", "y", ""), status: 403},
		{name: "open ticket, not configured", cfg: noTickets, method: "POST", target: "/v1/tickets", header: authJSON(payerA.Token), body: ticketBody("other", "x", "y", ""), status: 503},
		{name: "tickets", cfg: acct.cfg, method: "GET", target: "/v1/tickets", header: bearerHeader(payerA.Token), status: 200},
		{name: "tickets, a page", cfg: acct.cfg, method: "GET", target: "/v1/tickets?limit=1", header: bearerHeader(payerA.Token), status: 200},
		{name: "tickets, none", cfg: acct.cfg, method: "GET", target: "/v1/tickets", header: bearerHeader(known.Token), status: 200},
		{name: "tickets, bad limit", cfg: acct.cfg, method: "GET", target: "/v1/tickets?limit=0", header: bearerHeader(payerA.Token), status: 400},
		{name: "tickets, bad cursor", cfg: acct.cfg, method: "GET", target: "/v1/tickets?cursor=x", header: bearerHeader(payerA.Token), status: 400},
		{name: "tickets, not configured", cfg: noTickets, method: "GET", target: "/v1/tickets", header: bearerHeader(payerA.Token), status: 503},
		{name: "ticket", cfg: acct.cfg, method: "GET", target: "/v1/tickets/" + ticket.Ticket.ID, header: bearerHeader(payerA.Token), status: 200},
		{name: "ticket, another's", cfg: acct.cfg, method: "GET", target: "/v1/tickets/" + ticket.Ticket.ID, header: bearerHeader(payerB.Token), status: 404},
		{name: "ticket, unknown", cfg: acct.cfg, method: "GET", target: "/v1/tickets/" + noTicket, header: bearerHeader(payerA.Token), status: 404},
		{name: "ticket, bad id", cfg: acct.cfg, method: "GET", target: "/v1/tickets/tkt_x", header: bearerHeader(payerA.Token), status: 400},
		{name: "ticket, staff token", cfg: acct.cfg, method: "GET", target: "/v1/tickets/" + ticket.Ticket.ID, header: bearerHeader(acct.agent), status: 403},
		{name: "write ticket", cfg: acct.cfg, method: "POST", target: "/v1/tickets/" + ticket.Ticket.ID + "/messages", header: authJSON(payerA.Token), body: messageBody("补充一下：\r\n是昨天的充值"), status: 201},
		{name: "write ticket, another's", cfg: acct.cfg, method: "POST", target: "/v1/tickets/" + ticket.Ticket.ID + "/messages", header: authJSON(payerB.Token), body: messageBody("hi"), status: 404},
		{name: "write ticket, too long", cfg: acct.cfg, method: "POST", target: "/v1/tickets/" + ticket.Ticket.ID + "/messages", header: authJSON(payerA.Token), body: messageBody(strings.Repeat("字", 2001)), status: 400},
		{name: "write ticket, tab", cfg: acct.cfg, method: "POST", target: "/v1/tickets/" + ticket.Ticket.ID + "/messages", header: authJSON(payerA.Token), body: messageBody("a\tb"), status: 400},
		{name: "write ticket, bad id", cfg: acct.cfg, method: "POST", target: "/v1/tickets/x/messages", header: authJSON(payerA.Token), body: messageBody("hi"), status: 400},
		{name: "write ticket, not configured", cfg: noTickets, method: "POST", target: "/v1/tickets/" + ticket.Ticket.ID + "/messages", header: authJSON(payerA.Token), body: messageBody("hi"), status: 503},
		{name: "diagnosis", cfg: acct.cfg, method: "GET", target: "/v1/help/diagnosis", header: bearerHeader(payerA.Token), status: 200},
		{name: "diagnosis, nothing failed", cfg: acct.cfg, method: "GET", target: "/v1/help/diagnosis", header: bearerHeader(known.Token), status: 200},
		{name: "diagnosis, no token", cfg: acct.cfg, method: "GET", target: "/v1/help/diagnosis", status: 401},
		{name: "diagnosis, staff token", cfg: acct.cfg, method: "GET", target: "/v1/help/diagnosis", header: bearerHeader(acct.agent), status: 403},
		{name: "diagnosis, not configured", cfg: noTickets, method: "GET", target: "/v1/help/diagnosis", header: bearerHeader(payerA.Token), status: 503},
		{name: "ticket queue", cfg: acct.cfg, method: "GET", target: "/v1/agent/tickets", header: bearerHeader(acct.agent), status: 200},
		{name: "ticket queue, a page", cfg: acct.cfg, method: "GET", target: "/v1/agent/tickets?limit=1", header: bearerHeader(acct.agent), status: 200},
		{name: "ticket queue, resolved", cfg: acct.cfg, method: "GET", target: "/v1/agent/tickets?status=resolved", header: bearerHeader(acct.admin), status: 200},
		{name: "ticket queue, bad status", cfg: acct.cfg, method: "GET", target: "/v1/agent/tickets?status=closed", header: bearerHeader(acct.agent), status: 400},
		{name: "ticket queue, bad cursor", cfg: acct.cfg, method: "GET", target: "/v1/agent/tickets?cursor=x", header: bearerHeader(acct.agent), status: 400},
		{name: "ticket queue, customer", cfg: acct.cfg, method: "GET", target: "/v1/agent/tickets", header: bearerHeader(payerA.Token), status: 403},
		{name: "ticket queue, not configured", cfg: noTickets, method: "GET", target: "/v1/agent/tickets", header: bearerHeader(acct.agent), status: 503},
		{name: "agent ticket", cfg: acct.cfg, method: "GET", target: "/v1/agent/tickets/" + ticket.Ticket.ID, header: bearerHeader(acct.agent), status: 200},
		{name: "agent ticket, unknown", cfg: acct.cfg, method: "GET", target: "/v1/agent/tickets/" + noTicket, header: bearerHeader(acct.agent), status: 404},
		{name: "agent ticket, bad id", cfg: acct.cfg, method: "GET", target: "/v1/agent/tickets/x", header: bearerHeader(acct.agent), status: 400},
		{name: "agent ticket, no token", cfg: acct.cfg, method: "GET", target: "/v1/agent/tickets/" + ticket.Ticket.ID, status: 401},
		{name: "agent reply", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/" + ticket.Ticket.ID + "/messages", header: authJSON(acct.agent), body: messageBody("您好，已经查到了。"), status: 201},
		{name: "agent reply, empty", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/" + ticket.Ticket.ID + "/messages", header: authJSON(acct.agent), body: messageBody(""), status: 400},
		{name: "agent reply, unknown", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/" + noTicket + "/messages", header: authJSON(acct.agent), body: messageBody("hi"), status: 404},
		{name: "agent reply, customer", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/" + ticket.Ticket.ID + "/messages", header: authJSON(payerA.Token), body: messageBody("hi"), status: 403},
		{name: "agent reply, not configured", cfg: noTickets, method: "POST", target: "/v1/agent/tickets/" + ticket.Ticket.ID + "/messages", header: authJSON(acct.agent), body: messageBody("hi"), status: 503},
		{name: "assign ticket", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/" + ticket.Ticket.ID + "/assign", header: bearerHeader(acct.admin), status: 200},
		{name: "assign ticket, unknown", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/" + noTicket + "/assign", header: bearerHeader(acct.agent), status: 404},
		{name: "assign ticket, bad id", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/x/assign", header: bearerHeader(acct.agent), status: 400},
		{name: "assign ticket, not configured", cfg: noTickets, method: "POST", target: "/v1/agent/tickets/" + ticket.Ticket.ID + "/assign", header: bearerHeader(acct.agent), status: 503},
		{name: "resolve ticket", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/" + toResolve.Ticket.ID + "/resolve", header: bearerHeader(acct.agent), status: 200},
		{name: "resolve ticket again", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/" + toResolve.Ticket.ID + "/resolve", header: bearerHeader(acct.agent), status: 409},
		{name: "resolve ticket, unknown", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/" + noTicket + "/resolve", header: bearerHeader(acct.agent), status: 404},
		{name: "resolve ticket, bad id", cfg: acct.cfg, method: "POST", target: "/v1/agent/tickets/x/resolve", header: bearerHeader(acct.agent), status: 400},
		{name: "resolve ticket, not configured", cfg: noTickets, method: "POST", target: "/v1/agent/tickets/" + toResolve.Ticket.ID + "/resolve", header: bearerHeader(acct.agent), status: 503},
	}
	hit := map[string]bool{}
	routes := newTestServer(t, full(nil)).routes
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestServer(t, tt.cfg)
			req := httptest.NewRequest(tt.method, tt.target, strings.NewReader(tt.body))
			for k, v := range tt.header {
				req.Header[k] = v
			}
			_, pattern := s.mux.Handler(req)
			hit[pattern] = true
			rec := httptest.NewRecorder()
			s.Handler().ServeHTTP(rec, req)
			if rec.Code != tt.status {
				t.Fatalf("status = %d, want %d; body %s", rec.Code, tt.status, rec.Body)
			}
			checkResponse(t, doc, pattern, req, rec)
		})
	}
	for _, pattern := range routes {
		if !hit[pattern] {
			t.Errorf("route %s has no case here: add one so its answers are checked against openapi.json", pattern)
		}
	}
}

// checkResponse validates rec against the operation that pattern serves.
func checkResponse(t *testing.T, doc *openapi3.T, pattern string, req *http.Request, rec *httptest.ResponseRecorder) {
	t.Helper()
	method, path, _ := strings.Cut(pattern, " ")
	item := doc.Paths.Value(docPath(path))
	if item == nil || item.GetOperation(method) == nil {
		t.Fatalf("%s is not in openapi.json", pattern)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req,
			Route: &routers.Route{
				Spec: doc, Path: docPath(path), PathItem: item,
				Method: method, Operation: item.GetOperation(method),
			},
		},
		Status:  rec.Code,
		Header:  rec.Header(),
		Body:    io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
		Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		t.Errorf("%s %s answered %d %s, which openapi.json does not allow: %v\nbody: %s",
			req.Method, req.URL, rec.Code, rec.Header().Get("Content-Type"), err, rec.Body)
	}
}

// TestOpenAPIProblemSchema checks problem documents that no operation owns (unknown
// routes, wrong methods) and those from handlers against the Problem schema.
func TestOpenAPIProblemSchema(t *testing.T) {
	doc := loadOpenAPI(t)
	schema := doc.Components.Schemas["Problem"].Value
	s := newTestServer(t, Config{})
	s.addTestRoutes()
	for _, tt := range []struct{ method, target string }{
		{"GET", "/v1/nope"},
		{"PUT", "/healthz"},
		{"GET", "/test/panic"},
		{"GET", "/test/error/insufficient_funds"},
		{"GET", "/test/error/idempotency_key_in_use"},
	} {
		rec := s.do(t, tt.method, tt.target, nil, "")
		if ct := rec.Header().Get("Content-Type"); ct != "application/problem+json" {
			t.Errorf("%s %s: Content-Type %q", tt.method, tt.target, ct)
		}
		var v any
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatalf("%s %s: %v", tt.method, tt.target, err)
		}
		if err := schema.VisitJSON(v, openapi3.EnableJSONSchema2020()); err != nil {
			t.Errorf("%s %s: problem %s does not match the Problem schema: %v", tt.method, tt.target, rec.Body, err)
		}
	}
}

// TestOpenAPIProblemCodes checks that the Problem schema lists exactly the public
// error codes of the domain package.
func TestOpenAPIProblemCodes(t *testing.T) {
	doc := loadOpenAPI(t)
	var codes []string
	for _, c := range doc.Components.Schemas["Problem"].Value.Properties["code"].Value.Enum {
		codes = append(codes, c.(string))
	}
	slices.Sort(codes)
	if d := cmp.Diff(hebao.Codes(), codes); d != "" {
		t.Errorf("Problem.code enum differs from hebao.Codes() (-want +got):\n%s", d)
	}
}
