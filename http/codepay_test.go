package http

import (
	"bufio"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/notify"
)

// issuedCode is what POST /v1/payment-codes answers.
type issuedCode struct {
	Code      string    `json:"code"`
	ExpiresAt time.Time `json:"expires_at"`
}

var paymentCodeFormat = regexp.MustCompile(`^81[0-9]{16}$`)

// paymentCode has the customer with token ask for a code to show at a till.
func (m *money) paymentCode(t *testing.T, token string) issuedCode {
	t.Helper()
	var c issuedCode
	if status, b := m.call(t, "POST", "/v1/payment-codes", token, "", &c); status != 201 || !paymentCodeFormat.MatchString(c.Code) ||
		!c.ExpiresAt.Equal(m.clock.Now().Add(hebao.PaymentCodeLifetime)) {
		t.Fatalf("payment code: %d %s", status, b)
	}
	return c
}

func tillBody(outTradeNo, code string, amount int64) string {
	return body(map[string]any{"out_trade_no": outTradeNo, "auth_code": code, "amount": amount, "subject": "矿泉水"})
}

// merchantBalance reads the settlement balance of the merchant with key.
func (m *money) merchantBalance(t *testing.T, key string) int64 {
	t.Helper()
	var bal struct{ Balance int64 }
	if status, b := m.call(t, "GET", "/v1/merchant/balance", key, "", &bal); status != 200 {
		t.Fatalf("merchant balance: %d %s", status, b)
	}
	return bal.Balance
}

// merchantStatus reads the status of the merchant's order outTradeNo.
func (m *money) merchantStatus(t *testing.T, key, outTradeNo string) merchantOrder {
	t.Helper()
	var o merchantOrder
	if status, b := m.call(t, "GET", "/v1/merchant/orders/"+outTradeNo, key, "", &o); status != 200 {
		t.Fatalf("GET order %s: %d %s", outTradeNo, status, b)
	}
	return o
}

// firstTransaction returns the newest item of the customer's history.
func (m *money) firstTransaction(t *testing.T, token string) txn {
	t.Helper()
	var page struct{ Items []txn }
	if status, b := m.call(t, "GET", "/v1/transactions?limit=1", token, "", &page); status != 200 || len(page.Items) != 1 {
		t.Fatalf("history: %d %s", status, b)
	}
	return page.Items[0]
}

func TestCodePaymentPasswordFree(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	m.fund(t, alice, 10_000)
	mch := m.merchant(t, "荷包便利店")
	key := mch.APIKey

	// Within the allowance the till is paid at once.
	code := m.paymentCode(t, alice.Token)
	var o merchantOrder
	status, first := m.call(t, "POST", "/v1/merchant/code-payments", key, tillBody("C20261126-0001", code.Code, 1500), &o)
	if status != 201 || !hebao.ValidID("ord", o.ID) || o.OutTradeNo != "C20261126-0001" || o.Status != "SUCCESS" ||
		o.Method != "password_free" || o.Amount != 1500 || o.Subject != "矿泉水" || o.Payer != alice.Wallet.ID ||
		o.PaidAt == nil || !o.PaidAt.Equal(m.clock.Now()) || o.ClosedAt != nil || o.QRPayload != "" || o.QRURL != "" {
		t.Fatalf("code payment: %d %s", status, first)
	}
	// The till retrying the same request (a lost answer) gets the same order, paid once.
	status, again := m.call(t, "POST", "/v1/merchant/code-payments", key, tillBody("C20261126-0001", code.Code, 1500), nil)
	if status != 200 || again != first {
		t.Errorf("the same code payment again: %d %s\nwant 200 %s", status, again, first)
	}
	if got := m.balance(t, alice.Token); got != 10_000-1500 {
		t.Errorf("alice's balance %d, want %d", got, 10_000-1500)
	}
	if got := m.merchantBalance(t, key); got != 1500 {
		t.Errorf("merchant balance %d, want 1500", got)
	}

	// The payment is in the customer's history, to the merchant.
	if p := m.firstTransaction(t, alice.Token); p.Kind != "payment" || p.Status != "succeeded" || p.Amount != 1500 ||
		p.Memo != "矿泉水" || p.Counterparty == nil || p.Counterparty.WalletID != mch.ID || p.Counterparty.Name != "荷包便利店" ||
		p.Failure != nil {
		t.Errorf("alice's payment in her history: %+v", p)
	}

	// A code is taken once, and lives 60 seconds.
	status, b := m.call(t, "POST", "/v1/merchant/code-payments", key, tillBody("C20261126-0002", code.Code, 100), nil)
	wantCode(t, "the same code for another order", status, b, 422, "payment_code_invalid")
	late := m.paymentCode(t, alice.Token)
	m.clock.Add(hebao.PaymentCodeLifetime)
	status, b = m.call(t, "POST", "/v1/merchant/code-payments", key, tillBody("C20261126-0003", late.Code, 100), nil)
	wantCode(t, "a code 60 s old", status, b, 422, "payment_code_invalid")
	status, b = m.call(t, "POST", "/v1/merchant/code-payments", key, tillBody("C20261126-0004", "810000000000000000", 100), nil)
	wantCode(t, "a code never issued", status, b, 422, "payment_code_invalid")
	// Nor does a refused code come back to life once the till knows it.
	status, b = m.call(t, "POST", "/v1/merchant/code-payments", key, tillBody("C20261126-0005", late.Code, 100), nil)
	wantCode(t, "the late code again", status, b, 422, "payment_code_invalid")

	// Refusals charged nothing and made no order.
	if got := m.balance(t, alice.Token); got != 10_000-1500 {
		t.Errorf("alice's balance %d after refused codes", got)
	}
	if got := m.merchantBalance(t, key); got != 1500 {
		t.Errorf("merchant balance %d after refused codes", got)
	}
	for _, no := range []string{"C20261126-0002", "C20261126-0003", "C20261126-0004", "C20261126-0005"} {
		status, b := m.call(t, "GET", "/v1/merchant/orders/"+no, key, "", nil)
		wantCode(t, "GET "+no+" after a refused code", status, b, 404, "not_found")
	}
	if ids, _ := m.history(t, alice.Token, ""); strings.Join(ids, " ") != "payment:succeeded topup:succeeded" {
		t.Errorf("alice's history: %v", ids)
	}
	if ds := m.deliveries(t, key); len(ds) != 0 {
		t.Errorf("deliveries of a code payment, which has no notify_url: %+v", ds)
	}
}

func TestCodePaymentConfirm(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	bob := m.payer(t, "13700137000", testIDNumber2, cardBob)
	const funded, amount = 300_000, 150_000 // ¥1,500: above the default ¥1,000 allowance
	m.fund(t, alice, funded)
	m.fund(t, bob, 10_000)
	if _, err := m.disp.DispatchOnce(t.Context()); err != nil { // the top-ups' notifications
		t.Fatal(err)
	}
	mch := m.merchant(t, "荷包便利店")
	key := mch.APIKey

	// Alice's app is open, listening for her notifications.
	srv := httptest.NewServer(m.s.Handler())
	defer srv.Close()
	req, _ := http.NewRequestWithContext(t.Context(), "GET", srv.URL+"/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+alice.Token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("events: %d", resp.StatusCode)
	}
	lines := make(chan string, 100)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	code := m.paymentCode(t, alice.Token)
	var o merchantOrder
	status, b := m.call(t, "POST", "/v1/merchant/code-payments", key, tillBody("C20261126-0001", code.Code, amount), &o)
	if status != 201 || o.Status != "USERPAYING" || o.Method != "" || o.PaidAt != nil || o.ClosedAt != nil || o.Amount != amount ||
		!o.ExpiresAt.Equal(m.clock.Now().Add(hebao.PaymentCodeLifetime)) {
		t.Fatalf("code payment above the allowance: %d %s", status, b)
	}
	if got := m.balance(t, alice.Token); got != funded {
		t.Errorf("alice's balance %d before she confirmed", got)
	}

	// She is told at once that a till is waiting.
	start := time.Now()
	if _, err := m.disp.DispatchOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var waiting notify.View
	deadline := time.After(time.Second)
	for waiting.ID == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("the stream ended")
			}
			d, ok := strings.CutPrefix(l, "data: ")
			if !ok {
				continue
			}
			var v notify.View
			if err := json.Unmarshal([]byte(d), &v); err != nil {
				t.Fatalf("event %s: %v", d, err)
			}
			if v.Kind == "payment.pending" {
				waiting = v
			}
		case <-deadline:
			t.Fatal("no notification of the waiting till within 1s")
		}
	}
	if v := waiting; !strings.Contains(v.Title, "till is waiting") || v.Amount != amount || v.Counterparty != "荷包便利店" ||
		v.BalanceAfter != funded || v.TransactionID == "" {
		t.Errorf("notification %+v, after %v", v, time.Since(start))
	}

	// The order is shown to her, and to no one else.
	var seen customerOrder
	if status, b := m.call(t, "GET", "/v1/orders/"+o.ID, alice.Token, "", &seen); status != 200 || seen.Status != "USERPAYING" ||
		seen.Amount != amount || seen.Merchant.ID != mch.ID || seen.Merchant.Name != "荷包便利店" ||
		seen.TransactionID != waiting.TransactionID {
		t.Errorf("alice's waiting order: %d %s", status, b)
	}
	status, b = m.call(t, "GET", "/v1/orders/"+o.ID, bob.Token, "", nil)
	wantCode(t, "bob reads alice's till order", status, b, 404, "not_found")
	if p := m.firstTransaction(t, alice.Token); p.ID != waiting.TransactionID || p.Kind != "payment" || p.Status != "pending" ||
		p.Counterparty == nil || p.Counterparty.WalletID != mch.ID || p.Failure == nil || p.Failure.Code != "awaiting_confirmation" {
		t.Errorf("alice's pending payment: %+v", p)
	}

	confirm := func(password string) string {
		return body(map[string]string{"order_id": o.ID, "payment_password": password})
	}
	const target = "/v1/payment-codes/confirm"
	status, b = answerOf(m.post(t, bob.Token, target, "cf-bob", confirm(payPassword)))
	wantCode(t, "bob confirms alice's order", status, b, 404, "not_found")
	status, b = answerOf(m.post(t, alice.Token, target, "cf-wrong", confirm("640193")))
	wantCode(t, "a wrong payment password", status, b, 422, "payment_password_wrong")
	status, b = answerOf(m.post(t, alice.Token, target, "", confirm(payPassword)))
	wantCode(t, "no Idempotency-Key", status, b, 400, "invalid_request")
	if got := m.balance(t, alice.Token); got != funded {
		t.Errorf("alice's balance %d after refused confirmations", got)
	}
	if got := m.balance(t, bob.Token); got != 10_000 {
		t.Errorf("bob's balance %d after his refused confirmation", got)
	}
	if got := m.merchantStatus(t, key, "C20261126-0001"); got.Status != "USERPAYING" || m.merchantBalance(t, key) != 0 {
		t.Errorf("after refused confirmations: %+v", got)
	}

	// She confirms with her payment password.
	paid := m.post(t, alice.Token, target, "cf-1", confirm(payPassword)).String()
	var payment struct {
		Order       customerOrder `json:"order"`
		Transaction txn           `json:"transaction"`
	}
	if !strings.HasPrefix(paid, "201 ") || json.Unmarshal([]byte(paid[4:]), &payment) != nil {
		t.Fatalf("confirm: %s", paid)
	}
	if p := payment; p.Order.ID != o.ID || p.Order.Status != "SUCCESS" || !p.Order.PaidByYou ||
		p.Transaction.ID != waiting.TransactionID || p.Order.TransactionID != p.Transaction.ID ||
		p.Transaction.Kind != "payment" || p.Transaction.Status != "succeeded" || p.Transaction.Amount != amount ||
		p.Transaction.Failure != nil || p.Transaction.Counterparty == nil || p.Transaction.Counterparty.Name != "荷包便利店" {
		t.Errorf("confirm: %s", paid)
	}
	if again := m.post(t, alice.Token, target, "cf-1", confirm(payPassword)).String(); again != paid {
		t.Errorf("confirm, replayed:\n got %s\nwant %s", again, paid)
	}
	status, b = answerOf(m.post(t, alice.Token, target, "cf-2", confirm(payPassword)))
	wantCode(t, "confirm again with another key", status, b, 422, "order_already_paid")

	got := m.merchantStatus(t, key, "C20261126-0001")
	if got.ID != o.ID || got.Status != "SUCCESS" || got.Method != "balance" || got.Payer != alice.Wallet.ID || got.PaidAt == nil {
		t.Errorf("merchant's order after the confirmation: %+v", got)
	}
	if got := m.balance(t, alice.Token); got != funded-amount {
		t.Errorf("alice's balance %d, want %d", got, funded-amount)
	}
	if got := m.merchantBalance(t, key); got != amount {
		t.Errorf("merchant balance %d, want %d", got, amount)
	}
	if ids, _ := m.history(t, alice.Token, ""); strings.Join(ids, " ") != "payment:succeeded topup:succeeded" {
		t.Errorf("alice's history: %v", ids)
	}

	m.s.StopStreams()
	for range lines {
	}
}

func TestCodePaymentPasswordFreeOff(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	m.fund(t, alice, 10_000)
	key := m.merchant(t, "荷包便利店").APIKey

	off := `{"password_free":{"enabled":false,"per_payment_limit":100000},"auto_topup":false,"sms_threshold":null}`
	if status, b := m.call(t, "PUT", "/v1/wallet/settings", alice.Token, off, nil); status != 200 {
		t.Fatalf("turn password-free off: %d %s", status, b)
	}
	// Even one fen now waits for her.
	var o merchantOrder
	if status, b := m.call(t, "POST", "/v1/merchant/code-payments", key, tillBody("C20261126-0001", m.paymentCode(t, alice.Token).Code, 1), &o); status != 201 ||
		o.Status != "USERPAYING" {
		t.Fatalf("code payment with password-free off: %d %s", status, b)
	}
	if got := m.balance(t, alice.Token); got != 10_000 {
		t.Errorf("alice's balance %d before she confirmed", got)
	}
}

func TestCodePaymentTimeout(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	m.fund(t, alice, 300_000)
	key := m.merchant(t, "荷包便利店").APIKey

	var o merchantOrder
	if status, b := m.call(t, "POST", "/v1/merchant/code-payments", key, tillBody("C20261126-0001", m.paymentCode(t, alice.Token).Code, 120_000), &o); status != 201 ||
		o.Status != "USERPAYING" {
		t.Fatalf("code payment: %d %s", status, b)
	}
	var seen customerOrder
	if status, b := m.call(t, "GET", "/v1/orders/"+o.ID, alice.Token, "", &seen); status != 200 || seen.TransactionID == "" {
		t.Fatalf("alice's waiting order: %d %s", status, b)
	}

	// 60 seconds on, it is too late to confirm, even before the expiry job ran.
	m.clock.Add(hebao.PaymentCodeLifetime)
	status, b := answerOf(m.post(t, alice.Token, "/v1/payment-codes/confirm", "cf-1",
		body(map[string]string{"order_id": o.ID, "payment_password": payPassword})))
	wantCode(t, "confirm after 60 s", status, b, 422, "order_closed")
	if got := m.balance(t, alice.Token); got != 300_000 {
		t.Errorf("alice's balance %d after a late confirmation", got)
	}

	n, err := m.cfg.Orders.ExpireDue(t.Context())
	if err != nil || n != 1 {
		t.Fatalf("ExpireDue: %d, %v; want 1 closed", n, err)
	}
	got := m.merchantStatus(t, key, "C20261126-0001")
	if got.Status != "CLOSED" || got.ClosedAt == nil || !got.ClosedAt.Equal(m.clock.Now()) || got.PaidAt != nil {
		t.Errorf("merchant's order after expiry: %+v", got)
	}
	if status, b := m.call(t, "GET", "/v1/orders/"+o.ID, alice.Token, "", &seen); status != 200 || seen.Status != "CLOSED" {
		t.Errorf("alice's order after expiry: %d %s", status, b)
	}
	status, tx := m.get(t, alice.Token, "/v1/transactions/"+seen.TransactionID)
	if status != 200 || tx.Kind != "payment" || tx.Status != "failed" || tx.Failure == nil || tx.Failure.Code != "order_closed" ||
		tx.Failure.Explanation == "" {
		t.Errorf("alice's payment after expiry: %d %+v", status, tx)
	}
	// Closing it again changes nothing; a code payment has no notify_url, so no
	// webhook is owed.
	if n, err := m.cfg.Orders.ExpireDue(t.Context()); err != nil || n != 0 {
		t.Errorf("ExpireDue again: %d, %v", n, err)
	}
	if ds := m.deliveries(t, key); len(ds) != 0 {
		t.Errorf("deliveries of a closed code payment: %+v", ds)
	}
	status, b = answerOf(m.post(t, alice.Token, "/v1/payment-codes/confirm", "cf-2",
		body(map[string]string{"order_id": o.ID, "payment_password": payPassword})))
	wantCode(t, "confirm a closed order", status, b, 422, "order_closed")
	if got := m.balance(t, alice.Token); got != 300_000 || m.merchantBalance(t, key) != 0 {
		t.Errorf("balances after the time-out: alice %d, merchant %d", got, m.merchantBalance(t, key))
	}
	// She is told it was not made.
	if _, err := m.disp.DispatchOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var inbox struct{ Items []notify.View }
	if status, b := m.call(t, "GET", "/v1/notifications?limit=1", alice.Token, "", &inbox); status != 200 || len(inbox.Items) != 1 ||
		inbox.Items[0].Kind != "payment.failed" || inbox.Items[0].TransactionID != seen.TransactionID {
		t.Errorf("alice's last notification: %d %s", status, b)
	}
}
