package http

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/notify"
	"github.com/hebaopay/hebao/sandbox"
)

// Sandbox cards (Luhn-valid, ICBC BINs): the last four digits choose what the
// sandbox bank does.
const (
	cardAlice    = sandboxCard        // answers at once
	cardDeclined = "6222026000020002" // …0002: declined
	cardBob      = "6222026000045678"
	payPassword  = "528471"
)

// money is an accounts world with the money services on the sandbox bank: the
// dispatcher is not running, tests call DispatchOnce when they want notifications.
type money struct {
	*accounts
	s    *testServer
	disp *notify.Dispatcher
	hub  *notify.Hub
}

// withMoney adds transfers, the sandbox bank and a notification hub to a.cfg.
func (a *accounts) withMoney(t *testing.T) *money {
	t.Helper()
	bank, err := sandbox.Open("")
	if err != nil {
		t.Fatal(err)
	}
	hub := notify.NewHub()
	disp := &notify.Dispatcher{Store: a.store, Hub: hub}
	bs := &hebao.BankService{Store: a.store, Bank: bank, Keys: a.cfg.Cards.Keys, Tiers: hebao.DefaultTierLimits(),
		Passwords: a.cfg.PaymentPasswords, Timeout: 5 * time.Second, Committed: disp.Wake}
	t.Cleanup(func() {
		bs.Close()
		bank.Close()
	})
	a.cfg.Bank = bs
	a.cfg.Transfers = &hebao.TransferService{Store: a.store, Tiers: hebao.DefaultTierLimits(), Passwords: a.cfg.PaymentPasswords,
		OTP: a.cfg.OTP, Now: a.clock.Now, Committed: disp.Wake}
	a.cfg.Hub = hub
	return &money{accounts: a, s: newTestServer(t, a.cfg), disp: disp, hub: hub}
}

// payer is a customer with a real name, a card and a payment password.
type payer struct {
	hebao.Registered
	card string // the bound card's id
}

// payer registers phone, names it, binds card and sets the payment password.
func (m *money) payer(t *testing.T, phone, idNumber, card string) payer {
	t.Helper()
	p := payer{Registered: m.register(t, phone, "dev-"+phone)}
	must := func(method, target, body string, status int, out any) {
		t.Helper()
		rec := m.s.do(t, method, target, authJSON(p.Token), body)
		if rec.Code != status {
			t.Fatalf("%s %s: %d %s", method, target, rec.Code, rec.Body)
		}
		if out != nil {
			json.Unmarshal(rec.Body.Bytes(), out)
		}
	}
	must("POST", "/v1/wallet/real-name", realNameBody("张三", idNumber), 200, nil)
	var c struct{ ID string }
	must("POST", "/v1/cards", bindBody(card, "张三", m.code(t, phone, hebao.PurposeBindCard)), 201, &c)
	p.card = c.ID
	must("PUT", "/v1/wallet/payment-password", body(map[string]string{"password": payPassword, "otp": m.code(t, phone, hebao.PurposeSetPaymentPassword)}), 204, nil)
	return p
}

// post sends a money-moving request with an Idempotency-Key ("" sends none).
func (m *money) post(t *testing.T, token, target, key, b string) *bytes.Buffer {
	t.Helper()
	h := authJSON(token)
	if key != "" {
		h.Set("Idempotency-Key", key)
	}
	rec := m.s.do(t, "POST", target, h, b)
	buf := bytes.NewBuffer(nil)
	fmt.Fprintf(buf, "%d ", rec.Code)
	buf.Write(rec.Body.Bytes())
	return buf
}

// txn is a transaction as the API shows it.
type txn struct {
	ID           string `json:"id"`
	Kind         string `json:"kind"`
	Status       string `json:"status"`
	Amount       int64  `json:"amount"`
	Currency     string `json:"currency"`
	Memo         string `json:"memo"`
	Counterparty *struct {
		WalletID string `json:"wallet_id"`
		Name     string `json:"name"`
	} `json:"counterparty"`
	Card *struct {
		ID     string `json:"id"`
		Masked string `json:"masked_number"`
		Bank   string `json:"bank"`
	} `json:"card"`
	Failure *struct {
		Code        string `json:"code"`
		Explanation string `json:"explanation"`
		NextStep    string `json:"next_step"`
	} `json:"failure"`
}

// answer splits what post returned into the status and the decoded transaction.
func answer(t *testing.T, out *bytes.Buffer) (int, txn) {
	t.Helper()
	var status int
	var tx txn
	s := out.String()
	fmt.Sscanf(s, "%d ", &status)
	if status < 300 {
		if err := json.Unmarshal([]byte(s[strings.IndexByte(s, ' ')+1:]), &tx); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
	return status, tx
}

// get reads a transaction route and returns the status and the transaction.
func (m *money) get(t *testing.T, token, target string) (int, txn) {
	t.Helper()
	rec := m.s.do(t, "GET", target, bearerHeader(token), "")
	var tx txn
	if rec.Code == 200 {
		if err := json.Unmarshal(rec.Body.Bytes(), &tx); err != nil {
			t.Fatal(err)
		}
	}
	return rec.Code, tx
}

// settle waits for a pending top-up or withdrawal to end and returns it.
func (m *money) settle(t *testing.T, token, target string) txn {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		status, tx := m.get(t, token, target)
		if status != 200 {
			t.Fatalf("GET %s: %d", target, status)
		}
		if tx.Status != "pending" {
			return tx
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET %s: still pending after 10s", target)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// fund tops p's wallet up by amount from its card and waits for the money.
func (m *money) fund(t *testing.T, p payer, amount int64) {
	t.Helper()
	status, tx := answer(t, m.post(t, p.Token, "/v1/topups", hebao.NewID("key"), body(map[string]any{"card_id": p.card, "amount": amount})))
	if status != 202 {
		t.Fatalf("top-up: %d", status)
	}
	if got := m.settle(t, p.Token, "/v1/topups/"+tx.ID); got.Status != "succeeded" {
		t.Fatalf("top-up: %+v", got)
	}
}

func (m *money) balance(t *testing.T, token string) int64 {
	t.Helper()
	rec := m.s.do(t, "GET", "/v1/wallet", bearerHeader(token), "")
	var w struct{ Balance int64 }
	json.Unmarshal(rec.Body.Bytes(), &w)
	return w.Balance
}

func (m *money) history(t *testing.T, token, query string) (ids []string, next *string) {
	t.Helper()
	rec := m.s.do(t, "GET", "/v1/transactions"+query, bearerHeader(token), "")
	if rec.Code != 200 {
		t.Fatalf("GET /v1/transactions%s: %d %s", query, rec.Code, rec.Body)
	}
	var page struct {
		Items      []txn   `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}
	json.Unmarshal(rec.Body.Bytes(), &page)
	for _, it := range page.Items {
		ids = append(ids, it.Kind+":"+it.Status)
	}
	return ids, page.NextCursor
}

func transferBody(to string, amount int64, password string) string {
	return body(map[string]any{"to_phone": to, "amount": amount, "memo": "lunch", "payment_password": password})
}

func TestTransferRoute(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	bob := m.payer(t, "13700137000", testIDNumber2, cardBob)
	m.fund(t, alice, 10_000)

	first := m.post(t, alice.Token, "/v1/transfers", "key-1", transferBody("13700137000", 1234, payPassword))
	status, sent := answer(t, bytes.NewBufferString(first.String()))
	if status != 201 || sent.Kind != "transfer_out" || sent.Status != "succeeded" || sent.Amount != 1234 || sent.Currency != "CNY" ||
		sent.Memo != "lunch" || sent.Counterparty == nil || sent.Counterparty.WalletID != bob.Wallet.ID ||
		sent.Counterparty.Name != "137****7000" || sent.Failure != nil || sent.Card != nil {
		t.Fatalf("transfer: %s", first)
	}
	// The same request again, with other whitespace and field order: the same bytes.
	again := m.post(t, alice.Token, "/v1/transfers", "key-1",
		`{ "payment_password": "`+payPassword+`", "memo": "lunch",  "amount": 1234, "to_phone": "13700137000" }`)
	if again.String() != first.String() {
		t.Errorf("replay:\n got %s\nwant %s", again, first)
	}
	// The hash leaves the password out: a retry with another gets the first answer.
	if wrong := m.post(t, alice.Token, "/v1/transfers", "key-1", transferBody("13700137000", 1234, "640193")); wrong.String() != first.String() {
		t.Errorf("replay with another password: %s", wrong)
	}
	if got := m.balance(t, alice.Token); got != 10_000-1234 {
		t.Errorf("alice's balance %d after one transfer and its replays", got)
	}
	if got := m.balance(t, bob.Token); got != 1234 {
		t.Errorf("bob's balance %d", got)
	}

	for _, tc := range []struct {
		name, key, body string
		status          int
		code            string
	}{
		{"changed body", "key-1", transferBody("13700137000", 1235, payPassword), 422, "idempotency_key_reused"},
		{"no key", "", transferBody("13700137000", 1, payPassword), 400, "invalid_request"},
		{"key too long", strings.Repeat("k", 256), transferBody("13700137000", 1, payPassword), 400, "invalid_request"},
		{"key with a space", "a key", transferBody("13700137000", 1, payPassword), 400, "invalid_request"},
		{"unknown field", "k-2", `{"to_phone": "13700137000", "amount": 1, "payment_password": "528471", "balance": 5}`, 400, "invalid_request"},
		{"fractional amount", "k-3", `{"to_phone": "13700137000", "amount": 1.5, "payment_password": "528471"}`, 400, "invalid_request"},
		{"negative amount", "k-4", transferBody("13700137000", -1, payPassword), 400, "invalid_request"},
		{"zero amount", "k-5", transferBody("13700137000", 0, payPassword), 400, "invalid_request"},
		{"amount above 10^12", "k-6", transferBody("13700137000", hebao.MaxAmount+1, payPassword), 400, "invalid_request"},
		{"amount beyond int64", "k-7", `{"to_phone": "13700137000", "amount": 100000000000000000000, "payment_password": "528471"}`, 400, "invalid_request"},
		{"bad wallet id", "k-8", `{"to_wallet_id": "wal_x", "amount": 1, "payment_password": "528471"}`, 400, "invalid_request"},
		{"both payees", "k-9", body(map[string]any{"to_phone": "13700137000", "to_wallet_id": bob.Wallet.ID, "amount": 1, "payment_password": payPassword}), 400, "invalid_request"},
		{"unknown payee", "k-10", transferBody("13600136000", 1, payPassword), 404, "not_found"},
		{"to oneself", "k-11", transferBody("13800138000", 1, payPassword), 400, "invalid_request"},
		{"wrong password", "k-12", transferBody("13700137000", 1, "640193"), 422, "payment_password_wrong"},
		{"too much", "k-13", transferBody("13700137000", 100_000, payPassword), 422, "insufficient_funds"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := m.post(t, alice.Token, "/v1/transfers", tc.key, tc.body)
			status, _ := answer(t, out)
			if status != tc.status || !strings.Contains(out.String(), `"code":"`+tc.code+`"`) {
				t.Errorf("%s, want %d %s", out, tc.status, tc.code)
			}
		})
	}
	if got := m.balance(t, alice.Token); got != 10_000-1234 {
		t.Errorf("refused transfers moved money: balance %d", got)
	}

	// Each side sees its own movement; the other's id is 404 to it.
	if status, _ := m.get(t, bob.Token, "/v1/transactions/"+sent.ID); status != 404 {
		t.Errorf("bob reads alice's transaction: %d", status)
	}
	if status, got := m.get(t, alice.Token, "/v1/transactions/"+sent.ID); status != 200 || got.ID != sent.ID {
		t.Errorf("alice reads her transaction: %d %+v", status, got)
	}
	if ids, _ := m.history(t, bob.Token, ""); strings.Join(ids, " ") != "transfer_in:succeeded" {
		t.Errorf("bob's history: %v", ids)
	}
}

func TestTopupAndWithdrawalRoutes(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	bob := m.payer(t, "13700137000", testIDNumber2, cardBob)
	topup := body(map[string]any{"card_id": alice.card, "amount": 50_000})
	first := m.post(t, alice.Token, "/v1/topups", "top-1", topup)
	status, pending := answer(t, bytes.NewBufferString(first.String()))
	if status != 202 || pending.Kind != "topup" || pending.Status != "pending" || pending.Card == nil || pending.Card.ID != alice.card ||
		pending.Card.Masked != "6222 02** **** 1234" || pending.Card.Bank == "" || pending.Failure == nil || pending.Failure.Code != "pending" ||
		pending.Failure.Explanation == "" || strings.Contains(first.String(), "sealed") {
		t.Fatalf("top-up: %s", first)
	}
	if again := m.post(t, alice.Token, "/v1/topups", "top-1", `{"amount":50000,"card_id":"`+alice.card+`"}`); again.String() != first.String() {
		t.Errorf("replay:\n got %s\nwant %s", again, first)
	}
	if out := m.post(t, alice.Token, "/v1/topups", "top-1", body(map[string]any{"card_id": alice.card, "amount": 50_001})); !strings.HasPrefix(out.String(), "422 ") {
		t.Errorf("changed body: %s", out)
	}
	if got := m.settle(t, alice.Token, "/v1/topups/"+pending.ID); got.Status != "succeeded" || got.Failure != nil {
		t.Errorf("settled top-up: %+v", got)
	}
	if got := m.balance(t, alice.Token); got != 50_000 {
		t.Errorf("balance %d after a top-up and its replay", got)
	}
	for _, tc := range []struct {
		who, target string
		status      int
	}{
		{bob.Token, "/v1/topups/" + pending.ID, 404},
		{bob.Token, "/v1/transactions/" + pending.ID, 404},
		{alice.Token, "/v1/withdrawals/" + pending.ID, 404}, // another kind
		{alice.Token, "/v1/topups/mov_x", 400},
		{alice.Token, "/v1/transactions/" + hebao.NewID("mov"), 404},
		{alice.Token, "/v1/topups/" + hebao.NewID("mov"), 404},
	} {
		if status, _ := m.get(t, tc.who, tc.target); status != tc.status {
			t.Errorf("GET %s: %d, want %d", tc.target, status, tc.status)
		}
	}
	for name, b := range map[string]string{
		"another's card":    body(map[string]any{"card_id": bob.card, "amount": 1}),
		"bad card id":       `{"card_id": "card_x", "amount": 1}`,
		"fractional amount": `{"card_id": "` + alice.card + `", "amount": 0.5}`,
		"negative amount":   `{"card_id": "` + alice.card + `", "amount": -100}`,
		"unknown field":     `{"card_id": "` + alice.card + `", "amount": 1, "status": "succeeded"}`,
	} {
		out := m.post(t, alice.Token, "/v1/topups", "bad-"+name[:3], b)
		if want := map[bool]string{true: "404 ", false: "400 "}[name == "another's card"]; !strings.HasPrefix(out.String(), want) {
			t.Errorf("top-up with %s: %s, want %s", name, out, want)
		}
	}
	if out := m.post(t, alice.Token, "/v1/topups", "", topup); !strings.HasPrefix(out.String(), "400 ") {
		t.Errorf("top-up without a key: %s", out)
	}

	// A withdrawal to a card the bank declines: failed, with the reason, and the
	// hold released.
	var declined struct{ ID string }
	rec := m.s.do(t, "POST", "/v1/cards", authJSON(alice.Token), bindBody(cardDeclined, "张三", m.code(t, "13800138000", hebao.PurposeBindCard)))
	json.Unmarshal(rec.Body.Bytes(), &declined)
	withdraw := body(map[string]any{"card_id": declined.ID, "amount": 20_000, "payment_password": payPassword})
	out := m.post(t, alice.Token, "/v1/withdrawals", "wd-1", withdraw)
	status, wd := answer(t, out)
	if status != 202 || wd.Kind != "withdrawal" || wd.Status != "pending" {
		t.Fatalf("withdrawal: %s", out)
	}
	if again := m.post(t, alice.Token, "/v1/withdrawals", "wd-1", withdraw); again.String() != out.String() {
		t.Errorf("replay:\n got %s\nwant %s", again, out)
	}
	got := m.settle(t, alice.Token, "/v1/withdrawals/"+wd.ID)
	if got.Status != "failed" || got.Failure == nil || got.Failure.Code != "card_declined" || got.Failure.Explanation == "" || got.Failure.NextStep == "" {
		t.Errorf("declined withdrawal: %+v", got)
	}
	if b := m.balance(t, alice.Token); b != 50_000 {
		t.Errorf("balance %d after a declined withdrawal, want the hold released", b)
	}
	if out := m.post(t, alice.Token, "/v1/withdrawals", "wd-2", body(map[string]any{"card_id": alice.card, "amount": 1, "payment_password": "640193"})); !strings.Contains(out.String(), "payment_password_wrong") {
		t.Errorf("wrong payment password: %s", out)
	}
	out = m.post(t, alice.Token, "/v1/withdrawals", "wd-3", body(map[string]any{"card_id": alice.card, "amount": 10_000, "payment_password": payPassword}))
	if _, ok := answer(t, out); ok.ID == "" || m.settle(t, alice.Token, "/v1/withdrawals/"+ok.ID).Status != "succeeded" {
		t.Errorf("withdrawal: %s", out)
	}
	if b := m.balance(t, alice.Token); b != 40_000 {
		t.Errorf("balance %d after withdrawing 10000 of 50000", b)
	}
}

func TestTransactionsPages(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	m.payer(t, "13700137000", testIDNumber2, cardBob)
	m.fund(t, alice, 10_000)
	for i := range 3 {
		if out := m.post(t, alice.Token, "/v1/transfers", fmt.Sprint("t-", i), transferBody("13700137000", int64(100+i), payPassword)); !strings.HasPrefix(out.String(), "201 ") {
			t.Fatal(out)
		}
		time.Sleep(2 * time.Millisecond) // ids sort by millisecond
	}
	all, next := m.history(t, alice.Token, "")
	if strings.Join(all, " ") != "transfer_out:succeeded transfer_out:succeeded transfer_out:succeeded topup:succeeded" || next != nil {
		t.Errorf("history: %v, next %v", all, next)
	}
	var pages []string
	query := "?limit=1"
	for range 10 {
		ids, next := m.history(t, alice.Token, query)
		pages = append(pages, ids...)
		if next == nil {
			break
		}
		query = "?limit=1&cursor=" + *next
	}
	if strings.Join(pages, " ") != strings.Join(all, " ") {
		t.Errorf("page by page: %v, want %v", pages, all)
	}
	for _, q := range []string{"?limit=101", "?limit=0", "?limit=x", "?cursor=x", "?cursor=ntf_06f8w3y0abcdefghjkmnpqrstv"} {
		if rec := m.s.do(t, "GET", "/v1/transactions"+q, bearerHeader(alice.Token), ""); rec.Code != 400 {
			t.Errorf("GET /v1/transactions%s: %d, want 400", q, rec.Code)
		}
	}
	if rec := m.s.do(t, "GET", "/v1/notifications?limit=101", bearerHeader(alice.Token), ""); rec.Code != 400 {
		t.Errorf("GET /v1/notifications?limit=101: %d, want 400", rec.Code)
	}
}

func TestWalletSettingsRoutes(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	alice := m.register(t, "13800138000", "dev-a")
	get := func() string {
		t.Helper()
		rec := m.s.do(t, "GET", "/v1/wallet/settings", bearerHeader(alice.Token), "")
		if rec.Code != 200 {
			t.Fatalf("GET settings: %d %s", rec.Code, rec.Body)
		}
		return strings.TrimSpace(rec.Body.String())
	}
	if got, want := get(), `{"password_free":{"enabled":true,"per_payment_limit":100000},"auto_topup":false,"sms_threshold":null}`; got != want {
		t.Errorf("defaults:\n got %s\nwant %s", got, want)
	}
	put := func(b string) (int, string) {
		rec := m.s.do(t, "PUT", "/v1/wallet/settings", authJSON(alice.Token), b)
		return rec.Code, strings.TrimSpace(rec.Body.String())
	}
	want := `{"password_free":{"enabled":false,"per_payment_limit":5000},"auto_topup":true,"sms_threshold":10000}`
	if status, got := put(want); status != 200 || got != want {
		t.Errorf("PUT: %d %s", status, got)
	}
	if got := get(); got != want {
		t.Errorf("after PUT: %s", got)
	}
	off := `{"password_free":{"enabled":true,"per_payment_limit":1},"auto_topup":false,"sms_threshold":null}`
	if status, got := put(off); status != 200 || got != off || get() != off {
		t.Errorf("PUT with SMS off: %d %s", status, got)
	}
	for _, b := range []string{
		`{"password_free":{"enabled":true,"per_payment_limit":100001},"auto_topup":false,"sms_threshold":null}`,
		`{"password_free":{"enabled":true,"per_payment_limit":0},"auto_topup":false,"sms_threshold":null}`,
		`{"password_free":{"enabled":true,"per_payment_limit":1.5},"auto_topup":false,"sms_threshold":null}`,
		`{"password_free":{"enabled":true,"per_payment_limit":100},"auto_topup":false,"sms_threshold":0}`,
		`{"password_free":{"enabled":true,"per_payment_limit":100},"auto_topup":false,"sms_threshold":-5}`,
		`{"password_free":{"enabled":true,"per_payment_limit":100},"auto_topup":false,"sms_threshold":2.5}`,
		`{"password_free":{"enabled":true,"per_payment_limit":100},"auto_topup":false,"sms_threshold":"100"}`,
		`{"password_free":{"enabled":true,"per_payment_limit":100},"auto_topup":false}`,
		`{"password_free":{"enabled":true},"auto_topup":false,"sms_threshold":null}`,
		`{"auto_topup":false,"sms_threshold":null}`,
		`{"password_free":{"enabled":true,"per_payment_limit":100},"auto_topup":false,"sms_threshold":null,"balance":1}`,
	} {
		if status, got := put(b); status != 400 || !strings.Contains(got, "invalid_request") {
			t.Errorf("PUT %s: %d %s, want 400", b, status, got)
		}
	}
	if got := get(); got != off {
		t.Errorf("refused PUTs changed the settings: %s", got)
	}
}

func TestNotificationRoutes(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	bob := m.payer(t, "13700137000", testIDNumber2, cardBob)
	m.fund(t, alice, 10_000)

	// A real server with short time-outs: the stream must outlive them.
	srv := httptest.NewUnstartedServer(m.s.Handler())
	srv.Config.ReadTimeout, srv.Config.WriteTimeout = 100*time.Millisecond, 100*time.Millisecond
	srv.Start()
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+bob.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
		t.Fatalf("events: %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	time.Sleep(300 * time.Millisecond) // past both time-outs
	if out := m.post(t, alice.Token, "/v1/transfers", "n-1", transferBody("13700137000", 1234, payPassword)); !strings.HasPrefix(out.String(), "201 ") {
		t.Fatal(out)
	}
	if _, err := m.disp.DispatchOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var data string
	timeout := time.After(5 * time.Second)
	for data == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			if d, ok := strings.CutPrefix(l, "data: "); ok {
				data = d
			}
		case <-timeout:
			t.Fatal("no event in 5s")
		}
	}
	var v notify.View
	if err := json.Unmarshal([]byte(data), &v); err != nil || v.Kind != "transfer_in.succeeded" || v.Amount != 1234 || v.BalanceAfter != 1234 {
		t.Errorf("event %s: %v", data, err)
	}

	rec := m.s.do(t, "GET", "/v1/notifications", bearerHeader(bob.Token), "")
	var inbox struct {
		Items      []notify.View `json:"items"`
		NextCursor *string       `json:"next_cursor"`
	}
	if json.Unmarshal(rec.Body.Bytes(), &inbox); rec.Code != 200 || len(inbox.Items) != 1 || inbox.Items[0].ID != v.ID || inbox.NextCursor != nil {
		t.Errorf("bob's inbox: %d %s", rec.Code, rec.Body)
	}
	rec = m.s.do(t, "GET", "/v1/notifications?limit=1", bearerHeader(alice.Token), "")
	if json.Unmarshal(rec.Body.Bytes(), &inbox); rec.Code != 200 || len(inbox.Items) != 1 || inbox.Items[0].Kind != "transfer_out.succeeded" || inbox.NextCursor == nil {
		t.Fatalf("alice's inbox, first page: %d %s", rec.Code, rec.Body)
	}
	rec = m.s.do(t, "GET", "/v1/notifications?limit=1&cursor="+*inbox.NextCursor, bearerHeader(alice.Token), "")
	if json.Unmarshal(rec.Body.Bytes(), &inbox); rec.Code != 200 || len(inbox.Items) != 1 || !strings.HasPrefix(inbox.Items[0].Kind, "topup.") {
		t.Errorf("alice's inbox, second page: %d %s", rec.Code, rec.Body)
	}

	// StopStreams ends the stream, so that a shutdown does not wait for it.
	m.s.StopStreams()
	for range lines {
	}
}
