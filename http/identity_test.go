package http

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// authJSON is the header of a customer's JSON request.
func authJSON(token string) http.Header {
	h := jsonHeader()
	h.Set("Authorization", "Bearer "+token)
	return h
}

// tierOf reads the tier of the caller's wallet.
func tierOf(t *testing.T, s *testServer, token string) int {
	t.Helper()
	rec := s.do(t, "GET", "/v1/wallet", bearerHeader(token), "")
	var w struct{ Tier int }
	if err := json.Unmarshal(rec.Body.Bytes(), &w); err != nil || rec.Code != 200 {
		t.Fatalf("wallet: %d %s", rec.Code, rec.Body)
	}
	return w.Tier
}

func realNameBody(name, id string) string {
	return body(map[string]string{"name": name, "id_number": id})
}

const (
	testIDNumber  = "11010519491231002X"
	testIDNumber2 = "110101199003074258"
)

// TestRealName raises a wallet to tier 3 and checks each refusal: the status, the
// code, and that a refused request changes nothing.
func TestRealName(t *testing.T) {
	a := newAccounts(t)
	s := newTestServer(t, a.cfg)
	alice := a.register(t, "13800138000", "dev-a")
	bob := a.register(t, "13700137000", "dev-b")

	type step struct {
		name   string
		token  string
		body   string
		status int
		code   string
	}
	for _, tt := range []step{
		{"no token", "", realNameBody("张三", testIDNumber), 401, "unauthenticated"},
		{"staff token", a.admin, realNameBody("张三", testIDNumber), 403, "forbidden"},
		{"bad check digit", alice.Token, realNameBody("张三", "110105194912310021"), 422, "id_number_invalid"},
		{"not a name", alice.Token, realNameBody("张3", testIDNumber), 400, "invalid_request"},
		{"unknown field", alice.Token, `{"name": "张三", "id_number": "` + testIDNumber + `", "phone": "1"}`, 400, "invalid_request"},
		{"no body", alice.Token, "", 400, "invalid_request"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := authJSON(tt.token)
			if tt.token == "" {
				h.Del("Authorization")
			}
			rec := s.do(t, "POST", "/v1/wallet/real-name", h, tt.body)
			if p := problemOf(t, rec); p.Status != tt.status || p.Code != tt.code {
				t.Errorf("got %d %s, want %d %s: %s", p.Status, p.Code, tt.status, tt.code, p.Detail)
			}
			if strings.Contains(rec.Body.String(), testIDNumber) {
				t.Errorf("the answer repeats the ID number: %s", rec.Body)
			}
		})
	}
	if got := tierOf(t, s, alice.Token); got != 4 {
		t.Fatalf("tier after refusals: %d", got)
	}

	rec := s.do(t, "POST", "/v1/wallet/real-name", authJSON(alice.Token), realNameBody("张三", testIDNumber))
	if want := `{"wallet_id":"` + alice.Wallet.ID + `","tier":3}` + "\n"; rec.Code != 200 || rec.Body.String() != want {
		t.Fatalf("real name: %d %s, want %s", rec.Code, rec.Body, want)
	}
	if got := tierOf(t, s, alice.Token); got != 3 {
		t.Errorf("tier after real name: %d", got)
	}
	for _, tt := range []step{
		{"again", alice.Token, realNameBody("张三", testIDNumber2), 409, "conflict"},
		{"same person, other wallet", bob.Token, realNameBody("张三", testIDNumber), 409, "conflict"},
		{"same person, lowercase x", bob.Token, realNameBody("张三", strings.ToLower(testIDNumber)), 409, "conflict"},
	} {
		rec := s.do(t, "POST", "/v1/wallet/real-name", authJSON(tt.token), tt.body)
		if p := problemOf(t, rec); p.Status != tt.status || p.Code != tt.code {
			t.Errorf("%s: got %d %s, want %d %s", tt.name, p.Status, p.Code, tt.status, tt.code)
		}
	}
	rec = s.do(t, "POST", "/v1/wallet/real-name", authJSON(bob.Token), realNameBody("Anna Müller", testIDNumber2))
	if rec.Code != 200 {
		t.Errorf("bob's own ID number: %d %s", rec.Code, rec.Body)
	}
	want := "staff.add staff.login staff.add staff.login customer.register customer.register customer.real_name customer.real_name"
	if d := cmp.Diff(want, a.actions()); d != "" {
		t.Errorf("audit (-want +got):\n%s", d)
	}
	for _, r := range a.store.Audit() {
		for _, v := range r.Detail {
			if strings.Contains(v, "张三") || strings.Contains(v, testIDNumber) || strings.Contains(v, testIDNumber2) {
				t.Errorf("audit record %s holds a secret: %v", r.Action, r.Detail)
			}
		}
	}
	if logs := s.logs.String(); strings.Contains(logs, testIDNumber) || strings.Contains(logs, "张三") {
		t.Errorf("the log holds the ID number or the name:\n%s", logs)
	}
}
