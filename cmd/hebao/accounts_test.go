package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// TestCustomerFlowSQLite runs the opening flow of issue 3 on the real program with
// SQLite, then looks for secrets in the database files and the log.
func TestCustomerFlowSQLite(t *testing.T) {
	dir := t.TempDir()
	secrets := customerFlow(t, dir)
	files, _ := filepath.Glob(filepath.Join(dir, "hebao.db*"))
	if len(files) == 0 {
		t.Fatal("no database files")
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for what, s := range secrets {
			if bytes.Contains(b, []byte(s)) {
				t.Errorf("%s is in the raw bytes of %s", what, filepath.Base(name))
			}
		}
	}
}

// TestCustomerFlowPostgres runs the same flow with PostgreSQL.
func TestCustomerFlowPostgres(t *testing.T) {
	url := sqldbtest.PostgresSchema(t) // skips without HEBAO_TEST_POSTGRES
	customerFlow(t, t.TempDir(), "--db", url)
}

// e2e is a client of one running server.
type e2e struct {
	t *testing.T
	s *server
}

// call sends a JSON request and decodes a JSON answer into out (if not nil),
// failing the test unless the status is want.
func (c e2e) call(method, path, token, body string, want int, out any) {
	c.t.Helper()
	h := http.Header{"X-Request-Id": {"e2e-" + strings.ReplaceAll(strings.Trim(path, "/"), "/", "-")}}
	if body != "" {
		h.Set("Content-Type", "application/json")
	}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	resp, b := c.s.do(c.t, method, path, h, body)
	if resp.StatusCode != want {
		c.t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			c.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
}

var smsCode = regexp.MustCompile(`验证码 (\d{6})，`)

// code asks for an SMS code and reads it from the development inbox.
func (c e2e) code(phone, purpose string) string {
	c.t.Helper()
	c.call("POST", "/v1/otp", "", `{"phone": "`+phone+`", "purpose": "`+purpose+`"}`, 202, nil)
	var inbox struct {
		Messages []struct{ Text string } `json:"messages"`
	}
	c.call("GET", "/v1/dev/sms?phone="+phone, "", "", 200, &inbox)
	m := smsCode.FindStringSubmatch(inbox.Messages[0].Text)
	if m == nil {
		c.t.Fatalf("no code in %q", inbox.Messages[0].Text)
	}
	return m[1]
}

// customerFlow runs serve --dev on dir with args and goes through registration,
// the wallet, sign-out and sign-in, and the staff routes. It returns the secrets
// used, by name, after checking that none is in the log.
func customerFlow(t *testing.T, dir string, args ...string) map[string]string {
	s := startServer(t, append([]string{"--data-dir", dir, "--dev"}, args...)...)
	c := e2e{t, s}
	const (
		phone    = "13800138000"
		password = "Pa55word-of-the-e2e-test"
	)

	var reg struct {
		CustomerID string `json:"customer_id"`
		WalletID   string `json:"wallet_id"`
		Token      string `json:"token"`
	}
	body := func(kv ...string) string {
		m := map[string]string{}
		for i := 0; i < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	code := c.code(phone, "register")
	c.call("POST", "/v1/customers", "", body("phone", phone, "otp", code, "password", password, "device_id", "phone-1"), 201, &reg)
	var w struct {
		ID      string `json:"id"`
		Status  string `json:"status"`
		Tier    int    `json:"tier"`
		Balance int64  `json:"balance"`
		Promo   int64  `json:"promo_balance"`
		Limits  struct {
			BalanceCap *int64 `json:"balance_cap"`
		} `json:"limits"`
	}
	c.call("GET", "/v1/wallet", reg.Token, "", 200, &w)
	// --dev seeds an opening gift: a ¥8.88 red packet in the promo balance.
	if w.ID != reg.WalletID || w.Status != "active" || w.Tier != 4 || w.Balance != 0 || w.Promo != 888 || w.Limits.BalanceCap == nil || *w.Limits.BalanceCap != 1_000_000 {
		t.Errorf("wallet %+v", w)
	}
	c.call("DELETE", "/v1/sessions/current", reg.Token, "", 204, nil)
	c.call("GET", "/v1/wallet", reg.Token, "", 401, nil)

	var in struct {
		Token     string `json:"token"`
		ExpiresAt string `json:"expires_at"`
	}
	c.call("POST", "/v1/sessions", "", body("phone", phone, "password", password, "device_id", "phone-1"), 201, &in)
	c.call("GET", "/v1/wallet", in.Token, "", 200, nil)
	var p problemDoc
	c.call("POST", "/v1/sessions", "", body("phone", phone, "password", password, "device_id", "phone-2"), 422, &p)
	if p.Code != "step_up_required" {
		t.Errorf("new device without a code: %+v", p)
	}
	login := c.code(phone, "login")
	c.call("POST", "/v1/sessions", "", body("phone", phone, "password", password, "device_id", "phone-2", "otp", login), 201, &in)
	c.call("POST", "/v1/sessions", "", body("phone", phone, "password", "not the password", "device_id", "phone-2"), 401, nil)

	// Real name: tier 3, and one person holds one wallet.
	const idNumber = "11010519491231002X"
	var named struct {
		WalletID string `json:"wallet_id"`
		Tier     int    `json:"tier"`
	}
	c.call("POST", "/v1/wallet/real-name", in.Token, body("name", "张三", "id_number", "110105194912310021"), 422, &p)
	if p.Code != "id_number_invalid" {
		t.Errorf("bad check digit: %+v", p)
	}
	c.call("POST", "/v1/wallet/real-name", in.Token, body("name", "张三", "id_number", idNumber), 200, &named)
	c.call("GET", "/v1/wallet", in.Token, "", 200, &w)
	if named.WalletID != reg.WalletID || named.Tier != 3 || w.Tier != 3 {
		t.Errorf("after real name: %+v, wallet tier %d; want tier 3", named, w.Tier)
	}
	const phoneB = "13900139000"
	var regB struct {
		Token string `json:"token"`
	}
	c.call("POST", "/v1/customers", "", body("phone", phoneB, "otp", c.code(phoneB, "register"), "password", password, "device_id", "phone-b"), 201, &regB)
	c.call("POST", "/v1/wallet/real-name", regB.Token, body("name", "张三", "id_number", idNumber), 409, &p)
	if p.Code != "conflict" {
		t.Errorf("a second wallet for one ID number: %+v", p)
	}

	// A sandbox card in the holder's name; B gets 404 for A's card.
	const cardNumber = "6222026000001234"
	var card struct {
		ID     string `json:"id"`
		Masked string `json:"masked_number"`
	}
	c.call("POST", "/v1/cards", in.Token, body("card_number", cardNumber, "holder_name", "张三", "otp", c.code(phone, "bind_card")), 201, &card)
	if card.Masked != "6222 02** **** 1234" {
		t.Errorf("card %+v", card)
	}
	var cards struct {
		Cards []struct{ ID string } `json:"cards"`
	}
	c.call("GET", "/v1/cards", in.Token, "", 200, &cards)
	if len(cards.Cards) != 1 || cards.Cards[0].ID != card.ID {
		t.Errorf("cards %+v", cards)
	}
	c.call("GET", "/v1/cards", regB.Token, "", 200, &cards)
	if len(cards.Cards) != 0 {
		t.Errorf("B sees cards %+v", cards)
	}
	c.call("DELETE", "/v1/cards/"+card.ID, regB.Token, "", 404, nil)
	c.call("POST", "/v1/cards", in.Token, `{"card_number": "6222026000005672", "holder_name": "张三", "otp": "123456", "cvv": "123"}`, 400, nil)
	c.call("GET", "/v1/cards", in.Token, "", 200, &cards)
	if len(cards.Cards) != 1 {
		t.Errorf("a request with a CVV stored a card: %+v", cards)
	}

	// The startup text names the web app's pages, each of which the server serves.
	for _, page := range []string{"/", "/merchant", "/staff", "/demo/shop", "/demo/till"} {
		if !strings.Contains(s.stdout.String(), s.url+page+"\n") && !strings.Contains(s.stdout.String(), s.url+page+" ") {
			t.Errorf("the startup text does not name %s:\n%s", page, s.stdout)
		}
		if resp, _ := s.do(t, "GET", page, nil, ""); resp.StatusCode != 200 {
			t.Errorf("GET %s: %d", page, resp.StatusCode)
		}
	}

	// The face check with the development verifier: tier 2.
	if !strings.Contains(s.stdout.String(), "face check       development verifier") {
		t.Errorf("the startup text does not say the face check is the development verifier:\n%s", s.stdout)
	}
	c.call("POST", "/v1/wallet/face-verification", in.Token, `{"image": "aGViYW8gZmFjZQ=="}`, 200, nil)
	c.call("GET", "/v1/wallet", in.Token, "", 200, &w)
	if w.Tier != 2 {
		t.Errorf("tier after the face check: %d, want 2", w.Tier)
	}

	// The payment password.
	const payPassword = "528471"
	c.call("PUT", "/v1/wallet/payment-password", in.Token, body("password", "123456", "otp", "123456"), 422, &p)
	if p.Code != "payment_password_weak" {
		t.Errorf("a weak payment password: %+v", p)
	}
	c.call("PUT", "/v1/wallet/payment-password", in.Token, body("password", payPassword, "otp", c.code(phone, "set_payment_password")), 204, nil)

	// Staff: the seeded credentials, private to their owner.
	devPath := filepath.Join(dir, "dev.json")
	if !strings.Contains(s.stdout.String(), devPath) {
		t.Errorf("the startup text does not say where dev.json is:\n%s", s.stdout)
	}
	fi, err := os.Stat(devPath)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("dev.json has mode %04o, want 0600", fi.Mode().Perm())
	}
	raw, _ := os.ReadFile(devPath)
	var creds map[string]struct {
		Username, Password, ID string
		APIKey                 string `json:"api_key"`
		WebhookSecret          string `json:"webhook_secret"`
	}
	if err := json.Unmarshal(raw, &creds); err != nil || creds["admin"].Password == "" || creds["agent"].Password == "" || len(creds) != 4 {
		t.Fatalf("dev.json %s: %v", raw, err)
	}
	// The demo merchant's key opens the merchant API.
	var bal struct {
		MerchantID string `json:"merchant_id"`
		Name       string
	}
	c.call("GET", "/v1/merchant/balance", creds["merchant"].APIKey, "", 200, &bal)
	if bal.MerchantID != creds["merchant"].ID || bal.Name != "Hebao Demo Shop" || !strings.HasPrefix(creds["merchant"].WebhookSecret, "whsec_") {
		t.Errorf("the demo merchant: dev.json %s, balance answer %+v", raw, bal)
	}
	staffToken := func(who string) string {
		var out struct{ Token, Role string }
		c.call("POST", "/v1/staff/sessions", "", body("username", creds[who].Username, "password", creds[who].Password), 201, &out)
		if out.Role != who {
			t.Errorf("%s signed in with role %q", who, out.Role)
		}
		return out.Token
	}
	admin, agent := staffToken("admin"), staffToken("agent")
	var report struct {
		OK       bool  `json:"ok"`
		Accounts int64 `json:"accounts"`
	}
	c.call("GET", "/v1/admin/ledger/verify", admin, "", 200, &report)
	if !report.OK || report.Accounts != 9 {
		t.Errorf("verify: %+v, want ok with the two wallets' 3 accounts each, the demo merchant's, the demo campaign's and the marketing account", report)
	}
	var audit struct {
		Items []struct {
			Action    string `json:"action"`
			Subject   string `json:"subject"`
			RequestID string `json:"request_id"`
		} `json:"items"`
	}
	c.call("GET", "/v1/admin/audit?limit=100", admin, "", 200, &audit)
	found := false
	for _, it := range audit.Items {
		found = found || it.Action == "customer.register" && it.Subject == reg.CustomerID && it.RequestID == "e2e-v1-customers"
	}
	if !found {
		t.Errorf("the audit log does not show the registration: %+v", audit.Items)
	}

	// Stop-payment: the customer freezes the wallet, then unfreezes it with a code
	// and the ID number.
	var st struct {
		WalletID string `json:"wallet_id"`
		Status   string `json:"status"`
		Tier     int    `json:"tier"`
	}
	c.call("POST", "/v1/wallet/freeze", in.Token, body("reason", "lost my bank card"), 200, &st)
	c.call("GET", "/v1/wallet", in.Token, "", 200, &w)
	if st.Status != "frozen" || w.Status != "frozen" {
		t.Errorf("after freezing: %+v, wallet %+v", st, w)
	}
	c.call("POST", "/v1/wallet/freeze", in.Token, body("reason", "again"), 409, nil)
	c.call("POST", "/v1/wallet/unfreeze", in.Token, body("otp", c.code(phone, "unfreeze"), "id_number", idNumber), 200, &st)
	c.call("GET", "/v1/wallet", in.Token, "", 200, &w)
	if st.Status != "active" || w.Status != "active" {
		t.Errorf("after unfreezing: %+v, wallet %+v", st, w)
	}

	// Customer service: an agent finds the customer by phone, freezes and
	// unfreezes; an admin sets the tier.
	var found2 struct {
		ID     string `json:"id"`
		Wallet struct {
			ID     string `json:"id"`
			Status string `json:"status"`
			Tier   int    `json:"tier"`
		} `json:"wallet"`
		Cards []struct {
			Masked string `json:"masked_number"`
		} `json:"cards"`
	}
	c.call("GET", "/v1/agent/customers?phone="+phone, agent, "", 200, &found2)
	if found2.ID != reg.CustomerID || found2.Wallet.ID != reg.WalletID || len(found2.Cards) != 1 || strings.Contains(found2.Cards[0].Masked, cardNumber) {
		t.Errorf("agent look-up: %+v", found2)
	}
	c.call("GET", "/v1/agent/customers?phone="+phone, in.Token, "", 403, nil)
	c.call("GET", "/v1/agent/customers/"+reg.CustomerID, agent, "", 200, nil)
	wallet := "/v1/agent/wallets/" + reg.WalletID
	c.call("POST", wallet+"/freeze", agent, body("reason", "customer called: phone stolen"), 200, &st)
	c.call("GET", "/v1/wallet", in.Token, "", 200, &w)
	if w.Status != "frozen" {
		t.Errorf("after the agent froze it: %+v", w)
	}
	c.call("POST", wallet+"/unfreeze", agent, body("identity_check", "answered security questions; ID photo matched"), 200, &st)
	if st.Status != "active" {
		t.Errorf("after the agent unfroze it: %+v", st)
	}
	c.call("POST", "/v1/admin/wallets/"+reg.WalletID+"/tier", agent, `{"tier": 1}`, 403, nil)
	c.call("POST", "/v1/admin/wallets/"+reg.WalletID+"/tier", admin, `{"tier": 1}`, 200, &st)
	c.call("GET", "/v1/wallet", in.Token, "", 200, &w)
	if st.Tier != 1 || w.Tier != 1 {
		t.Errorf("after setting tier 1: %+v, wallet %+v", st, w)
	}
	var log struct {
		Items []struct {
			Action string `json:"action"`
			Actor  struct {
				Kind string `json:"kind"`
			} `json:"actor"`
			RequestID string            `json:"request_id"`
			Detail    map[string]string `json:"detail"`
		} `json:"items"`
	}
	c.call("GET", "/v1/admin/audit?limit=100", admin, "", 200, &log)
	seen := map[string]bool{}
	for _, it := range log.Items {
		seen[it.Action+" "+it.Actor.Kind+" "+it.RequestID] = true
	}
	for _, want := range []string{
		"wallet.freeze customer e2e-v1-wallet-freeze",
		"wallet.unfreeze customer e2e-v1-wallet-unfreeze",
		"wallet.freeze staff e2e-v1-agent-wallets-" + reg.WalletID + "-freeze",
		"wallet.unfreeze staff e2e-v1-agent-wallets-" + reg.WalletID + "-unfreeze",
		"wallet.tier staff e2e-v1-admin-wallets-" + reg.WalletID + "-tier",
	} {
		if !seen[want] {
			t.Errorf("the audit log does not show %q: %+v", want, log.Items)
		}
	}
	c.call("GET", "/v1/admin/audit", in.Token, "", 403, nil)
	c.call("GET", "/v1/admin/ledger/verify", agent, "", 403, nil)
	c.call("GET", "/v1/admin/audit", "", "", 401, nil)

	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	secrets := map[string]string{
		"the customer's password": password,
		"the admin's password":    creds["admin"].Password,
		"the agent's password":    creds["agent"].Password,
		"a customer token":        in.Token,
		"a staff token":           admin,
		"an SMS code":             "验证码 " + login,
		"the ID number":           idNumber,
		"the real name":           "张三",
		"the card number":         cardNumber,
		"the refused card number": "6222026000005672",
		"the CVV field":           `"cvv"`,
		"the payment password":    payPassword,
	}
	for what, secret := range secrets {
		// Digits-only secrets must stand alone: log timestamps and durations are long
		// runs of digits that may contain any six by chance.
		re := regexp.MustCompile(`(^|[^0-9])` + regexp.QuoteMeta(secret) + `([^0-9]|$)`)
		if re.MatchString(s.stderr.String()) {
			t.Errorf("the log shows %s", what)
		}
	}

	// A second start keeps the seeded accounts and their file.
	s = startServer(t, append([]string{"--data-dir", dir, "--dev"}, args...)...)
	if again, _ := os.ReadFile(devPath); !bytes.Equal(raw, again) {
		t.Errorf("a second start changed dev.json:\n%s\n%s", raw, again)
	}
	staffToken = func(who string) string { // redefine on the new server
		var out struct{ Token string }
		e2e{t, s}.call("POST", "/v1/staff/sessions", "", body("username", creds[who].Username, "password", creds[who].Password), 201, &out)
		return out.Token
	}
	staffToken("admin")
	if err := s.stop(); err != nil {
		t.Fatal(err)
	}
	delete(secrets, "an SMS code") // six digits may happen to be anywhere in a binary file
	return secrets
}

func TestStaffAdd(t *testing.T) {
	dir := t.TempDir()
	staffAdd := func(stdin string, args ...string) (string, error) {
		var out, errOut syncBuffer
		m := &Main{Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut}
		err := m.Run(t.Context(), append([]string{"staff"}, args...))
		return out.String(), err
	}
	add := []string{"add", "--data-dir", dir, "--username", "alice", "--role", "admin"}
	tests := []struct {
		name, stdin string
		args        []string
		usage       bool
		wantErr     string
		stdout      string
	}{
		{name: "no subcommand", usage: true, wantErr: "the only subcommand is add"},
		{name: "no role", stdin: "a long staff password\n", args: []string{"add", "--data-dir", dir, "--username", "alice"}, usage: true, wantErr: "--username and --role are required"},
		{name: "bad role", stdin: "a long staff password\n", args: []string{"add", "--data-dir", dir, "--username", "alice", "--role", "root"}, usage: true, wantErr: "--role must be agent or admin"},
		{name: "bad username", stdin: "a long staff password\n", args: []string{"add", "--data-dir", dir, "--username", "Alice", "--role", "admin"}, wantErr: "a username is 3 to 32"},
		{name: "no password", args: add, wantErr: "no password on standard input"},
		{name: "short password", stdin: "elevenchars\n", args: add, wantErr: "must be 12 to 128 characters"},
		{name: "created", stdin: "a long staff password\r\n", args: add, stdout: "staff account alice (admin) created"},
		{name: "again", stdin: "another long password\n", args: add, wantErr: `there is a staff account "alice" already`},
		{name: "without a final newline", stdin: "yet another long password", args: []string{"add", "--data-dir", dir, "--username", "bob", "--role", "agent"}, stdout: "staff account bob (agent) created"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := staffAdd(tt.stdin, tt.args...)
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if got := errors.As(err, new(usageError)); got != tt.usage {
				t.Errorf("usage error = %v, want %v", got, tt.usage)
			}
			if !strings.Contains(out, tt.stdout) {
				t.Errorf("stdout %q lacks %q", out, tt.stdout)
			}
		})
	}

	// The accounts sign in with the passwords given, without the line ending.
	s := startServer(t, "--data-dir", dir)
	c := e2e{t, s}
	var out struct{ Token, Role string }
	c.call("POST", "/v1/staff/sessions", "", `{"username": "alice", "password": "a long staff password"}`, 201, &out)
	c.call("POST", "/v1/staff/sessions", "", `{"username": "bob", "password": "yet another long password"}`, 201, nil)
	var audit struct {
		Items []struct {
			Action string `json:"action"`
			Actor  struct{ Kind, ID string }
		} `json:"items"`
	}
	c.call("GET", "/v1/admin/audit", out.Token, "", 200, &audit)
	var got []string
	for _, it := range audit.Items {
		got = append(got, it.Action+" by "+it.Actor.Kind+" "+it.Actor.ID)
	}
	want := "staff.login by staff|staff.login by staff|staff.add by system hebao staff add|staff.add by system hebao staff add"
	if g := regexp.MustCompile(` stf_\w+`).ReplaceAllString(strings.Join(got, "|"), ""); g != want {
		t.Errorf("audit:\n got %s\nwant %s", g, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "dev.json")); !os.IsNotExist(err) {
		t.Error("serve without --dev wrote dev.json")
	}
}
