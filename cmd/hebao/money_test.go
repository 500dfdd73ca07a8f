package main

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// TestMoneyFlowSQLite moves money on the real program with SQLite: a top-up from the
// sandbox bank, a transfer pushed live to the payee, a declined withdrawal, the
// history and the inbox, then `hebao verify`.
func TestMoneyFlowSQLite(t *testing.T) {
	dir := t.TempDir()
	moneyFlow(t, dir)
	if out, stderr, err := run(t, nil, "verify", "--data-dir", dir); err != nil {
		t.Fatalf("verify: %v\n%s\n%s", err, out, stderr)
	}
}

// TestMoneyFlowPostgres runs the same flow with PostgreSQL.
func TestMoneyFlowPostgres(t *testing.T) {
	url := sqldbtest.PostgresSchema(t) // skips without HEBAO_TEST_POSTGRES
	dir := t.TempDir()
	moneyFlow(t, dir, "--db", url)
	if out, stderr, err := run(t, nil, "verify", "--data-dir", dir, "--db", url); err != nil {
		t.Fatalf("verify: %v\n%s\n%s", err, out, stderr)
	}
}

// transaction is a transaction as the API shows it.
type transaction struct {
	ID      string `json:"id"`
	Kind    string `json:"kind"`
	Status  string `json:"status"`
	Amount  int64  `json:"amount"`
	Failure *struct {
		Code        string `json:"code"`
		Explanation string `json:"explanation"`
		NextStep    string `json:"next_step"`
	} `json:"failure"`
}

// money sends a money-moving request with an Idempotency-Key and returns the status
// and the raw answer.
func (c e2e) money(path, token, key, body string) (int, []byte) {
	c.t.Helper()
	h := http.Header{"Content-Type": {"application/json"}, "Authorization": {"Bearer " + token}, "Idempotency-Key": {key}}
	resp, b := c.s.do(c.t, "POST", path, h, body)
	return resp.StatusCode, b
}

// settle polls a top-up or withdrawal until it is no longer pending.
func (c e2e) settle(path, token string) transaction {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		var tx transaction
		c.call("GET", path, token, "", 200, &tx)
		if tx.Status != "pending" {
			return tx
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("%s is still pending after 20s", path)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func moneyFlow(t *testing.T, dir string, args ...string) {
	s := startServer(t, append([]string{"--data-dir", dir, "--dev"}, args...)...)
	c := e2e{t, s}
	if !strings.Contains(s.stdout.String(), "bank             Sandbox bank (test money, no real bank)") {
		t.Errorf("the startup text does not name the sandbox bank:\n%s", s.stdout)
	}
	body := func(v any) string {
		b, _ := json.Marshal(v)
		return string(b)
	}
	const (
		phoneA, phoneB = "13800138000", "13900139000"
		password       = "Pa55word-of-the-e2e-test"
		payPassword    = "528471"
		idNumberA      = "11010519491231002X"
		idNumberB      = "110101199003074258"
	)
	var a, b struct {
		WalletID string `json:"wallet_id"`
		Token    string `json:"token"`
	}
	c.call("POST", "/v1/customers", "", body(map[string]string{"phone": phoneA, "otp": c.code(phoneA, "register"), "password": password, "device_id": "phone-a"}), 201, &a)
	c.call("POST", "/v1/customers", "", body(map[string]string{"phone": phoneB, "otp": c.code(phoneB, "register"), "password": password, "device_id": "phone-b"}), 201, &b)

	// A reaches tier 2 with a sandbox card in the real name and a payment password;
	// B binds a card the sandbox bank declines (…0002).
	c.call("POST", "/v1/wallet/real-name", a.Token, body(map[string]string{"name": "张三", "id_number": idNumberA}), 200, nil)
	var card, declined struct{ ID string }
	c.call("POST", "/v1/cards", a.Token, body(map[string]string{"card_number": "6222026000001234", "holder_name": "张三", "otp": c.code(phoneA, "bind_card")}), 201, &card)
	c.call("POST", "/v1/wallet/face-verification", a.Token, `{"image": "aGViYW8gZmFjZQ=="}`, 200, nil)
	c.call("PUT", "/v1/wallet/payment-password", a.Token, body(map[string]string{"password": payPassword, "otp": c.code(phoneA, "set_payment_password")}), 204, nil)
	c.call("POST", "/v1/wallet/real-name", b.Token, body(map[string]string{"name": "李四", "id_number": idNumberB}), 200, nil)
	c.call("POST", "/v1/cards", b.Token, body(map[string]string{"card_number": "6222026000020002", "holder_name": "李四", "otp": c.code(phoneB, "bind_card")}), 201, &declined)
	c.call("PUT", "/v1/wallet/payment-password", b.Token, body(map[string]string{"password": payPassword, "otp": c.code(phoneB, "set_payment_password")}), 204, nil)

	// Top up ¥1,000 and wait for the bank.
	status, raw := c.money("/v1/topups", a.Token, "topup-1", body(map[string]any{"card_id": card.ID, "amount": 100_000}))
	var topup transaction
	if json.Unmarshal(raw, &topup); status != 202 || topup.Status != "pending" || topup.Failure == nil || topup.Failure.Code != "pending" {
		t.Fatalf("top-up: %d %s", status, raw)
	}
	if got := c.settle("/v1/topups/"+topup.ID, a.Token); got.Status != "succeeded" {
		t.Fatalf("top-up: %+v", got)
	}

	// B listens for live events.
	events := listen(t, s, b.Token)
	// No need to wait for ": connected": the server subscribes before it answers.

	// A sends ¥123.45 to B; B hears of it within a second.
	transfer := body(map[string]any{"to_phone": phoneB, "amount": 12_345, "memo": "dinner", "payment_password": payPassword})
	status, first := c.money("/v1/transfers", a.Token, "transfer-1", transfer)
	sent := time.Now()
	var out transaction
	if json.Unmarshal(first, &out); status != 201 || out.Kind != "transfer_out" || out.Status != "succeeded" {
		t.Fatalf("transfer: %d %s", status, first)
	}
	select {
	case data, ok := <-events:
		var n struct {
			Kind         string `json:"kind"`
			Amount       int64  `json:"amount"`
			BalanceAfter int64  `json:"balance_after"`
		}
		if !ok || json.Unmarshal([]byte(data), &n) != nil || n.Kind != "transfer_in.succeeded" || n.Amount != 12_345 || n.BalanceAfter != 12_345 {
			t.Errorf("B's event: %q", data)
		}
		t.Logf("the payee heard of the transfer %v after the POST returned", time.Since(sent))
	case <-time.After(time.Second):
		t.Fatal("the payee heard nothing within 1s of the transfer")
	}
	if status, again := c.money("/v1/transfers", a.Token, "transfer-1", transfer); status != 201 || string(again) != string(first) {
		t.Errorf("replay: %d\n%s\nwant\n%s", status, again, first)
	}
	if status, raw := c.money("/v1/transfers", a.Token, "transfer-1", strings.Replace(transfer, "12345", "12346", 1)); status != 422 || !strings.Contains(string(raw), "idempotency_key_reused") {
		t.Errorf("changed body: %d %s", status, raw)
	}

	// B's withdrawal to the card the bank declines fails, with the reason, and the
	// amount held comes back.
	status, raw = c.money("/v1/withdrawals", b.Token, "withdraw-1", body(map[string]any{"card_id": declined.ID, "amount": 5_000, "payment_password": payPassword}))
	var wd transaction
	if json.Unmarshal(raw, &wd); status != 202 || wd.Status != "pending" {
		t.Fatalf("withdrawal: %d %s", status, raw)
	}
	got := c.settle("/v1/withdrawals/"+wd.ID, b.Token)
	if got.Status != "failed" || got.Failure == nil || got.Failure.Code != "card_declined" || got.Failure.Explanation == "" {
		t.Errorf("declined withdrawal: %+v", got)
	}
	for _, w := range []struct {
		token string
		want  int64
	}{{a.Token, 100_000 - 12_345}, {b.Token, 12_345}} {
		var wallet struct{ Balance int64 }
		c.call("GET", "/v1/wallet", w.token, "", 200, &wallet)
		if wallet.Balance != w.want {
			t.Errorf("balance %d, want %d", wallet.Balance, w.want)
		}
	}

	// The history, newest first, and the inboxes.
	var history struct {
		Items      []transaction `json:"items"`
		NextCursor *string       `json:"next_cursor"`
	}
	for _, h := range []struct{ token, want string }{
		{a.Token, "transfer_out:succeeded topup:succeeded"},
		{b.Token, "withdrawal:failed transfer_in:succeeded"},
	} {
		c.call("GET", "/v1/transactions", h.token, "", 200, &history)
		var kinds []string
		for _, it := range history.Items {
			kinds = append(kinds, it.Kind+":"+it.Status)
		}
		if strings.Join(kinds, " ") != h.want || history.NextCursor != nil {
			t.Errorf("history: %v, want %s", kinds, h.want)
		}
	}
	c.call("GET", "/v1/transactions?limit=101", a.Token, "", 400, nil)
	c.call("GET", "/v1/transactions/"+out.ID, b.Token, "", 404, nil)
	inbox := func(token string, want int) []string {
		deadline := time.Now().Add(5 * time.Second)
		for {
			var page struct {
				Items []struct{ Kind string } `json:"items"`
			}
			c.call("GET", "/v1/notifications", token, "", 200, &page)
			var ks []string
			for _, it := range page.Items {
				ks = append(ks, it.Kind)
			}
			if len(ks) >= want || time.Now().After(deadline) {
				return ks
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	if got := strings.Join(inbox(a.Token, 2), " "); got != "transfer_out.succeeded topup.succeeded" {
		t.Errorf("A's inbox: %s", got)
	}
	if got := strings.Join(inbox(b.Token, 3), " "); got != "withdrawal.failed withdrawal.pending transfer_in.succeeded" {
		t.Errorf("B's inbox: %s", got)
	}

	// The ledger proves itself; the server stops with a stream still open.
	var creds map[string]struct{ Username, Password string }
	rawCreds, _ := os.ReadFile(filepath.Join(dir, "dev.json"))
	json.Unmarshal(rawCreds, &creds)
	var staff struct{ Token string }
	c.call("POST", "/v1/staff/sessions", "", body(map[string]string{"username": creds["admin"].Username, "password": creds["admin"].Password}), 201, &staff)
	var report struct {
		OK bool `json:"ok"`
	}
	c.call("GET", "/v1/admin/ledger/verify", staff.Token, "", 200, &report)
	if !report.OK {
		t.Errorf("GET /v1/admin/ledger/verify: not ok")
	}
	stopped := time.Now()
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(stopped); d > 5*time.Second {
		t.Errorf("stopping took %v with an event stream open", d)
	}
}
