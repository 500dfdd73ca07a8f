package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// The staff console's browser tests (web/static/staff.html), with the helpers of
// browser_test.go, on a desktop-sized window: staff work at desks.

// startStaffServer serves the real program in development mode on a new data
// directory and returns it with the staff and merchant credentials --dev seeded.
func startStaffServer(t *testing.T) (*server, devFile) {
	t.Helper()
	dir := t.TempDir()
	srv := startServer(t, "--dev", "--data-dir", dir)
	b, err := os.ReadFile(filepath.Join(dir, "dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dev devFile
	if err := json.Unmarshal(b, &dev); err != nil || dev.Admin == nil || dev.Agent == nil || dev.Merchant == nil {
		t.Fatalf("dev.json: %v %s", err, b)
	}
	return srv, dev
}

// staffSignIn opens the console and signs in with c.
func (b *browser) staffSignIn(c *devCredential) {
	b.t.Helper()
	b.run("open the staff console", chromedp.EmulateViewport(1280, 860), chromedp.Navigate(b.srv.url+"/staff"),
		chromedp.WaitVisible(chromedp.CSS("#signin")))
	b.fill("#signin-username", c.Username)
	b.fill("#signin-password", c.Password)
	b.click("#signin button[type=submit]")
	b.waitFor("#nav")
}

// staffToken signs c in over the API, for checking what the console did.
func staffToken(t *testing.T, srv *server, c *devCredential) string {
	t.Helper()
	var out struct{ Token string }
	if st := apiJSON(t, srv, "POST", "/v1/staff/sessions", "", "", map[string]string{"username": c.Username, "password": c.Password}, &out); st != 201 {
		t.Fatalf("staff sign-in: %d", st)
	}
	return out.Token
}

// customerWithCard opens a real-named wallet with a bound sandbox card ending 1234
// through the API, as the app on the customer's phone would, and returns the
// phone and a session token.
func customerWithCard(t *testing.T, srv *server) (phone, token string) {
	t.Helper()
	phone = newPhone()
	if st := apiJSON(t, srv, "POST", "/v1/otp", "", "", map[string]string{"phone": phone, "purpose": "register"}, nil); st != 202 {
		t.Fatalf("register code: %d", st)
	}
	var reg struct{ Token string }
	if st := apiJSON(t, srv, "POST", "/v1/customers", "", "", map[string]string{"phone": phone, "otp": devCode(t, srv, phone),
		"password": "my secret 8", "device_id": "customer-phone"}, &reg); st != 201 {
		t.Fatalf("register: %d", st)
	}
	if st := apiJSON(t, srv, "POST", "/v1/wallet/real-name", reg.Token, "", map[string]string{"name": "张三", "id_number": "11010519491231002X"}, nil); st != 200 {
		t.Fatalf("real name: %d", st)
	}
	apiJSON(t, srv, "POST", "/v1/otp", "", "", map[string]string{"phone": phone, "purpose": "bind_card"}, nil)
	if st := apiJSON(t, srv, "POST", "/v1/cards", reg.Token, "", map[string]string{"card_number": "6222026000001234", "holder_name": "张三",
		"otp": devCode(t, srv, phone)}, nil); st != 201 {
		t.Fatalf("bind card: %d", st)
	}
	return phone, reg.Token
}

func walletStatus(t *testing.T, srv *server, token string) string {
	t.Helper()
	var w struct{ Status string }
	if st := apiJSON(t, srv, "GET", "/v1/wallet", token, "", nil, &w); st != 200 {
		t.Fatalf("wallet: %d", st)
	}
	return w.Status
}

// TestBrowserStaffFreezesWallet: an agent looks a customer up by phone, sees the
// wallet and the masked card, is told by the API that a freeze needs a reason,
// freezes the wallet with one and unfreezes it after an identity check; both
// actions are in the audit log under the agent's id.
func TestBrowserStaffFreezesWallet(t *testing.T) {
	srv, dev := startStaffServer(t)
	phone, customer := customerWithCard(t, srv)
	b := newBrowser(t, srv)
	b.staffSignIn(dev.Agent)
	if got := b.text("#nav"); strings.Contains(got, "账本核验") {
		t.Errorf("an agent's navigation shows admin pages: %q", got)
	}

	b.fill("#cust-phone", phone)
	b.click("#cust-search button[type=submit]")
	b.waitFor(`#wallet-status [data-status="active"]`)
	if got := b.text("#cards"); !strings.Contains(got, "6222 02** **** 1234") || !strings.Contains(got, "中国工商银行") {
		t.Errorf("cards show %q, want the masked ICBC card", got)
	}
	if got := b.text("#customer"); strings.Contains(got, "6222026000001234") || strings.Contains(got, "11010519491231002X") {
		t.Errorf("the look-up shows a full card or ID number: %q", got)
	}

	// No reason: the API's own words.
	b.click("#freeze-form button[type=submit]")
	if got := b.text("#freeze-form .alert.error .detail"); got != "reason is required" {
		t.Errorf("freezing without a reason shows %q", got)
	}
	b.fill("#freeze-reason", "客户来电称手机丢失")
	b.click("#freeze-form button[type=submit]")
	b.waitFor(`#wallet-status [data-status="frozen"]`)
	if got := walletStatus(t, srv, customer); got != "frozen" {
		t.Errorf("after the agent froze it the wallet is %s", got)
	}
	b.waitFor("#unfreeze-form")
	b.run("scroll to the top", chromedp.Evaluate[chromedp.Void](`scrollTo(0, 0)`))
	b.screenshot("staff-customer-frozen")

	b.fill("#unfreeze-check", "视频核验：客户出示身份证，姓名与证件号后四位一致")
	b.click("#unfreeze-form button[type=submit]")
	b.waitFor(`#wallet-status [data-status="active"]`)
	if got := walletStatus(t, srv, customer); got != "active" {
		t.Errorf("after the agent unfroze it the wallet is %s", got)
	}

	var page struct {
		Items []struct {
			Action string
			Actor  struct{ Kind, ID string }
			Detail map[string]string
		}
	}
	apiJSON(t, srv, "GET", "/v1/admin/audit?limit=10", staffToken(t, srv, dev.Admin), "", nil, &page)
	seen := map[string]map[string]string{}
	for _, r := range page.Items {
		if r.Actor.Kind == "staff" && strings.HasPrefix(r.Action, "wallet.") {
			seen[r.Action] = r.Detail
		}
	}
	if seen["wallet.freeze"] == nil || seen["wallet.unfreeze"] == nil {
		t.Errorf("the audit log has %v, want wallet.freeze and wallet.unfreeze by staff", seen)
	}
}

// TestBrowserStaffAnswersTicket: a customer opens a ticket in the app; an agent
// finds it in the queue, replies (and so takes it), sees the customer's answer
// arrive without reloading, and resolves it; the customer sees the reply.
func TestBrowserStaffAnswersTicket(t *testing.T) {
	srv, dev := startStaffServer(t)
	_, customer := customerWithCard(t, srv)
	var tk struct{ ID string }
	if st := apiJSON(t, srv, "POST", "/v1/tickets", customer, "", map[string]string{"category": "payment_failed",
		"subject": "付款失败了", "message": "昨天在便利店付款显示失败，请帮忙看看。"}, &tk); st != 201 {
		t.Fatalf("open a ticket: %d", st)
	}

	b := newBrowser(t, srv)
	b.staffSignIn(dev.Agent)
	b.click("#nav-tickets")
	row := fmt.Sprintf(`#tickets tr[data-ticket=%q]`, tk.ID)
	b.waitFor(row)
	b.click(row + " a")
	b.waitFor(`#thread .msg.customer[data-seq="1"]`)
	if got := b.text("#ticket-subject"); got != "付款失败了" {
		t.Errorf("subject %q", got)
	}
	if got := b.text("#ticket-head"); strings.Contains(got, "13") && !strings.Contains(got, "****") {
		t.Errorf("the ticket shows an unmasked phone: %q", got)
	}

	const answer = "您好，我们查到这笔付款因网络超时未扣款，请放心重试。"
	b.fill("#reply-message", answer)
	b.click("#reply-form button[type=submit]")
	b.waitFor(`#thread .msg.agent[data-seq="2"]`)
	b.waitText("#ticket-assignee", "我")

	var th struct {
		Status   string
		Messages []struct{ Author, Body string }
	}
	apiJSON(t, srv, "GET", "/v1/tickets/"+tk.ID, customer, "", nil, &th)
	if th.Status != "answered" || len(th.Messages) != 2 || th.Messages[1].Author != "agent" || th.Messages[1].Body != answer {
		t.Errorf("the customer sees %+v, want the agent's answer", th)
	}

	// The customer answers; the open thread shows it by itself.
	if st := apiJSON(t, srv, "POST", "/v1/tickets/"+tk.ID+"/messages", customer, "", map[string]string{"message": "好的，谢谢！"}, nil); st != 201 {
		t.Fatalf("customer reply: %d", st)
	}
	b.waitText(`#thread .msg.customer[data-seq="3"] .msg-body`, "好的，谢谢！")
	b.screenshot("staff-ticket")

	b.click("#ticket-resolve")
	b.waitFor(`#ticket-head [data-status="resolved"]`)
	apiJSON(t, srv, "GET", "/v1/tickets/"+tk.ID, customer, "", nil, &th)
	if th.Status != "resolved" {
		t.Errorf("after resolving, the customer's ticket is %s", th.Status)
	}
}

// TestBrowserStaffVerifiesLedger: after a customer pays a shop, an admin sees the
// payment on the dashboard's chart and totals, and runs the ledger verification,
// whose figures are the API's.
func TestBrowserStaffVerifiesLedger(t *testing.T) {
	srv, dev := startStaffServer(t)
	phone, customer := customerWithCard(t, srv)
	// The opening red packet (¥8.88 from the demo campaign) pays a ¥5 order.
	apiJSON(t, srv, "POST", "/v1/otp", "", "", map[string]string{"phone": phone, "purpose": "set_payment_password"}, nil)
	if st := apiJSON(t, srv, "PUT", "/v1/wallet/payment-password", customer, "", map[string]string{"password": "528471", "otp": devCode(t, srv, phone)}, nil); st != 204 {
		t.Fatalf("payment password: %d", st)
	}
	order, _ := merchantOrder(t, srv, dev.Merchant.APIKey, 500, "一杯豆浆")
	if st := apiJSON(t, srv, "POST", "/v1/orders/"+order+"/pay", customer, "staff-pay-1", map[string]string{"method": "balance", "payment_password": "528471"}, nil); st != 201 {
		t.Fatalf("pay: %d", st)
	}

	b := newBrowser(t, srv)
	b.staffSignIn(dev.Admin)
	b.waitFor("#dash-chart svg rect.bar")
	if got := b.text("#dash-count"); got != "1" {
		t.Errorf("dashboard payments %q, want 1", got)
	}
	if got := b.text("#dash-amount"); got != "¥5.00" {
		t.Errorf("dashboard amount %q, want ¥5.00", got)
	}
	bars := get(b, "bars", chromedp.Evaluate[[]int](`[...document.querySelectorAll('#dash-chart rect.bar')].map((r) => Number(r.dataset.count))`))
	sum := 0
	for _, n := range bars {
		sum += n
	}
	if len(bars) != 60 || sum != 1 {
		t.Errorf("the chart has %d bars counting %d payments, want 60 and 1", len(bars), sum)
	}
	b.screenshot("staff-dashboard")

	b.click("#nav-ledger")
	b.click("#ledger-run")
	b.waitFor(`#ledger-result[data-ok="true"]`)
	var rep struct {
		Transfers, Postings, Accounts int64
		HeadHash                      string `json:"head_hash"`
	}
	apiJSON(t, srv, "GET", "/v1/admin/ledger/verify", staffToken(t, srv, dev.Admin), "", nil, &rep)
	figure := func(sel string) string { return strings.ReplaceAll(b.text(sel), ",", "") }
	for sel, want := range map[string]int64{"#ledger-transfers": rep.Transfers, "#ledger-postings": rep.Postings, "#ledger-accounts": rep.Accounts} {
		if got := figure(sel); got != fmt.Sprint(want) || want == 0 {
			t.Errorf("%s shows %s, the API says %d", sel, got, want)
		}
	}
	if got := b.text("#ledger-head-hash"); got != rep.HeadHash || len(got) != 64 {
		t.Errorf("head hash %q, the API says %q", got, rep.HeadHash)
	}
	if got := b.text(`#ledger-units tr[data-unit="CNY"] td`); got != "¥0.00" {
		t.Errorf("CNY balances sum to %q, want ¥0.00", got)
	}
	b.screenshot("staff-ledger")
}

// TestBrowserStaffStartsReset: an agent looks a customer up and sees the balance,
// the payment password's state and the top-up in the history; the API tells them
// a reset needs an identity check; they start one with the check made. The
// customer's payment with the old password is then refused in the app with the
// API's words and a way to the reset; the inbox has the notice, and the settings
// screen opens the reset (SMS code and ID number).
func TestBrowserStaffStartsReset(t *testing.T) {
	srv, dev := startStaffServer(t)
	phone := newPhone()
	const password, payPassword = "my secret 8", "528471"
	tok := openWallet(t, srv, phone, password, payPassword, 10000)

	b := newBrowser(t, srv)
	b.staffSignIn(dev.Agent)
	b.fill("#cust-phone", phone)
	b.click("#cust-search button[type=submit]")
	b.waitFor(`#paypw-status [data-status="set"]`)
	if got := b.text("#wallet-balance"); got != "¥100.00" {
		t.Errorf("the agent sees a balance of %q, want ¥100.00", got)
	}
	if got := b.text("#customer"); strings.Contains(got, phone) || !strings.Contains(got, phone[:3]+"****"+phone[7:]) ||
		strings.Contains(got, "11010519491231002X") || strings.Contains(got, "6222026000001234") {
		t.Errorf("the look-up shows a full phone, ID or card number, or no masked phone: %q", got)
	}
	row := `#history-table tr[data-kind="topup"][data-status="succeeded"]`
	if got := b.text(row); !strings.Contains(got, "充值") || !strings.Contains(got, "+¥100.00") || !strings.Contains(got, "**** 1234") {
		t.Errorf("the history's top-up row says %q", got)
	}

	// No identity check: the API's own words.
	b.click("#reset-form button[type=submit]")
	if got := b.text("#reset-form .alert.error .detail"); got != "identity_check is required" {
		t.Errorf("starting a reset without an identity check shows %q", got)
	}
	const check = "来电核验：客户报出姓名、身份证后四位及绑定卡后四位，均一致"
	b.fill("#reset-check", check)
	b.click("#reset-form button[type=submit]")
	b.waitFor(`#paypw-status [data-status="reset_required"]`)
	b.waitFor("#reset-pending")
	b.run("scroll to the top", chromedp.Evaluate[chromedp.Void](`scrollTo(0, 0)`))
	b.screenshot("staff-customer-reset")

	var page struct {
		Items []struct {
			Action string
			Actor  struct{ Kind, ID string }
			Detail map[string]string
		}
	}
	apiJSON(t, srv, "GET", "/v1/admin/audit?limit=20", staffToken(t, srv, dev.Admin), "", nil, &page)
	seen := map[string]int{}
	for _, r := range page.Items {
		if r.Actor.Kind == "staff" {
			seen[r.Action]++
			if r.Action == "wallet.payment_password_reset_start" && r.Detail["identity_check"] != check {
				t.Errorf("the reset's audit record has %v", r.Detail)
			}
		}
	}
	if seen["wallet.view"] == 0 || seen["wallet.history.view"] == 0 || seen["wallet.payment_password_reset_start"] != 1 {
		t.Errorf("the agent's audit records: %v", seen)
	}

	// The customer pays with the old password, on their phone: refused, and told why.
	b.run("a phone", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	b.signIn(phone, password)
	_, link := merchantOrder(t, srv, dev.Merchant.APIKey, 2000, "重置测试")
	b.visit("pay/" + link[strings.LastIndex(link, "/")+1:])
	b.waitFor("#pay-form")
	b.click("#pay-submit")
	b.keypad(payPassword)
	sel := `#pay-form .error[data-code="payment_password_locked"]`
	if got := b.text(sel); !strings.Contains(got, "customer service") || !strings.Contains(got, "支付密码已锁定") {
		t.Errorf("the refusal says %q, want the API's detail and the app's hint", got)
	}
	b.waitFor(sel + ` a[href="#/settings"]`)
	var w struct {
		Balance         int64
		PaymentPassword string `json:"payment_password"`
	}
	apiJSON(t, srv, "GET", "/v1/wallet", tok, "", nil, &w)
	if w.Balance != 10000 || w.PaymentPassword != "reset_required" {
		t.Errorf("after the refused payment the wallet has %d fen, payment password %q", w.Balance, w.PaymentPassword)
	}

	// The inbox has the notice; the settings screen opens the reset.
	b.dismiss()
	b.visit("inbox")
	note := `#inbox li[data-kind="payment_password.reset_required"]`
	if got := b.text(note); !strings.Contains(got, "客服已应你的要求锁定支付密码") || strings.Contains(got, "¥") {
		t.Errorf("the inbox says %q", got)
	}
	b.click(note + ` a[href="#/settings"]`)
	b.waitFor("#paypw-reset-required")
	b.waitFor("#paypw-reset[open] form")
	b.screenshot("wallet-reset-required")

	// The reset: an SMS code, the ID number and a new password; then it pays.
	code := b.smsCode("#paypw-reset", "reset_payment_password")
	b.fill("#paypw-reset input[name=otp]", code)
	b.fill("#paypw-reset input[name=id_number]", "11010519491231002X")
	b.click("#paypw-reset button[type=submit]")
	b.keypad("640193")
	b.keypad("640193")
	get(b, "the reset is done", chromedp.Poll[bool](`!document.getElementById('paypw-reset-required') && !!document.getElementById('paypw')`))
	apiJSON(t, srv, "GET", "/v1/wallet", tok, "", nil, &w)
	if w.PaymentPassword != "set" {
		t.Errorf("after the reset the payment password is %q", w.PaymentPassword)
	}
	order, _ := merchantOrder(t, srv, dev.Merchant.APIKey, 2000, "重置之后")
	if st := apiJSON(t, srv, "POST", "/v1/orders/"+order+"/pay", tok, "reset-pay", map[string]string{"method": "balance", "payment_password": "640193"}, nil); st != 201 {
		t.Errorf("a payment with the new password: %d", st)
	}
}
