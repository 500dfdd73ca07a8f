package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// The browser tests drive the customer wallet app (package web) in real headless
// Chromium against the real program, `hebao serve --dev` on 127.0.0.1 with a new
// data directory. Without Chromium they skip, except under CI=true, where they fail.
// Any JavaScript console error or uncaught exception fails the test. With
// HEBAO_SCREENSHOTS=1 they save screenshots to docs/screenshots/.

// browserTimeout bounds each browser test, start to end, and stepTimeout each
// step of it (a wait for the page to show something).
const (
	browserTimeout = 3 * time.Minute
	stepTimeout    = 30 * time.Second
)

// chromium returns the path of a Chromium (or Chrome) to drive.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("no Chromium on PATH (chromium, chromium-browser, google-chrome): CI needs it for the browser tests; .ci/run installs Debian's chromium")
	}
	t.Skip("no Chromium on PATH: the browser tests are skipped (apt-get install chromium)")
	return ""
}

// browser is one headless Chromium tab on the app, with the JavaScript errors it
// has seen.
type browser struct {
	t   *testing.T
	ctx context.Context
	srv *server

	mu   sync.Mutex
	errs []string
}

// newBrowser starts Chromium on a phone-sized screen (390×844) for srv. It reaches
// 127.0.0.1 only: every other host name resolves to nothing.
func newBrowser(t *testing.T, srv *server) *browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromium(t)),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("host-resolver-rules", "MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"),
		chromedp.Flag("no-proxy-server", true),
		chromedp.WindowSize(390, 844),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelTab := chromedp.NewContext(allocCtx)
	ctx, cancelTime := context.WithTimeout(ctx, browserTimeout)
	b := &browser{t: t, ctx: ctx, srv: srv}
	err := chromedp.Listen(ctx, func(ev any) {
		switch ev := ev.(type) {
		case *runtime.EventConsoleAPICalled:
			if ev.Type == runtime.ConsoleAPICalledTypeError || ev.Type == runtime.ConsoleAPICalledTypeAssert {
				var parts []string
				for _, a := range ev.Args {
					if a.Value != nil {
						parts = append(parts, string(a.Value))
					} else {
						parts = append(parts, a.Description)
					}
				}
				b.fail("console." + string(ev.Type) + ": " + strings.Join(parts, " "))
			}
		case *runtime.EventExceptionThrown:
			d := ev.ExceptionDetails
			msg := d.Text
			if d.Exception != nil {
				msg += " " + d.Exception.Description
			}
			b.fail(fmt.Sprintf("uncaught exception at %s:%d: %s", d.URL, d.LineNumber, msg))
		}
	})
	t.Cleanup(func() {
		cancelTime()
		cancelTab()
		cancelAlloc()
	})
	if err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	b.run("start", chromedp.EmulateViewport(390, 844, chromedp.EmulateScale(2)))
	return b
}

func (b *browser) fail(msg string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.errs = append(b.errs, msg)
}

// checkJS fails the test on any JavaScript error seen so far.
func (b *browser) checkJS() {
	b.t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, e := range b.errs {
		b.t.Errorf("JavaScript error: %s", e)
	}
	b.errs = nil
}

// run runs chromedp actions as one named step, failing the test with the step's
// name, the page's address and its text when it does not finish.
func (b *browser) run(step string, actions ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, actions...); err != nil {
		b.stop(step, err)
	}
	b.checkJS()
}

// stop fails the test at step, with the page's address and text.
func (b *browser) stop(step string, err error) {
	b.t.Helper()
	b.checkJS()
	ctx, cancel := context.WithTimeout(b.ctx, 5*time.Second)
	defer cancel()
	url, _ := chromedp.Run(ctx, chromedp.Location())
	text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.body.innerText`))
	shot := ""
	if png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot()); err == nil {
		shot = filepath.Join(os.TempDir(), "hebao-"+strings.ReplaceAll(b.t.Name(), "/", "-")+".png")
		if os.WriteFile(shot, png, 0o644) != nil {
			shot = ""
		}
	}
	var log []string // without the dev banner's polling
	for _, l := range strings.Split(strings.TrimSpace(b.srv.stderr.String()), "\n") {
		if !strings.Contains(l, "route=/v1/dev/sms") {
			log = append(log, l)
		}
	}
	log = log[max(0, len(log)-15):]
	b.t.Fatalf("%s: %v\nat %s (screenshot %s)\n%s\nthe server's last log lines:\n%s", step, err, url, shot, text, strings.Join(log, "\n"))
}

// get runs one action that returns a value, as a named step.
func get[T any](b *browser, step string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, stepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.stop(step, err)
	}
	b.checkJS()
	return v
}

// text returns the text of the first element sel matches, once it is visible.
func (b *browser) text(sel string) string {
	b.t.Helper()
	b.waitFor(sel)
	return strings.TrimSpace(get(b, "read "+sel, chromedp.Text(chromedp.CSS(sel))))
}

// fill types into an input; SetValue for text an on-screen keyboard would give
// (such as Chinese), SendKeys for ASCII as a person types it.
func (b *browser) fill(sel, value string) {
	b.t.Helper()
	ascii := true
	for _, r := range value {
		if r > 127 {
			ascii = false
		}
	}
	if ascii {
		b.run("type into "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelector(%q).value = ''`, sel)), chromedp.SendKeys(chromedp.CSS(sel), value))
	} else {
		b.run("fill "+sel, chromedp.WaitVisible(chromedp.CSS(sel)), chromedp.SetValue(chromedp.CSS(sel), value))
	}
}

func (b *browser) click(sel string) {
	b.t.Helper()
	b.run("click "+sel, chromedp.Click(chromedp.CSS(sel)))
}

// visit moves the app to a route, as a link in it would: the page stays loaded and its
// live notifications connected.
func (b *browser) visit(route string) {
	b.t.Helper()
	b.run("go to #/"+route, chromedp.Evaluate[chromedp.Void](`location.hash = '#/`+route+`'`))
}

// waitText waits until the first element sel matches has the text want.
func (b *browser) waitText(sel, want string) {
	b.t.Helper()
	js := fmt.Sprintf(`document.querySelector(%q)?.textContent.trim() === %q`, sel, want)
	if _, err := chromedp.Run(b.ctx, chromedp.Poll[bool](js, chromedp.WithPollingTimeout(20*time.Second))); err != nil {
		b.t.Errorf("%s: want %q, have %q (%v)", sel, want, b.text(sel), err)
	}
	b.checkJS()
}

// dismiss takes the messages off the screen, as a person swipes away a
// notification that covers the button they want.
func (b *browser) dismiss() {
	b.t.Helper()
	b.run("dismiss the messages", chromedp.Evaluate[chromedp.Void](`document.querySelectorAll('.toast').forEach((e) => e.remove())`))
}

func (b *browser) waitFor(sel string) {
	b.t.Helper()
	b.run("wait for "+sel, chromedp.WaitVisible(chromedp.CSS(sel)))
}

// smsCode sends the code the form's "send code" button asks for and reads it
// from the development SMS banner, as a developer trying the app would.
func (b *browser) smsCode(form, purpose string) string {
	b.t.Helper()
	b.click(form + ` .code-btn[data-purpose="` + purpose + `"]`)
	return b.bannerCode(purpose)
}

// bannerCode waits for the dev banner to show a code for purpose, and returns it.
func (b *browser) bannerCode(purpose string) string {
	b.t.Helper()
	sel := `#dev-banner .sms[data-purpose="` + purpose + `"]`
	b.waitFor(sel)
	code := get(b, "the dev banner's "+purpose+" code", chromedp.AttributeValue(chromedp.CSS(sel), "data-code")).Value
	if len(code) != 6 {
		b.t.Fatalf("the dev banner shows %q for %s", code, purpose)
	}
	return code
}

// keypad enters pin on the next payment-password keypad that opens.
func (b *browser) keypad(pin string) {
	b.t.Helper()
	n := get(b, "a keypad opens", chromedp.Poll[int](`(() => {
		const s = [...document.querySelectorAll('.keypad-sheet')].find((s) => !s.dataset.used);
		if (!s) return 0;
		s.dataset.used = '1';
		return Number(s.dataset.n);
	})()`, chromedp.WithPollingInterval(50*time.Millisecond)))
	for _, d := range pin {
		b.click(fmt.Sprintf(`.keypad-sheet[data-n="%d"] button[data-key="%c"]`, n, d))
	}
}

// screenshot saves the screen to docs/screenshots/name.png when
// HEBAO_SCREENSHOTS=1, without the passing messages on it.
func (b *browser) screenshot(name string) {
	b.t.Helper()
	b.capture(name, `#toasts .toast, #live-toasts .toast`)
}

// screenshotLive is screenshot with the live notifications left on the screen.
func (b *browser) screenshotLive(name string) {
	b.t.Helper()
	b.capture(name, `#toasts .toast`)
}

// capture saves the screen, after removing what clear selects, when
// HEBAO_SCREENSHOTS=1.
func (b *browser) capture(name, clear string) {
	b.t.Helper()
	if os.Getenv("HEBAO_SCREENSHOTS") != "1" {
		return
	}
	b.run("settle", chromedp.Evaluate[chromedp.Void](fmt.Sprintf(`document.querySelectorAll(%q).forEach((e) => e.remove())`, clear)),
		chromedp.Sleep(300*time.Millisecond))
	png := get(b, "screenshot "+name, chromedp.CaptureScreenshot())
	dir := filepath.Join("..", "..", "docs", "screenshots")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		b.t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		b.t.Fatal(err)
	}
}

// startDevServer serves the real program in development mode on a new data
// directory and returns it with the seeded demo merchant's API key.
func startDevServer(t *testing.T) (*server, string) {
	t.Helper()
	dir := t.TempDir()
	srv := startServer(t, "--dev", "--data-dir", dir)
	b, err := os.ReadFile(filepath.Join(dir, "dev.json"))
	if err != nil {
		t.Fatal(err)
	}
	var dev devFile
	if err := json.Unmarshal(b, &dev); err != nil || dev.Merchant == nil {
		t.Fatalf("dev.json: %v %s", err, b)
	}
	return srv, dev.Merchant.APIKey
}

// apiJSON calls the API as a client would; it returns the status and decodes a
// JSON answer into out.
func apiJSON(t *testing.T, srv *server, method, path, token, idem string, body, out any) int {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, srv.url+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if idem != "" {
		req.Header.Set("Idempotency-Key", idem)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: %v\n%s", method, path, err, b)
		}
	}
	if resp.StatusCode >= 300 {
		t.Logf("%s %s: %d %s", method, path, resp.StatusCode, b)
	}
	return resp.StatusCode
}

// devCode reads the latest SMS code sent to phone from the development inbox.
func devCode(t *testing.T, srv *server, phone string) string {
	t.Helper()
	var inbox struct {
		Messages []struct{ Text string } `json:"messages"`
	}
	if apiJSON(t, srv, "GET", "/v1/dev/sms?phone="+phone, "", "", nil, &inbox) != 200 || len(inbox.Messages) == 0 {
		t.Fatalf("no SMS for %s", phone)
	}
	for _, f := range strings.Fields(strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return ' '
	}, inbox.Messages[0].Text)) {
		if len(f) == 6 {
			return f
		}
	}
	t.Fatalf("no code in %q", inbox.Messages[0].Text)
	return ""
}

// merchantOrder creates an order through the merchant API, as a shop would, and
// returns its id and pay link (the QR code's payload).
func merchantOrder(t *testing.T, srv *server, apiKey string, amount int64, subject string) (id, link string) {
	t.Helper()
	var o struct {
		ID         string `json:"id"`
		QRPayload  string `json:"qr_payload"`
		OutTradeNo string `json:"out_trade_no"`
	}
	no := fmt.Sprintf("web%d", time.Now().UnixNano())
	if st := apiJSON(t, srv, "POST", "/v1/merchant/orders", apiKey, "", map[string]any{"out_trade_no": no, "amount": amount, "subject": subject}, &o); st != 201 {
		t.Fatalf("create order: %d", st)
	}
	return o.ID, o.QRPayload
}

// openWallet opens a wallet through the API, as another device would: real name
// 张三, the sandbox card, the payment password, and a top-up of fen. It returns the
// session token.
func openWallet(t *testing.T, srv *server, phone, password, payPassword string, fen int64) string {
	t.Helper()
	if st := apiJSON(t, srv, "POST", "/v1/otp", "", "", map[string]string{"phone": phone, "purpose": "register"}, nil); st != 202 {
		t.Fatalf("register code: %d", st)
	}
	var reg struct{ Token string }
	if st := apiJSON(t, srv, "POST", "/v1/customers", "", "", map[string]string{"phone": phone, "otp": devCode(t, srv, phone), "password": password, "device_id": "other-phone"}, &reg); st != 201 {
		t.Fatalf("register: %d", st)
	}
	tok := reg.Token
	if st := apiJSON(t, srv, "POST", "/v1/wallet/real-name", tok, "", map[string]string{"name": "张三", "id_number": "11010519491231002X"}, nil); st != 200 {
		t.Fatalf("real name: %d", st)
	}
	apiJSON(t, srv, "POST", "/v1/otp", "", "", map[string]string{"phone": phone, "purpose": "bind_card"}, nil)
	var card struct{ ID string }
	if st := apiJSON(t, srv, "POST", "/v1/cards", tok, "", map[string]string{"card_number": "6222026000001234", "holder_name": "张三", "otp": devCode(t, srv, phone)}, &card); st != 201 {
		t.Fatalf("bind card: %d", st)
	}
	apiJSON(t, srv, "POST", "/v1/otp", "", "", map[string]string{"phone": phone, "purpose": "set_payment_password"}, nil)
	if st := apiJSON(t, srv, "PUT", "/v1/wallet/payment-password", tok, "", map[string]string{"password": payPassword, "otp": devCode(t, srv, phone)}, nil); st != 204 {
		t.Fatalf("payment password: %d", st)
	}
	var top struct{ ID, Status string }
	if st := apiJSON(t, srv, "POST", "/v1/topups", tok, "open-topup", map[string]any{"card_id": card.ID, "amount": fen}, &top); st != 202 {
		t.Fatalf("top-up: %d", st)
	}
	for i := 0; top.Status == "pending" && i < 100; i++ {
		time.Sleep(100 * time.Millisecond)
		apiJSON(t, srv, "GET", "/v1/topups/"+top.ID, tok, "", nil, &top)
	}
	if top.Status != "succeeded" {
		t.Fatalf("top-up %s", top.Status)
	}
	return tok
}

// signIn signs in on this browser: a device the customer has not used, so the app
// asks for the login code, read from the dev banner.
func (b *browser) signIn(phone, password string) {
	b.t.Helper()
	b.run("open sign-in", chromedp.Navigate(b.srv.url+"/#/signin"), chromedp.WaitVisible(chromedp.CSS("#signin-form")))
	b.fill("#signin-form input[name=phone]", phone)
	b.fill("#signin-form input[name=password]", password)
	b.click("#signin-form button[type=submit]")
	b.waitFor("#signin-form input[name=otp]")
	if got := b.text("#signin-form .error"); !strings.Contains(got, "code") {
		b.t.Errorf("the step-up answer shows %q", got)
	}
	b.fill("#signin-form input[name=otp]", b.bannerCode("login"))
	b.click("#signin-form button[type=submit]")
	b.waitFor("#balance-card")
}

// newPhone returns a mobile number no other test uses.
func newPhone() string {
	return fmt.Sprintf("139%08d", time.Now().UnixNano()%100_000_000)
}

// TestBrowserNewCustomerPays is the first customer's whole day: sign up with the
// SMS code from the dev banner, open the wallet (real name, card, face check,
// payment password) and see the opening gifts, top up ¥500 from the sandbox card,
// pay a shop's order with a coupon, and see the payment in the history and as a
// live notification.
func TestBrowserNewCustomerPays(t *testing.T) {
	chromium(t) // skip before starting anything
	srv, apiKey := startDevServer(t)
	b := newBrowser(t, srv)
	phone := newPhone()
	const payPassword = "528471"

	b.run("open the app", chromedp.Navigate(srv.url+"/"), chromedp.WaitVisible(chromedp.CSS("#go-signup")))
	b.screenshot("wallet-welcome")
	b.click("#go-signup")

	// Sign up: phone, the register code from the dev banner, a login password.
	b.fill("#signup-form input[name=phone]", phone)
	code := b.smsCode("#signup-form", "register")
	b.fill("#signup-form input[name=otp]", code)
	b.fill("#signup-form input[name=password]", "short")
	b.click("#signup-form button[type=submit]")
	if got := b.text("#signup-form .field-error:not([hidden])"); !strings.Contains(got, "8") {
		t.Errorf("a short login password: the form says %q", got)
	}
	b.fill("#signup-form input[name=password]", "my secret 8")
	b.click("#signup-form button[type=submit]")

	// The opening steps, with the gifts of the demo campaign.
	b.waitFor("#realname-form")
	if got := b.text("#gift-promo"); got != "¥8.88" {
		t.Errorf("opening red packet shows %q, want ¥8.88", got)
	}
	if got := b.text("#gifts"); !strings.Contains(got, "满 ¥30.00 减 ¥5.00") || !strings.Contains(got, "10% 折扣") {
		t.Errorf("the gifts do not show both coupons: %q", got)
	}
	b.screenshot("wallet-open-gifts")
	b.fill("#realname-form input[name=name]", "张三")
	b.fill("#realname-form input[name=id_number]", "110105194912310021")
	b.click("#realname-form button[type=submit]")
	if got := b.text("#realname-form .field-error:not([hidden])"); got == "" {
		t.Error("a mistyped ID number was not caught by the form")
	}
	b.fill("#realname-form input[name=id_number]", "11010519491231002X")
	b.click("#realname-form button[type=submit]")

	b.waitFor("#card-form")
	holder := get(b, "card holder", chromedp.Value(chromedp.CSS("#card-form input[name=holder_name]")))
	if holder != "张三" {
		t.Errorf("card holder prefilled with %q, want the real name", holder)
	}
	b.fill("#card-form input[name=card_number]", "6222 0260 0000 1234")
	b.fill("#card-form input[name=otp]", b.smsCode("#card-form", "bind_card"))
	b.click("#card-form button[type=submit]")

	b.waitFor("#face-form")
	b.click("#face-test")

	b.waitFor("#paypw-form")
	b.fill("#paypw-form input[name=otp]", b.smsCode("#paypw-form", "set_payment_password"))
	b.click("#paypw-form button[type=submit]")
	b.keypad(payPassword)
	b.keypad(payPassword)
	b.waitFor("#open-done")
	if got := b.text("#open-done"); !strings.Contains(got, "2") {
		t.Errorf("the wallet is not tier 2 after opening: %q", got)
	}
	b.click("#open-done a.btn")

	// Home: balance, red packet, tier.
	b.waitFor("#balance-card")
	if got := b.text("#promo-balance"); got != "¥8.88" {
		t.Errorf("home red packet %q", got)
	}
	if got := b.text("#tier"); got != "二类钱包" {
		t.Errorf("home tier %q", got)
	}

	// Top up ¥500 from the sandbox card, and wait for the bank.
	b.click("#go-topup")
	b.fill("#topup-form input[name=amount]", "5OO")
	b.click("#topup-form button[type=submit]")
	if got := b.text("#topup-form .field-error:not([hidden])"); got == "" {
		t.Error("a mistyped amount was not caught")
	}
	b.fill("#topup-form input[name=amount]", "500")
	b.click("#topup-form button[type=submit]")
	b.waitFor(`#move-done[data-status="succeeded"]`)
	if got := b.text("#move-done .amount"); got != "¥500.00" {
		t.Errorf("top-up shows %q", got)
	}

	// A shop creates an order; the customer opens its pay link in the app.
	b.run("live notifications connect", chromedp.WaitVisible(chromedp.CSS(`body[data-live="open"]`)))
	_, link := merchantOrder(t, srv, apiKey, 12800, "荷包测试订单")
	b.visit("scan")
	b.fill("#scan-form input[name=link]", link)
	b.click("#scan-form button[type=submit]")
	b.waitFor("#pay-form")
	if got := b.text("#order-amount"); got != "¥128.00" {
		t.Errorf("order amount %q", got)
	}
	if got := b.text("#order-merchant"); got != "Hebao Demo Shop" {
		t.Errorf("merchant %q", got)
	}
	// The best coupon is chosen: 10% of ¥128 capped at ¥10 beats ¥5 off ¥30.
	if got := b.text("#pay-due"); got != "¥118.00" {
		t.Errorf("due with the coupon %q, want ¥118.00", got)
	}
	b.screenshot("wallet-pay")
	b.click("#pay-submit")
	b.keypad(payPassword)
	b.waitFor(`#pay-done[data-status="succeeded"]`)
	b.run("the live notification", chromedp.WaitVisible(chromedp.CSS(`.toast.live[data-kind="payment.succeeded"]`)))
	if got := b.text(`.toast.live[data-kind="payment.succeeded"]`); !strings.Contains(got, "Hebao Demo Shop") {
		t.Errorf("live notification %q", got)
	}
	if got := b.text("#bell .badge"); got == "" || got == "0" {
		t.Errorf("unread badge %q after live notifications", got)
	}
	b.screenshotLive("wallet-paid")

	// The history shows the payment, and the balance what is left: the red packet
	// went first, then ¥109.12 of the ¥500.
	b.click(`#tabs a[href="#/history"]`)
	sel := `#history .tx[data-kind="payment"][data-status="succeeded"]`
	b.waitFor(sel)
	if got := b.text(sel); !strings.Contains(got, "Hebao Demo Shop") || !strings.Contains(got, "¥") {
		t.Errorf("history payment line %q", got)
	}
	b.screenshot("wallet-history")
	b.click(`#tabs a[href="#/"]`)
	b.waitFor("#balance-card")
	if got := b.text("#balance"); got != "¥390.88" {
		t.Errorf("balance after paying %q, want ¥390.88", got)
	}
	if got := b.text("#promo-balance"); got != "¥0.00" {
		t.Errorf("red packet after paying %q", got)
	}
	b.screenshot("wallet-home")

	// The payment earned 109 points, one for each whole yuan of the ¥109.12 paid
	// from the balance (red-packet money earns none): 100 of them buy ¥1.00 from
	// the demo campaign.
	b.visit("rewards")
	b.waitText("#points-total", "109")
	b.click("form.offer button[type=submit]")
	b.waitText("#points-total", "9")
	b.visit("")
	b.waitText("#balance", "¥391.88")

	// The payment code: 18 digits starting 81, with its barcode and QR code.
	b.click(`#tabs a[href="#/code"]`)
	b.waitFor(".paycode svg.qr")
	payCode := get(b, "payment code", chromedp.AttributeValue(chromedp.CSS(".paycode"), "data-code")).Value
	if len(payCode) != 18 || !strings.HasPrefix(payCode, "81") {
		t.Errorf("payment code %q", payCode)
	}
	b.waitFor(".paycode svg.barcode")
	b.screenshot("wallet-paycode")

	// A desktop-sized window shows the same app in a centred column.
	b.run("desktop", chromedp.EmulateViewport(1280, 800))
	b.visit("")
	b.waitFor("#balance-card")
	b.screenshot("wallet-desktop")
}

// TestBrowserFrozenWalletCannotPay: a customer whose wallet was opened elsewhere
// signs in on this new device (with the SMS step-up), reports the phone lost,
// and a payment is then refused with the frozen explanation; the English switch
// holds across a reload.
func TestBrowserFrozenWalletCannotPay(t *testing.T) {
	chromium(t) // skip before starting anything
	srv, apiKey := startDevServer(t)
	phone := newPhone()
	const password, payPassword = "my secret 8", "528471"

	tok := openWallet(t, srv, phone, password, payPassword, 10000)
	b := newBrowser(t, srv)
	b.signIn(phone, password)
	if got := b.text("#balance"); got != "¥100.00" {
		t.Errorf("balance %q", got)
	}

	// Report the phone lost: the wallet freezes.
	b.click(`#tabs a[href="#/settings"]`)
	b.waitFor("#freeze-form")
	b.click("#freeze-submit")
	b.click("#confirm-ok")
	b.waitFor(`#wallet-status[data-status="frozen"]`)
	b.waitFor("#unfreeze-form")

	// A payment is refused, and the page says why.
	_, link := merchantOrder(t, srv, apiKey, 2000, "冻结测试")
	b.visit("pay/" + link[strings.LastIndex(link, "/")+1:])
	b.waitFor("#pay-form")
	b.click("#pay-submit")
	b.keypad(payPassword)
	sel := `#pay-form .error[data-code="wallet_frozen"]`
	b.waitFor(sel)
	got := b.text(sel)
	if !strings.Contains(got, "frozen") || !strings.Contains(got, "钱包已冻结") {
		t.Errorf("the refusal says %q, want the API's detail and the frozen explanation", got)
	}
	b.screenshot("wallet-frozen-refused")
	var bal struct{ Balance int64 }
	apiJSON(t, srv, "GET", "/v1/wallet", tok, "", nil, &bal)
	if bal.Balance != 10000 {
		t.Errorf("balance after the refused payment: %d", bal.Balance)
	}

	// English, kept across a reload.
	b.dismiss()
	b.click("#lang")
	b.waitText("#pay-submit", "Pay now")
	b.run("reload", chromedp.Reload(), chromedp.WaitVisible(chromedp.CSS("#pay-form")))
	if got := b.text(`#tabs a[href="#/history"]`); !strings.Contains(got, "History") {
		t.Errorf("after a reload the tab says %q, want English", got)
	}
}

// TestBrowserMoneyModule checks the app's own amount parsing and formatting in the
// browser (whole fen by string handling, the server's ParseYuan rules) and how it
// keeps idempotency keys.
func TestBrowserMoneyModule(t *testing.T) {
	chromium(t) // skip before starting anything
	srv, _ := startDevServer(t)
	b := newBrowser(t, srv)
	b.run("open", chromedp.Navigate(srv.url+"/#/welcome"))
	b.waitFor("#go-signup")
	out := get(b, "money.js", chromedp.Evaluate[string](`(async () => {
			const m = await import('/assets/money.js');
			const cases = ['12.34', '0.1', '0.07', '12', '10000000000', '0', '012', '1.234', '-1', '1e3', '', ' 5 ', '1,000', '.5', '5.', '19.99', '0.29'];
			return JSON.stringify(cases.map((c) => [c, m.parseYuan(c)]).concat([[m.cny(123456789), m.cny(5), m.cny(-1999), m.plainYuan(100000)]]));
		})()`, chromedp.EvalAwaitPromise))
	want := `[["12.34",{"fen":1234}],["0.1",{"fen":10}],["0.07",{"fen":7}],["12",{"fen":1200}],["10000000000",{"fen":1000000000000}],["0",{"error":"amount.zero"}],["012",{"error":"amount.format"}],["1.234",{"error":"amount.format"}],["-1",{"error":"amount.format"}],["1e3",{"error":"amount.format"}],["",{"error":"amount.empty"}],[" 5 ",{"fen":500}],["1,000",{"error":"amount.format"}],[".5",{"error":"amount.format"}],["5.",{"error":"amount.format"}],["19.99",{"fen":1999}],["0.29",{"fen":29}]]`
	want = strings.TrimSuffix(want, "]") + `,["¥1,234,567.89","¥0.05","-¥19.99","1000.00"]]`
	if out != want {
		t.Errorf("money.js:\n got %s\nwant %s", out, want)
	}

	// An Idempotency-Key is kept while the same submission is retried (secrets
	// aside, as the server hashes it), and is new for another one or after success.
	keys := get(b, "Idem", chromedp.Evaluate[string](`(async () => {
		const { Idem } = await import('/assets/api.js');
		const i = new Idem();
		const a = i.for({ amount: 100, payment_password: '111111' });
		const retry = i.for({ amount: 100, payment_password: '222222', otp: '123456' });
		const other = i.for({ amount: 200, payment_password: '222222' });
		i.done();
		const again = i.for({ amount: 200, payment_password: '222222' });
		return [a === retry, retry !== other, other !== again, /^[0-9a-f-]{36}$/.test(a)].join(',');
	})()`, chromedp.EvalAwaitPromise))
	if keys != "true,true,true,true" {
		t.Errorf("Idem: %s", keys)
	}
}

// TestBrowserEveryScreen walks a customer through the rest of the app, in Chinese
// and then in English, with no JavaScript error anywhere: send money to another
// wallet, withdraw to the card, the cards, coupons and points, the history and one
// transaction, the inbox, the settings (saved and read back through the API), help,
// and the lost-phone page of a signed-out visitor.
func TestBrowserEveryScreen(t *testing.T) {
	chromium(t)
	srv, apiKey := startDevServer(t)
	phone, friend := newPhone(), "13700137000"
	const password, payPassword = "my secret 8", "528471"
	tok := openWallet(t, srv, phone, password, payPassword, 50000)
	apiJSON(t, srv, "POST", "/v1/otp", "", "", map[string]string{"phone": friend, "purpose": "register"}, nil)
	if st := apiJSON(t, srv, "POST", "/v1/customers", "", "", map[string]string{"phone": friend, "otp": devCode(t, srv, friend), "password": password, "device_id": "friend"}, nil); st != 201 {
		t.Fatalf("register the friend: %d", st)
	}
	b := newBrowser(t, srv)
	b.signIn(phone, password)

	// Send ¥12.34 to a friend's phone number; a mistyped amount is caught first.
	b.visit("transfer")
	b.fill("#transfer-form input[name=to]", friend)
	b.fill("#transfer-form input[name=amount]", "12.345")
	b.click("#transfer-form button[type=submit]")
	if got := b.text("#transfer-form .field-error:not([hidden])"); !strings.Contains(got, "两位小数") {
		t.Errorf("a third decimal: %q", got)
	}
	b.fill("#transfer-form input[name=amount]", "12.34")
	b.fill("#transfer-form input[name=memo]", "午饭")
	b.click("#transfer-form button[type=submit]")
	b.keypad(payPassword)
	b.waitFor(`#move-done[data-status="succeeded"]`)
	b.waitText("#move-done .amount", "¥12.34")

	// Withdraw ¥10 to the card, followed until the bank answers.
	b.visit("withdraw")
	b.fill("#withdraw-form input[name=amount]", "10")
	b.click("#withdraw-form button[type=submit]")
	b.keypad(payPassword)
	b.waitFor(`#move-done[data-status="succeeded"]`)

	// Settings: SMS alerts from ¥100, and no password-free payments, saved.
	b.visit("settings")
	b.fill("#settings-form input[name=sms_threshold]", "100")
	b.click("#settings-form input[name=pf_enabled]")
	b.click("#settings-form button[type=submit]")
	b.waitFor("#toasts .toast")
	var st struct {
		PasswordFree struct{ Enabled bool } `json:"password_free"`
		SMSThreshold *int64                 `json:"sms_threshold"`
	}
	for i := 0; i < 50 && (st.SMSThreshold == nil || *st.SMSThreshold != 10000); i++ {
		apiJSON(t, srv, "GET", "/v1/wallet/settings", tok, "", nil, &st)
		time.Sleep(50 * time.Millisecond)
	}
	if st.SMSThreshold == nil || *st.SMSThreshold != 10000 || st.PasswordFree.Enabled {
		t.Errorf("settings after saving ¥100 and no password-free payments: %+v", st)
	}

	// A till takes the payment code; without password-free payments it waits for
	// the customer, and the payment-code screen says so at once.
	b.visit("code")
	b.waitFor(".paycode svg.qr")
	code := get(b, "payment code", chromedp.AttributeValue(chromedp.CSS(".paycode"), "data-code")).Value
	var o struct{ Status string }
	if st := apiJSON(t, srv, "POST", "/v1/merchant/code-payments", apiKey, "", map[string]any{"out_trade_no": fmt.Sprintf("till%d", time.Now().UnixNano()),
		"auth_code": code, "amount": 3000, "subject": "豆浆油条"}, &o); st != 201 || o.Status != "USERPAYING" {
		t.Fatalf("code payment: %d %s", st, o.Status)
	}
	b.waitFor("#till-waiting .waiting")
	if got := b.text("#till-waiting .waiting"); !strings.Contains(got, "¥30.00") || !strings.Contains(got, "Hebao Demo Shop") {
		t.Errorf("the waiting till shows %q", got)
	}
	b.screenshot("wallet-till-waiting")
	// The app finds the waiting order through the pending payment's order_id and
	// confirms it with the payment password.
	if get(b, "confirm button", chromedp.AttributeValue(chromedp.CSS("#till-confirm"), "disabled")).Exists {
		t.Fatal("the till's payment cannot be confirmed in the app: the confirm button is disabled")
	}
	b.click("#till-confirm")
	b.keypad(payPassword)
	b.waitFor("#till-paid")

	for _, lang := range []string{"zh", "en"} {
		if lang == "en" {
			b.dismiss()
			b.click("#lang")
			b.waitText(`#tabs a[href="#/history"]`, "History")
		}
		for _, screen := range []struct{ route, sel string }{
			{"", "#balance-card"},
			{"cards", `#cards .bank-card`},
			{"rewards", "#coupons .coupon"},
			{"history", `#history .tx[data-kind="transfer_out"]`},
			{"inbox", `#inbox .note[data-kind="transfer_out.succeeded"]`},
			{"settings", "#freeze-form"},
			{"help", "#diagnosis h2"},
			{"scan", "#scan-form"},
			{"code", ".paycode svg.qr"},
			{"open", "#face-form"}, // opened through the API without the face check
		} {
			b.visit(screen.route)
			b.waitFor(screen.sel)
			switch {
			case lang == "zh" && (screen.route == "rewards" || screen.route == "settings" || screen.route == "help"):
				b.screenshot("wallet-" + screen.route)
			case lang == "en" && screen.route == "":
				b.screenshot("wallet-home-en")
			}
		}
		b.visit("history")
		b.click(`#history .tx[data-kind="withdrawal"] a`)
		b.waitFor(`#tx-detail[data-status="succeeded"]`)
	}

	// A visitor without a session reports a phone lost from the sign-in page.
	b.run("sign out", chromedp.Evaluate[chromedp.Void](`localStorage.removeItem('hebao.token')`), chromedp.Reload())
	b.waitFor("#go-signup")
	b.visit("lost")
	b.waitFor("#lost-form")
}
