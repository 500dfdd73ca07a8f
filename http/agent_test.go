package http

import (
	"encoding/json"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

// agentCustomer is GET /v1/agent/customers as an agent reads it.
type agentCustomer struct {
	ID     string `json:"id"`
	Phone  string `json:"phone"`
	Wallet struct {
		ID              string `json:"id"`
		Status          string `json:"status"`
		Balance         int64  `json:"balance"`
		PromoBalance    int64  `json:"promo_balance"`
		Points          int64  `json:"points"`
		PaymentPassword string `json:"payment_password"`
	} `json:"wallet"`
	Cards []struct {
		Masked string `json:"masked_number"`
	} `json:"cards"`
}

// TestAgentSeesWallet: an agent's look-up shows the balances, the state of the
// payment password and masked cards, and the phone masked too, even when looked up
// by it; never the ID number or a full card number. The agent's history is the
// customer's own, item for item, in the same pages.
func TestAgentSeesWallet(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	m.payer(t, "13700137000", testIDNumber2, cardBob)
	m.fund(t, alice, 10_000)
	for i, amount := range []int64{100, 200} {
		if st, _ := answer(t, m.post(t, alice.Token, "/v1/transfers", "t"+string(rune('0'+i)), transferBody("13700137000", amount, payPassword))); st != 201 {
			t.Fatalf("transfer: %d", st)
		}
	}
	for _, target := range []string{"/v1/agent/customers?phone=13800138000", "/v1/agent/customers/" + alice.Customer.ID} {
		rec := m.s.do(t, "GET", target, bearerHeader(m.agent), "")
		var c agentCustomer
		if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &c) != nil {
			t.Fatalf("GET %s: %d %s", target, rec.Code, rec.Body)
		}
		if c.Phone != "138****8000" || c.Wallet.ID != alice.Wallet.ID || c.Wallet.Balance != 10_000-300 || c.Wallet.PaymentPassword != "set" ||
			len(c.Cards) != 1 || !strings.Contains(c.Cards[0].Masked, "****") {
			t.Errorf("GET %s: %+v", target, c)
		}
		for _, secret := range []string{testIDNumber, testIDNumber[len(testIDNumber)-4:], cardAlice, "13800138000", "张三"} {
			if strings.Contains(rec.Body.String(), secret) {
				t.Errorf("GET %s shows %q: %s", target, secret, rec.Body)
			}
		}
	}

	// The agent's pages are the customer's, byte for byte.
	for _, q := range []string{"?limit=1", "?limit=2", ""} {
		own := m.s.do(t, "GET", "/v1/transactions"+q, bearerHeader(alice.Token), "")
		agents := m.s.do(t, "GET", "/v1/agent/wallets/"+alice.Wallet.ID+"/transactions"+q, bearerHeader(m.agent), "")
		if own.Code != 200 || agents.Code != 200 || own.Body.String() != agents.Body.String() {
			t.Errorf("%s: the customer sees %d %s, the agent %d %s", q, own.Code, own.Body, agents.Code, agents.Body)
		}
	}
	var page struct {
		Items      []txn   `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	rec := m.s.do(t, "GET", "/v1/agent/wallets/"+alice.Wallet.ID+"/transactions?limit=2", bearerHeader(m.agent), "")
	if json.Unmarshal(rec.Body.Bytes(), &page) != nil || len(page.Items) != 2 || page.NextCursor == nil || page.Items[0].Amount != 200 {
		t.Fatalf("first page: %s", rec.Body)
	}
	rec = m.s.do(t, "GET", "/v1/agent/wallets/"+alice.Wallet.ID+"/transactions?limit=2&cursor="+url.QueryEscape(*page.NextCursor), bearerHeader(m.agent), "")
	page.Items, page.NextCursor = nil, nil
	if json.Unmarshal(rec.Body.Bytes(), &page) != nil || len(page.Items) != 1 || page.Items[0].Kind != "topup" || page.NextCursor != nil {
		t.Errorf("last page: %s", rec.Body)
	}
	if got := m.actions(); strings.Count(got, hebao.ActionWalletView) != 2 || strings.Count(got, hebao.ActionWalletHistory) != 5 {
		t.Errorf("audit log %s: want 2 looks and 5 pages of history", got)
	}
	for _, tt := range []struct {
		target, token string
		status        int
		code          string
	}{
		{"/v1/agent/wallets/wal_x/transactions", m.agent, 400, "invalid_request"},
		{"/v1/agent/wallets/" + alice.Wallet.ID + "/transactions?limit=101", m.agent, 400, "invalid_request"},
		{"/v1/agent/wallets/" + alice.Wallet.ID + "/transactions?cursor=x", m.agent, 400, "invalid_request"},
		{"/v1/agent/wallets/" + hebao.NewID("wal") + "/transactions", m.agent, 404, "not_found"},
		{"/v1/agent/wallets/" + alice.Wallet.ID + "/transactions", alice.Token, 403, "forbidden"},
		{"/v1/agent/wallets/" + alice.Wallet.ID + "/transactions", "", 401, "unauthenticated"},
	} {
		h := bearerHeader(tt.token)
		if tt.token == "" {
			h = nil
		}
		rec := m.s.do(t, "GET", tt.target, h, "")
		if p := problemOf(t, rec); p.Status != tt.status || p.Code != tt.code {
			t.Errorf("GET %s: %d %s, want %d %s", tt.target, p.Status, p.Code, tt.status, tt.code)
		}
	}
}

// TestAgentStartsReset: an agent starts a payment-password reset after an
// identity check; the customer's payments with the right password are then 423
// with the reason, GET /v1/wallet says so, the inbox has the notice, and a reset in
// the app with an SMS code and the ID number lets them pay again.
func TestAgentStartsReset(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	m.payer(t, "13700137000", testIDNumber2, cardBob)
	m.fund(t, alice, 10_000)
	target := "/v1/agent/wallets/" + alice.Wallet.ID + "/payment-password/reset"
	for _, tt := range []struct {
		name, target, token, body string
		status                    int
		code                      string
	}{
		{"no identity check", target, m.agent, `{}`, 400, "invalid_request"},
		{"blank identity check", target, m.agent, `{"identity_check": "   "}`, 400, "invalid_request"},
		{"unknown field", target, m.agent, `{"identity_check": "x", "password": "123456"}`, 400, "invalid_request"},
		{"malformed wallet", "/v1/agent/wallets/wal_x/payment-password/reset", m.agent, `{"identity_check": "x"}`, 400, "invalid_request"},
		{"unknown wallet", "/v1/agent/wallets/" + hebao.NewID("wal") + "/payment-password/reset", m.agent, `{"identity_check": "x"}`, 404, "not_found"},
		{"customer", target, alice.Token, `{"identity_check": "x"}`, 403, "forbidden"},
	} {
		rec := m.s.do(t, "POST", tt.target, authJSON(tt.token), tt.body)
		if p := problemOf(t, rec); p.Status != tt.status || p.Code != tt.code {
			t.Errorf("%s: %d %s, want %d %s", tt.name, p.Status, p.Code, tt.status, tt.code)
		}
	}
	if st, _ := answer(t, m.post(t, alice.Token, "/v1/transfers", "before", transferBody("13700137000", 100, payPassword))); st != 201 {
		t.Fatalf("refused starts locked the password: %d", st)
	}

	rec := m.s.do(t, "POST", target, authJSON(m.agent), `{"identity_check": "来电核验：姓名与身份证后四位一致"}`)
	var out struct {
		WalletID  string    `json:"wallet_id"`
		Status    string    `json:"status"`
		StartedAt time.Time `json:"started_at"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &out) != nil || out.WalletID != alice.Wallet.ID || out.Status != "reset_required" ||
		!out.StartedAt.Equal(m.clock.Now()) {
		t.Fatalf("start: %d %s", rec.Code, rec.Body)
	}
	reqID := rec.Header().Get("X-Request-Id")
	if rec := m.s.do(t, "POST", target, authJSON(m.agent), `{"identity_check": "again"}`); rec.Code != 409 {
		t.Errorf("a second start: %d %s", rec.Code, rec.Body)
	}

	// The right password no longer pays, and the answer says why and what to do.
	refused := m.post(t, alice.Token, "/v1/transfers", "after", transferBody("13700137000", 100, payPassword)).String()
	if !strings.HasPrefix(refused, "423 ") || !strings.Contains(refused, `"payment_password_locked"`) || !strings.Contains(refused, "customer service") ||
		!strings.Contains(refused, "ID number") {
		t.Errorf("a transfer after the start: %s", refused)
	}
	var w struct {
		PaymentPassword    string `json:"payment_password"`
		PaymentPasswordSet bool   `json:"payment_password_set"`
	}
	json.Unmarshal(m.s.do(t, "GET", "/v1/wallet", bearerHeader(alice.Token), "").Body.Bytes(), &w)
	if w.PaymentPassword != "reset_required" || !w.PaymentPasswordSet {
		t.Errorf("GET /v1/wallet: %+v", w)
	}
	var c agentCustomer
	json.Unmarshal(m.s.do(t, "GET", "/v1/agent/customers/"+alice.Customer.ID, bearerHeader(m.agent), "").Body.Bytes(), &c)
	if c.Wallet.PaymentPassword != "reset_required" {
		t.Errorf("the agent sees %q", c.Wallet.PaymentPassword)
	}
	if rec := m.s.do(t, "PUT", "/v1/wallet/payment-password", authJSON(alice.Token),
		body(map[string]string{"password": "640193", "otp": m.code(t, "13800138000", hebao.PurposeSetPaymentPassword)})); rec.Code != 423 {
		t.Errorf("a set with an SMS code only: %d %s", rec.Code, rec.Body)
	}

	// The customer is told.
	if _, err := m.disp.DispatchOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var inbox struct {
		Items []struct{ Kind, Title string }
	}
	json.Unmarshal(m.s.do(t, "GET", "/v1/notifications", bearerHeader(alice.Token), "").Body.Bytes(), &inbox)
	if len(inbox.Items) == 0 || inbox.Items[0].Kind != "payment_password.reset_required" || !strings.Contains(inbox.Items[0].Title, "did not call") {
		t.Errorf("inbox: %+v", inbox.Items)
	}

	// Audited under the agent, with the check and the request id.
	var audit struct {
		Items []struct {
			Action    string `json:"action"`
			Actor     struct{ Kind, ID string }
			RequestID string            `json:"request_id"`
			Detail    map[string]string `json:"detail"`
		} `json:"items"`
	}
	json.Unmarshal(m.s.do(t, "GET", "/v1/admin/audit?limit=100", bearerHeader(m.admin), "").Body.Bytes(), &audit)
	found := false
	for _, r := range audit.Items {
		if r.Action == hebao.ActionPaymentPasswordResetStart {
			found = r.Actor.Kind == "staff" && r.RequestID == reqID && r.Detail["identity_check"] == "来电核验：姓名与身份证后四位一致"
		}
	}
	if !found {
		t.Errorf("no audit record of the start with the agent, request %s and the check: %+v", reqID, audit.Items)
	}

	// The reset in the app lifts it.
	reset := body(map[string]string{"otp": m.code(t, "13800138000", hebao.PurposeResetPaymentPassword), "id_number": testIDNumber, "password": "640193"})
	if rec := m.s.do(t, "POST", "/v1/wallet/payment-password/reset", authJSON(alice.Token), reset); rec.Code != 204 {
		t.Fatalf("reset: %d %s", rec.Code, rec.Body)
	}
	if st, _ := answer(t, m.post(t, alice.Token, "/v1/transfers", "new", transferBody("13700137000", 100, "640193"))); st != 201 {
		t.Errorf("a transfer with the new password: %d", st)
	}
}
