package main

import (
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestBadInputSweep sends the malformed bodies of SPEC §10 to every JSON route of
// the customer, staff and agent APIs on the real program: each gets a 400 problem
// document with code invalid_request, and none changes anything (the wallet and the
// audit log read the same before and after).
func TestBadInputSweep(t *testing.T) {
	dir := t.TempDir()
	s := startServer(t, "--data-dir", dir, "--dev")
	c := e2e{t, s}
	const phone = "13700137000"
	var reg struct {
		WalletID string `json:"wallet_id"`
		Token    string `json:"token"`
	}
	regBody, _ := json.Marshal(map[string]string{"phone": phone, "otp": c.code(phone, "register"), "password": "sweep password 1", "device_id": "d1"})
	c.call("POST", "/v1/customers", "", string(regBody), 201, &reg)
	var creds map[string]struct{ Username, Password string }
	raw, err := os.ReadFile(filepath.Join(dir, "dev.json"))
	if err != nil || json.Unmarshal(raw, &creds) != nil {
		t.Fatalf("dev.json: %v %s", err, raw)
	}
	var staff struct{ Token string }
	sb, _ := json.Marshal(map[string]string{"username": creds["admin"].Username, "password": creds["admin"].Password})
	c.call("POST", "/v1/staff/sessions", "", string(sb), 201, &staff)

	snapshot := func() string {
		_, w := s.do(t, "GET", "/v1/wallet", http.Header{"Authorization": {"Bearer " + reg.Token}}, "")
		_, a := s.do(t, "GET", "/v1/admin/audit?limit=100", http.Header{"Authorization": {"Bearer " + staff.Token}}, "")
		var audit struct{ Items []json.RawMessage }
		json.Unmarshal(a, &audit)
		_, txs := s.do(t, "GET", "/v1/transactions", http.Header{"Authorization": {"Bearer " + reg.Token}}, "")
		return fmt.Sprintf("%s | %s | %d audit records", w, txs, len(audit.Items))
	}
	before := snapshot()

	routes := []struct {
		method, path, token string
	}{
		{"POST", "/v1/otp", ""},
		{"POST", "/v1/customers", ""},
		{"POST", "/v1/sessions", ""},
		{"POST", "/v1/staff/sessions", ""},
		{"POST", "/v1/wallet/real-name", reg.Token},
		{"POST", "/v1/wallet/face-verification", reg.Token},
		{"PUT", "/v1/wallet/payment-password", reg.Token},
		{"POST", "/v1/wallet/payment-password/reset", reg.Token},
		{"POST", "/v1/wallet/freeze", reg.Token},
		{"POST", "/v1/wallet/unfreeze", reg.Token},
		{"POST", "/v1/cards", reg.Token},
		{"PUT", "/v1/cards/order", reg.Token},
		{"PUT", "/v1/wallet/settings", reg.Token},
		{"POST", "/v1/transfers", reg.Token},
		{"POST", "/v1/topups", reg.Token},
		{"POST", "/v1/withdrawals", reg.Token},
		{"POST", "/v1/agent/wallets/" + reg.WalletID + "/freeze", staff.Token},
		{"POST", "/v1/agent/wallets/" + reg.WalletID + "/unfreeze", staff.Token},
		{"POST", "/v1/admin/wallets/" + reg.WalletID + "/tier", staff.Token},
	}
	bodies := map[string]string{
		"malformed JSON":      `{"phone": `,
		"not an object":       `[1, 2, 3]`,
		"trailing data":       `{} {}`,
		"mass assignment":     `{"balance": 100000000, "status": "active", "tier": 1, "user_id": "x"}`,
		"a CVV":               `{"cvv": "123"}`,
		"over 64 KiB":         `{"reason": "` + strings.Repeat("x", 70<<10) + `"}`,
		"wrong type":          `{"phone": 13800138000, "purpose": 1, "tier": "one", "reason": 5}`,
		"fractional amount":   `{"amount": 1.5}`,
		"empty body":          ``,
		"amount above 10^12":  `{"amount": 1000000000001}`,
		"negative amount":     `{"amount": -1}`,
		"nested unknown junk": `{"x": {"y": [1, {"z": null}]}}`,
	}
	checked := 0
	for _, r := range routes {
		for name, b := range bodies {
			checked++
			h := http.Header{"Content-Type": {"application/json"}}
			if r.token != "" {
				h.Set("Authorization", "Bearer "+r.token)
			}
			// Money routes need a key: without one every body is refused for that.
			h.Set("Idempotency-Key", fmt.Sprintf("sweep-%d", checked))
			resp, out := s.do(t, r.method, r.path, h, b)
			if resp.StatusCode != 400 {
				t.Errorf("%s %s with %s: %d, want 400: %.200s", r.method, r.path, name, resp.StatusCode, out)
				continue
			}
			var p problemDoc
			if ct := resp.Header.Get("Content-Type"); ct != "application/problem+json" || json.Unmarshal(out, &p) != nil || p.Code != "invalid_request" || p.RequestID == "" {
				t.Errorf("%s %s with %s: not an invalid_request problem document: %s %.200s", r.method, r.path, name, ct, out)
			}
		}
	}
	t.Logf("%d bad requests over %d routes", checked, len(routes))
	if after := snapshot(); after != before {
		t.Errorf("bad requests changed something:\nbefore %s\nafter  %s", before, after)
	}
}
