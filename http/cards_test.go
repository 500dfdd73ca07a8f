package http

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

const (
	sandboxCard  = "6222026000001234"
	sandboxCard2 = "6222020200112345679"
)

func bindBody(number, holder, otp string) string {
	return body(map[string]string{"card_number": number, "holder_name": holder, "otp": otp})
}

// cardsOf lists the caller's cards: their ids and masked numbers.
func cardsOf(t *testing.T, s *testServer, token string) []string {
	t.Helper()
	rec := s.do(t, "GET", "/v1/cards", bearerHeader(token), "")
	var out struct {
		Cards []struct {
			ID     string `json:"id"`
			Masked string `json:"masked_number"`
		} `json:"cards"`
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil || rec.Code != 200 {
		t.Fatalf("cards: %d %s", rec.Code, rec.Body)
	}
	ids := []string{}
	for _, c := range out.Cards {
		ids = append(ids, c.ID+" "+c.Masked)
	}
	return ids
}

func TestCards(t *testing.T) {
	a := newAccounts(t)
	s := newTestServer(t, a.cfg)
	const phoneA, phoneB = "13800138000", "13700137000"
	alice := a.register(t, phoneA, "dev-a")
	bob := a.register(t, phoneB, "dev-b")

	code := a.code(t, phoneA, hebao.PurposeBindCard)
	rec := s.do(t, "POST", "/v1/cards", authJSON(alice.Token), bindBody(sandboxCard, "张三", code))
	if p := problemOf(t, rec); p.Status != 422 || p.Code != "real_name_required" || !strings.Contains(p.Detail, "real name") {
		t.Errorf("before real name: %+v", p)
	}
	if rec := s.do(t, "POST", "/v1/wallet/real-name", authJSON(alice.Token), realNameBody("张三", testIDNumber)); rec.Code != 200 {
		t.Fatalf("real name: %d %s", rec.Code, rec.Body)
	}
	before := a.actions()
	for _, tt := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"cvv", `{"card_number": "` + sandboxCard + `", "holder_name": "张三", "otp": "` + code + `", "cvv": "123"}`, 400, "invalid_request"},
		{"bad luhn", bindBody("6222026000001235", "张三", code), 422, "card_number_invalid"},
		{"unknown bank", bindBody("1234567890123452", "张三", code), 422, "card_bank_unknown"},
		{"holder mismatch", bindBody(sandboxCard, "李四", code), 422, "card_holder_mismatch"},
		{"wrong code", bindBody(sandboxCard, "张三", otherCode(code)), 422, "otp_invalid"},
		{"code format", bindBody(sandboxCard, "张三", "12"), 400, "invalid_request"},
	} {
		rec := s.do(t, "POST", "/v1/cards", authJSON(alice.Token), tt.body)
		if p := problemOf(t, rec); p.Status != tt.status || p.Code != tt.code {
			t.Errorf("%s: %d %s, want %d %s (%s)", tt.name, p.Status, p.Code, tt.status, tt.code, p.Detail)
		}
	}
	if got := cardsOf(t, s, alice.Token); len(got) != 0 || a.actions() != before {
		t.Fatalf("refused binds changed something: cards %v, audit %s", got, a.actions())
	}

	rec = s.do(t, "POST", "/v1/cards", authJSON(alice.Token), bindBody("6222 0260 0000 1234", "张三", code))
	if rec.Code != 201 {
		t.Fatalf("bind: %d %s", rec.Code, rec.Body)
	}
	var card struct {
		ID       string `json:"id"`
		BankCode string `json:"bank_code"`
		Masked   string `json:"masked_number"`
		Last4    string `json:"last4"`
	}
	json.Unmarshal(rec.Body.Bytes(), &card)
	if card.BankCode != "ICBC" || card.Masked != "6222 02** **** 1234" || card.Last4 != "1234" {
		t.Errorf("card %+v", card)
	}
	rec = s.do(t, "POST", "/v1/cards", authJSON(alice.Token), bindBody(sandboxCard, "张三", a.code(t, phoneA, hebao.PurposeBindCard)))
	if p := problemOf(t, rec); p.Status != 409 || p.Code != "conflict" {
		t.Errorf("the same card again: %+v", p)
	}
	rec = s.do(t, "POST", "/v1/cards", authJSON(alice.Token), bindBody(sandboxCard2, "张三", a.code(t, phoneA, hebao.PurposeBindCard)))
	if rec.Code != 201 {
		t.Fatalf("second card: %d %s", rec.Code, rec.Body)
	}
	second := gjson(t, rec.Body.Bytes(), "id")
	masked2 := gjson(t, rec.Body.Bytes(), "masked_number")
	if d := cmp.Diff([]string{card.ID + " " + card.Masked, second + " " + masked2}, cardsOf(t, s, alice.Token)); d != "" {
		t.Errorf("cards (-want +got):\n%s", d)
	}

	// Order: exactly the customer's ids.
	for _, ids := range [][]string{{second}, {second, card.ID, card.ID}, {second, "card_nope"}, {}} {
		rec := s.do(t, "PUT", "/v1/cards/order", authJSON(alice.Token), body(map[string][]string{"card_ids": ids}))
		if p := problemOf(t, rec); p.Status != 400 || p.Code != "invalid_request" {
			t.Errorf("order %v: %+v", ids, p)
		}
	}
	rec = s.do(t, "PUT", "/v1/cards/order", authJSON(alice.Token), body(map[string][]string{"card_ids": {second, card.ID}}))
	if rec.Code != 200 {
		t.Fatalf("order: %d %s", rec.Code, rec.Body)
	}
	if d := cmp.Diff([]string{second + " " + masked2, card.ID + " " + card.Masked}, cardsOf(t, s, alice.Token)); d != "" {
		t.Errorf("cards after ordering (-want +got):\n%s", d)
	}

	// Ownership: Bob sees none of Alice's cards and gets 404 for them.
	if got := cardsOf(t, s, bob.Token); len(got) != 0 {
		t.Errorf("bob sees %v", got)
	}
	for _, target := range []string{"/v1/cards/" + card.ID, "/v1/cards/not-an-id"} {
		rec := s.do(t, "DELETE", target, bearerHeader(bob.Token), "")
		if p := problemOf(t, rec); p.Status != 404 || p.Code != "not_found" {
			t.Errorf("bob DELETE %s: %+v", target, p)
		}
	}
	rec = s.do(t, "PUT", "/v1/cards/order", authJSON(bob.Token), body(map[string][]string{"card_ids": {second, card.ID}}))
	if rec.Code != 400 {
		t.Errorf("bob orders alice's cards: %d %s", rec.Code, rec.Body)
	}
	if rec := s.do(t, "GET", "/v1/cards", nil, ""); rec.Code != 401 {
		t.Errorf("no token: %d", rec.Code)
	}
	if rec := s.do(t, "GET", "/v1/cards", bearerHeader(a.agent), ""); rec.Code != 403 {
		t.Errorf("staff token: %d", rec.Code)
	}

	if rec := s.do(t, "DELETE", "/v1/cards/"+card.ID, bearerHeader(alice.Token), ""); rec.Code != 204 {
		t.Fatalf("remove: %d %s", rec.Code, rec.Body)
	}
	if rec := s.do(t, "DELETE", "/v1/cards/"+card.ID, bearerHeader(alice.Token), ""); rec.Code != 404 {
		t.Errorf("remove again: %d", rec.Code)
	}
	if d := cmp.Diff([]string{second + " " + masked2}, cardsOf(t, s, alice.Token)); d != "" {
		t.Errorf("cards after removing (-want +got):\n%s", d)
	}

	want := "customer.real_name card.bind card.bind card.reorder card.remove"
	if got := a.actions(); !strings.HasSuffix(got, want) {
		t.Errorf("audit %s, want it to end %s", got, want)
	}
	logs := s.logs.String()
	for _, r := range a.store.Audit() {
		b, _ := json.Marshal(r.Detail)
		logs += string(b)
	}
	for _, secret := range []string{sandboxCard, sandboxCard2, "6222 0260 0000 1234"} {
		if strings.Contains(logs, secret) {
			t.Errorf("a full card number is in the log or the audit log")
		}
	}
}

// otherCode is a well-formed code that is not code.
func otherCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}
