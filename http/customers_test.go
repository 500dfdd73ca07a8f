package http

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// TestCustomerFlow goes through registration, the wallet, sign-out and sign-in over
// HTTP, and checks the audit log it leaves.
func TestCustomerFlow(t *testing.T) {
	a := newAccounts(t)
	s := newTestServer(t, a.cfg)
	const phone = "13800138000"
	code := a.code(t, phone, hebao.PurposeRegister)
	rec := s.do(t, "POST", "/v1/customers", jsonHeader("X-Request-Id", "req-register"), registerBody(phone, code, "dev-a"))
	if rec.Code != 201 || rec.Header().Get("Cache-Control") != "no-store" {
		t.Fatalf("register: %d %s", rec.Code, rec.Body)
	}
	var reg struct{ CustomerID, WalletID, Token string }
	reg.CustomerID = gjson(t, rec.Body.Bytes(), "customer_id")
	reg.WalletID = gjson(t, rec.Body.Bytes(), "wallet_id")
	reg.Token = gjson(t, rec.Body.Bytes(), "token")

	rec = s.do(t, "GET", "/v1/wallet", bearerHeader(reg.Token), "")
	want := `{"id":"` + reg.WalletID + `","status":"active","tier":4,"balance":0,"promo_balance":0,"payment_password_set":false,"payment_password":"not_set",` +
		`"limits":{"balance_cap":1000000,"single_payment":200000,"daily_payments":500000,"yearly_payments":5000000},` +
		`"used":{"today":0,"this_year":0}}` + "\n"
	if rec.Code != 200 || rec.Body.String() != want {
		t.Errorf("wallet: %d\n got %s\nwant %s", rec.Code, rec.Body, want)
	}

	if rec = s.do(t, "DELETE", "/v1/sessions/current", bearerHeader(reg.Token), ""); rec.Code != 204 {
		t.Fatalf("logout: %d %s", rec.Code, rec.Body)
	}
	rec = s.do(t, "GET", "/v1/wallet", bearerHeader(reg.Token), "")
	if p := problemOf(t, rec); p.Status != 401 || p.Code != "unauthenticated" || rec.Header().Get("WWW-Authenticate") != `Bearer realm="hebao"` {
		t.Errorf("wallet after logout: %+v, WWW-Authenticate %q", p, rec.Header().Get("WWW-Authenticate"))
	}

	rec = s.do(t, "POST", "/v1/sessions", jsonHeader(), loginBody(phone, testPassword, "dev-a", ""))
	if rec.Code != 201 || gjson(t, rec.Body.Bytes(), "expires_at") != "2026-04-01T04:01:00Z" {
		t.Fatalf("login from the same device: %d %s", rec.Code, rec.Body)
	}
	rec = s.do(t, "POST", "/v1/sessions", jsonHeader(), loginBody(phone, testPassword, "dev-b", ""))
	if p := problemOf(t, rec); p.Status != 422 || p.Code != "step_up_required" || !strings.Contains(p.Detail, "login code") {
		t.Errorf("login from a new device: %+v", p)
	}
	rec = s.do(t, "POST", "/v1/sessions", jsonHeader(), loginBody(phone, testPassword, "dev-b", a.code(t, phone, hebao.PurposeLogin)))
	if rec.Code != 201 {
		t.Fatalf("login from a new device with a code: %d %s", rec.Code, rec.Body)
	}
	tok := gjson(t, rec.Body.Bytes(), "token")
	if rec = s.do(t, "DELETE", "/v1/sessions", bearerHeader(tok), ""); rec.Code != 204 {
		t.Fatalf("sign out everywhere: %d %s", rec.Code, rec.Body)
	}
	if rec = s.do(t, "GET", "/v1/wallet", bearerHeader(tok), ""); rec.Code != 401 {
		t.Errorf("wallet after signing out everywhere: %d", rec.Code)
	}

	wantActions := "staff.add staff.login staff.add staff.login customer.register customer.logout customer.login customer.login customer.logout_all"
	if diff := cmp.Diff(wantActions, a.actions()); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	if got := a.store.Audit()[4]; got.RequestID != "req-register" || got.Subject != reg.CustomerID {
		t.Errorf("registration audit record %+v, want request id req-register", got)
	}
}

// gjson reads one string field of a JSON object.
func gjson(t *testing.T, b []byte, field string) string {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %v", b, err)
	}
	s, _ := m[field].(string)
	return s
}

// TestBadRegistrations: every malformed request is a 400 problem and changes
// nothing.
func TestBadRegistrations(t *testing.T) {
	a := newAccounts(t)
	s := newTestServer(t, a.cfg)
	code := a.code(t, "13800138000", hebao.PurposeRegister)
	before := a.actions()
	for _, tt := range []struct{ name, route, body string }{
		{"not JSON", "/v1/customers", `{"phone":`},
		{"unknown field", "/v1/customers", `{"phone": "13800138000", "otp": "` + code + `", "password": "correct horse", "device_id": "d", "tier": 1}`},
		{"number for string", "/v1/customers", `{"phone": 13800138000, "otp": "` + code + `", "password": "correct horse", "device_id": "d"}`},
		{"bad phone", "/v1/customers", registerBody("1380013800", code, "d")},
		{"short password", "/v1/customers", `{"phone": "13800138000", "otp": "` + code + `", "password": "short", "device_id": "d"}`},
		{"all digits", "/v1/customers", `{"phone": "13800138000", "otp": "` + code + `", "password": "123456789", "device_id": "d"}`},
		{"device with space", "/v1/customers", registerBody("13800138000", code, "my phone")},
		{"code of 5 digits", "/v1/customers", registerBody("13800138000", code[:5], "d")},
		{"login, unknown field", "/v1/sessions", `{"phone": "13800138000", "password": "x", "device_id": "d", "user_id": "cus_1"}`},
		{"login, no password", "/v1/sessions", loginBody("13800138000", "", "d", "")},
		{"login, code of letters", "/v1/sessions", loginBody("13800138000", "x", "d", "abcdef")},
	} {
		rec := s.do(t, "POST", tt.route, jsonHeader(), tt.body)
		if p := problemOf(t, rec); p.Status != 400 || p.Code != "invalid_request" {
			t.Errorf("%s: %+v", tt.name, p)
		}
	}
	if after := a.actions(); after != before {
		t.Errorf("bad requests left audit records: %s", after)
	}
	// The code was neither spent nor counted against: it still registers.
	if rec := s.do(t, "POST", "/v1/customers", jsonHeader(), registerBody("13800138000", code, "d")); rec.Code != 201 {
		t.Errorf("the right request after the bad ones: %d %s", rec.Code, rec.Body)
	}
}

// TestRouteAccess: each kind of principal on each kind of route.
func TestRouteAccess(t *testing.T) {
	a := newAccounts(t)
	s := newTestServer(t, a.cfg)
	cust := a.register(t, "13800138000", "dev-a").Token
	tokens := map[string]http.Header{
		"none":     nil,
		"garbage":  bearerHeader("hb_" + strings.Repeat("x", 43)),
		"basic":    {"Authorization": {"Basic YWRtaW46cGFzcw=="}},
		"customer": bearerHeader(cust),
		"agent":    bearerHeader(a.agent),
		"admin":    bearerHeader(a.admin),
	}
	routes := []string{"GET /v1/wallet", "GET /v1/admin/ledger/verify", "GET /v1/admin/audit"}
	want := map[string][]int{ // status per route, in the order above
		"none":     {401, 401, 401},
		"garbage":  {401, 401, 401},
		"basic":    {401, 401, 401},
		"customer": {200, 403, 403},
		"agent":    {403, 403, 403},
		"admin":    {403, 200, 200},
	}
	got := map[string][]int{}
	for who, h := range tokens {
		for _, route := range routes {
			method, path, _ := strings.Cut(route, " ")
			got[who] = append(got[who], s.do(t, method, path, h, "").Code)
		}
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("statuses (-want +got):\n%s", diff)
	}

	// Each customer sees its own wallet, and there is no way to name another's.
	for _, r := range []hebao.Registered{a.register(t, "13900139000", "dev-b"), a.register(t, "13700137000", "dev-c")} {
		rec := s.do(t, "GET", "/v1/wallet", bearerHeader(r.Token), "")
		if id := gjson(t, rec.Body.Bytes(), "id"); id != r.Wallet.ID {
			t.Errorf("customer %s sees wallet %s, want %s", r.Customer.ID, id, r.Wallet.ID)
		}
	}
	if rec := s.do(t, "GET", "/v1/wallet?id=wal_x", bearerHeader(cust), ""); gjson(t, rec.Body.Bytes(), "id") == "wal_x" {
		t.Error("a query parameter chose the wallet")
	}
}

func TestAuditPages(t *testing.T) {
	a := newAccounts(t)
	s := newTestServer(t, a.cfg)
	var seen []string
	target := "/v1/admin/audit?limit=3"
	for range 10 {
		rec := s.do(t, "GET", target, bearerHeader(a.admin), "")
		var page struct {
			Items []struct {
				Action string            `json:"action"`
				Detail map[string]string `json:"detail"`
			} `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); rec.Code != 200 || err != nil {
			t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
		}
		for _, it := range page.Items {
			seen = append(seen, it.Action+":"+it.Detail["username"])
		}
		if page.NextCursor == nil {
			break
		}
		target = "/v1/admin/audit?limit=3&cursor=" + *page.NextCursor
	}
	want := []string{"staff.login:agent", "staff.add:agent", "staff.login:admin", "staff.add:admin"}
	if diff := cmp.Diff(want, seen); diff != "" {
		t.Errorf("audit, newest first (-want +got):\n%s", diff)
	}
}

func TestVerifyRoute(t *testing.T) {
	a := newAccounts(t)
	for name, tt := range map[string]struct {
		ledger hebao.LedgerVerifier
		want   string
	}{
		"sound":  {a.store, `"ok":true`},
		"broken": {brokenLedger{}, `"ok":false`},
	} {
		cfg := a.cfg
		cfg.Ledger = tt.ledger
		rec := newTestServer(t, cfg).do(t, "GET", "/v1/admin/ledger/verify", bearerHeader(a.admin), "")
		if rec.Code != 200 || !strings.Contains(rec.Body.String(), tt.want) {
			t.Errorf("%s: %d %s", name, rec.Code, rec.Body)
		}
	}
}
