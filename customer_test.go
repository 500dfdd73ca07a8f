package hebao_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
)

// fixture is every service of issue 3 on one in-memory store, at noon China time
// on a fake clock.
type fixture struct {
	store     *inmem.Store
	clock     *clock
	sms       *phoneInbox
	otp       *hebao.OTPService
	customers *hebao.CustomerService
	staff     *hebao.StaffService
	wallets   *hebao.WalletService
	audit     *hebao.AuditService
	auth      *hebao.Authenticator
}

func newFixture() *fixture {
	c := &clock{t: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}
	st := inmem.New(c.Now)
	sms := &phoneInbox{}
	otp := &hebao.OTPService{Store: st, SMS: sms, Key: otpTestKey, Now: c.Now}
	f := &fixture{store: st, clock: c, sms: sms, otp: otp,
		customers: &hebao.CustomerService{Store: st, OTP: otp, Argon2: cheap, Now: c.Now},
		staff:     &hebao.StaffService{Store: st, Argon2: cheap, Now: c.Now},
		wallets:   &hebao.WalletService{Store: st, Tiers: hebao.DefaultTierLimits(), Now: c.Now},
		audit:     &hebao.AuditService{Store: st},
	}
	f.auth = &hebao.Authenticator{Customers: f.customers, Staff: f.staff}
	return f
}

// code sends a code for purpose to phone and returns it, moving the clock past the
// resend gap first.
func (f *fixture) code(t *testing.T, phone string, p hebao.OTPPurpose) string {
	t.Helper()
	f.clock.Add(hebao.OTPResendGap)
	if _, err := f.otp.Send(t.Context(), phone, p); err != nil {
		t.Fatalf("send %s code: %v", p, err)
	}
	return f.sms.lastCode(t, phone)
}

const password = "correct horse"

func (f *fixture) register(t *testing.T, phone, device string) hebao.Registered {
	t.Helper()
	r, err := f.customers.Register(t.Context(), hebao.Registration{Phone: phone, OTP: f.code(t, phone, hebao.PurposeRegister), Password: password, DeviceID: device})
	if err != nil {
		t.Fatalf("register %s: %v", phone, err)
	}
	return r
}

// actions lists the audit log's actions, oldest first.
func (f *fixture) actions() []string {
	var out []string
	for _, r := range f.store.Audit() {
		out = append(out, r.Action)
	}
	return out
}

func TestRegister(t *testing.T) {
	f := newFixture()
	ctx := hebao.WithRequestID(t.Context(), "req-register")
	code := f.code(t, phone, hebao.PurposeRegister)
	r, err := f.customers.Register(ctx, hebao.Registration{Phone: phone, OTP: code, Password: password, DeviceID: "dev-a"})
	if err != nil {
		t.Fatal(err)
	}
	if !hebao.ValidID("cus", r.Customer.ID) || !hebao.ValidID("wal", r.Wallet.ID) || !strings.HasPrefix(r.Token, "hb_") || len(r.Token) != 46 {
		t.Errorf("ids %s %s, token of %d characters", r.Customer.ID, r.Wallet.ID, len(r.Token))
	}
	if r.Wallet.Status != hebao.WalletActive || r.Wallet.Tier != 4 || r.Wallet.CustomerID != r.Customer.ID {
		t.Errorf("wallet %+v, want active at tier 4", r.Wallet)
	}
	if r.Session.TokenHash != hebao.TokenHash(r.Token) || strings.Contains(r.Customer.PasswordHash, password) {
		t.Error("the token or the password is stored as itself")
	}
	err = f.store.View(ctx, func(tx hebao.Tx) error {
		accts, err := tx.Accounts(ctx, r.Wallet.Account, r.Wallet.PromoAccount, r.Wallet.PointsAccount)
		if err != nil {
			return err
		}
		type acct struct {
			Kind  hebao.AccountKind
			Unit  hebao.Unit
			Owner string
			Neg   bool
		}
		got := []acct{}
		for _, id := range []hebao.AccountID{r.Wallet.Account, r.Wallet.PromoAccount, r.Wallet.PointsAccount} {
			a := accts[id]
			got = append(got, acct{a.Kind, a.Unit, a.Owner, a.MayGoNegative})
		}
		want := []acct{{hebao.AccountWallet, hebao.CNY, r.Wallet.ID, false}, {hebao.AccountPromo, hebao.CNY, r.Wallet.ID, false}, {hebao.AccountPoints, hebao.POINT, r.Wallet.ID, false}}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("accounts (-want +got):\n%s", diff)
		}
		known, err := tx.KnownDevice(ctx, r.Customer.ID, "dev-a")
		if !known {
			t.Error("the device registered from is not known")
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	sess, err := f.customers.Authenticate(ctx, r.Token)
	if err != nil || sess.ID != r.Session.ID {
		t.Errorf("Authenticate(new token) = %+v, %v", sess, err)
	}
	recs := f.store.Audit()
	want := []hebao.AuditRecord{{Seq: 1, ID: recs[0].ID, At: f.clock.Now(), Actor: hebao.Actor{Kind: hebao.ActorCustomer, ID: r.Customer.ID},
		Action: hebao.ActionRegister, Subject: r.Customer.ID, RequestID: "req-register",
		Detail: map[string]string{"wallet_id": r.Wallet.ID, "phone": phone, "device_id": "dev-a", "tier": "4"}}}
	if diff := cmp.Diff(want, recs); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	// The same phone again: conflict, and the new code is not spent by it.
	code = f.code(t, phone, hebao.PurposeRegister)
	_, err = f.customers.Register(ctx, hebao.Registration{Phone: phone, OTP: code, Password: password, DeviceID: "dev-b"})
	wantCode(t, "register the phone again", err, hebao.CodeConflict)
	if _, err := f.otp.Check(ctx, phone, hebao.PurposeRegister, code); err != nil {
		t.Errorf("the code of the refused registration: %v, want it unspent", err)
	}
}

func TestRegisterRefusals(t *testing.T) {
	f := newFixture()
	code := f.code(t, phone, hebao.PurposeRegister)
	ok := hebao.Registration{Phone: phone, OTP: code, Password: password, DeviceID: "dev-a"}
	tests := []struct {
		name string
		edit func(r *hebao.Registration)
		code string
	}{
		{"bad phone", func(r *hebao.Registration) { r.Phone = "+8613800138000" }, "invalid_request"},
		{"short password", func(r *hebao.Registration) { r.Password = "short" }, "invalid_request"},
		{"password all digits", func(r *hebao.Registration) { r.Password = "1234567890" }, "invalid_request"},
		{"no device", func(r *hebao.Registration) { r.DeviceID = "" }, "invalid_request"},
		{"code not 6 digits", func(r *hebao.Registration) { r.OTP = "12345" }, "invalid_request"},
		{"wrong code", func(r *hebao.Registration) { r.OTP = wrongCode(code) }, "otp_invalid"},
		{"login code", func(r *hebao.Registration) {
			r.Phone = "13900139000"
			r.OTP = f.code(t, "13900139000", hebao.PurposeLogin)
		}, "otp_invalid"},
	}
	for _, tt := range tests {
		r := ok
		tt.edit(&r)
		_, err := f.customers.Register(t.Context(), r)
		wantCode(t, tt.name, err, tt.code)
	}
	if got := f.store.Audit(); len(got) != 0 {
		t.Errorf("refused registrations left audit records: %+v", got)
	}
	if _, err := f.customers.Register(t.Context(), ok); err != nil {
		t.Errorf("after the refusals, the right code: %v", err)
	}
}

func wrongCode(code string) string {
	if code == "000000" {
		return "000001"
	}
	return "000000"
}

func TestLogin(t *testing.T) {
	f := newFixture()
	ctx := t.Context()
	r := f.register(t, phone, "dev-a")
	in, err := f.customers.Login(ctx, hebao.Credentials{Phone: phone, Password: password, DeviceID: "dev-a"})
	if err != nil {
		t.Fatalf("known device: %v", err)
	}
	if in.Session.CustomerID != r.Customer.ID || in.Token == r.Token || !in.Session.ExpiresAt().Equal(f.clock.Now().Add(30*24*time.Hour)) {
		t.Errorf("session %+v", in.Session)
	}

	// An unknown phone and a wrong password get the very same answer.
	_, e1 := f.customers.Login(ctx, hebao.Credentials{Phone: "13900139000", Password: password, DeviceID: "dev-a"})
	_, e2 := f.customers.Login(ctx, hebao.Credentials{Phone: phone, Password: "wrong horse", DeviceID: "dev-a"})
	wantCode(t, "unknown phone", e1, hebao.CodeUnauthenticated)
	if e1 == nil || e2 == nil || e1.Error() != e2.Error() {
		t.Errorf("unknown phone: %v; wrong password: %v; want the same", e1, e2)
	}

	// A new device needs a login code, then is known.
	newDev := hebao.Credentials{Phone: phone, Password: password, DeviceID: "dev-b"}
	_, err = f.customers.Login(ctx, newDev)
	wantCode(t, "new device without a code", err, hebao.CodeStepUpRequired)
	if err != nil && !strings.Contains(err.Error(), "request a login code") {
		t.Errorf("step-up detail %q does not say what to do", err)
	}
	newDev.OTP = f.code(t, phone, hebao.PurposeRegister)
	_, err = f.customers.Login(ctx, newDev)
	wantCode(t, "new device with a register code", err, hebao.CodeOTPInvalid)
	newDev.OTP = f.code(t, phone, hebao.PurposeLogin)
	if _, err := f.customers.Login(ctx, newDev); err != nil {
		t.Fatalf("new device with a login code: %v", err)
	}
	_, err = f.customers.Login(ctx, newDev)
	wantCode(t, "the spent code again", err, "") // the device is known now: no code needed
	newDev.OTP = "12x456"
	_, err = f.customers.Login(ctx, newDev)
	wantCode(t, "malformed code", err, hebao.CodeInvalidRequest)

	want := []string{hebao.ActionRegister, hebao.ActionLogin, hebao.ActionLoginFailed, hebao.ActionLoginFailed, hebao.ActionLogin, hebao.ActionLogin}
	if diff := cmp.Diff(want, f.actions()); diff != "" {
		t.Errorf("audit actions (-want +got):\n%s", diff)
	}
	for _, rec := range f.store.Audit() {
		for _, v := range rec.Detail {
			if strings.Contains(v, password) || strings.Contains(v, "wrong horse") || strings.Contains(v, "hb_") {
				t.Errorf("audit record %s holds a secret: %v", rec.Action, rec.Detail)
			}
		}
	}
}

// TestLoginThrottle walks the throttle on a fake clock.
func TestLoginThrottle(t *testing.T) {
	f := newFixture()
	ctx := t.Context()
	f.register(t, phone, "dev-a")
	right := hebao.Credentials{Phone: phone, Password: password, DeviceID: "dev-a"}
	wrong := right
	wrong.Password = "wrong horse"
	login := func(c hebao.Credentials) string {
		_, err := f.customers.Login(ctx, c)
		return hebao.ErrorCode(err)
	}
	// Four wrong, one right: the right one clears the count.
	for range 4 {
		login(wrong)
	}
	if got := login(right); got != "" {
		t.Fatalf("right password after 4 wrong: %s", got)
	}
	if n := f.store.LoginFailures(phone); n != 0 {
		t.Errorf("%d failures kept after the right password", n)
	}
	steps := []struct {
		wait time.Duration
		c    hebao.Credentials
		want string
	}{
		{0, wrong, "unauthenticated"},
		{time.Minute, wrong, "unauthenticated"},
		{time.Minute, wrong, "unauthenticated"},
		{time.Minute, wrong, "unauthenticated"},
		{time.Minute, wrong, "unauthenticated"}, // the fifth, at minute 4
		{0, right, "rate_limited"},              // even the right password
		{10 * time.Minute, wrong, "rate_limited"},
		{5*time.Minute - time.Second, right, "rate_limited"}, // minute 18:59
		{time.Second, right, ""},                             // minute 19: over
		{0, wrong, "unauthenticated"},                        // a fresh count
	}
	for i, s := range steps {
		f.clock.Add(s.wait)
		if got := login(s.c); got != s.want {
			t.Fatalf("step %d: %q, want %q", i, got, s.want)
		}
	}
	n := 0
	for _, a := range f.actions() {
		if a == hebao.ActionLoginRateLimited {
			n++
		}
	}
	if n != 3 {
		t.Errorf("%d rate-limit hits audited, want 3", n)
	}
	// Another phone is not throttled by this one's failures.
	_, err := f.customers.Login(ctx, hebao.Credentials{Phone: "13900139000", Password: "x", DeviceID: "dev-a"})
	wantCode(t, "another phone", err, hebao.CodeUnauthenticated)
}

// TestSessionExpiry: a session ends 30 days after its last use, and each use (written
// at most once a minute) moves that forward.
func TestSessionExpiry(t *testing.T) {
	f := newFixture()
	ctx := t.Context()
	r := f.register(t, phone, "dev-a")
	steps := []struct {
		wait time.Duration
		code string
	}{
		{20 * 24 * time.Hour, ""},
		{29 * 24 * time.Hour, ""}, // 29 days after the last use
		{30*24*time.Hour - time.Microsecond, ""},
		{30 * 24 * time.Hour, "unauthenticated"},
		{0, "unauthenticated"},
	}
	for i, s := range steps {
		f.clock.Add(s.wait)
		_, err := f.customers.Authenticate(ctx, r.Token)
		wantCode(t, "step "+string(rune('0'+i)), err, s.code)
	}
	for _, tok := range []string{"", "hb_", "hb_short", "hbs_" + r.Token[3:], r.Token + "x", strings.ToUpper(r.Token)} {
		_, err := f.customers.Authenticate(ctx, tok)
		wantCode(t, "token "+tok, err, hebao.CodeUnauthenticated)
	}
}

func TestLogout(t *testing.T) {
	f := newFixture()
	ctx := t.Context()
	r := f.register(t, phone, "dev-a")
	other := f.register(t, "13900139000", "dev-z")
	in, err := f.customers.Login(ctx, hebao.Credentials{Phone: phone, Password: password, DeviceID: "dev-a"})
	if err != nil {
		t.Fatal(err)
	}
	if err := f.customers.Logout(ctx, in.Session); err != nil {
		t.Fatal(err)
	}
	_, err = f.customers.Authenticate(ctx, in.Token)
	wantCode(t, "after logout", err, hebao.CodeUnauthenticated)
	if _, err := f.customers.Authenticate(ctx, r.Token); err != nil {
		t.Errorf("another session after logout: %v", err)
	}
	in, _ = f.customers.Login(ctx, hebao.Credentials{Phone: phone, Password: password, DeviceID: "dev-a"})
	if err := f.customers.LogoutAll(ctx, r.Session); err != nil {
		t.Fatal(err)
	}
	for _, tok := range []string{r.Token, in.Token} {
		_, err := f.customers.Authenticate(ctx, tok)
		wantCode(t, "after sign-out everywhere", err, hebao.CodeUnauthenticated)
	}
	if _, err := f.customers.Authenticate(ctx, other.Token); err != nil {
		t.Errorf("another customer's session after sign-out everywhere: %v", err)
	}
	recs := f.store.Audit()
	last := recs[len(recs)-1]
	if last.Action != hebao.ActionLogoutAll || last.Detail["sessions"] != "2" {
		t.Errorf("last audit record %+v, want logout_all of 2 sessions", last)
	}
}
