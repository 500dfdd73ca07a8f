package http

import (
	"encoding/json"
	"testing"

	"github.com/hebaopay/hebao"
)

// TestFreezeWithoutSession freezes a wallet from another device with a step_up
// code, as for a lost phone, and checks the two forms of the body do not mix.
func TestFreezeWithoutSession(t *testing.T) {
	a := newAccounts(t)
	s := newTestServer(t, a.cfg)
	alice := a.register(t, "13800138000", "dev-a")
	if rec := s.do(t, "POST", "/v1/wallet/freeze", authJSON(alice.Token), `{"reason": "x", "phone": "13800138000", "otp": "123456"}`); rec.Code != 400 {
		t.Errorf("token and phone: %d %s", rec.Code, rec.Body)
	}
	if rec := s.do(t, "POST", "/v1/wallet/freeze", jsonHeader(), `{"reason": "stolen"}`); rec.Code != 401 || rec.Header().Get("WWW-Authenticate") == "" {
		t.Errorf("neither token nor code: %d %v", rec.Code, rec.Header())
	}
	code := a.code(t, "13800138000", hebao.PurposeStepUp)
	rec := s.do(t, "POST", "/v1/wallet/freeze", jsonHeader(), body(map[string]string{"phone": "13800138000", "otp": code, "reason": "phone stolen"}))
	var out struct {
		WalletID string `json:"wallet_id"`
		Status   string `json:"status"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 || out.Status != "frozen" {
		t.Fatalf("freeze by phone: %d %s", rec.Code, rec.Body)
	}
	if out.WalletID != alice.Wallet.ID {
		t.Errorf("froze %s, want %s", out.WalletID, alice.Wallet.ID)
	}
	// The customer still signs in and sees the frozen wallet.
	rec = s.do(t, "GET", "/v1/wallet", bearerHeader(alice.Token), "")
	var w struct{ Status string }
	if err := json.Unmarshal(rec.Body.Bytes(), &w); err != nil || w.Status != "frozen" {
		t.Errorf("wallet %s", rec.Body)
	}
	// Another customer's wallet: 404 for an agent only when it does not exist;
	// a customer never reaches the agent routes.
	bob := a.register(t, "13700137000", "dev-b")
	if rec := s.do(t, "GET", "/v1/agent/customers/"+alice.Customer.ID, bearerHeader(bob.Token), ""); rec.Code != 403 {
		t.Errorf("customer on an agent route: %d", rec.Code)
	}
	if rec := s.do(t, "POST", "/v1/agent/wallets/"+alice.Wallet.ID+"/unfreeze", authJSON(a.agent), `{"identity_check": "  "}`); rec.Code != 400 {
		t.Errorf("blank identity check: %d %s", rec.Code, rec.Body)
	}
}
