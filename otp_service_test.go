package hebao_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// memStore keeps SMS codes in memory, all or nothing like the real store: a
// closure's writes stay only if it returns nil. Closures run one at a time.
type memStore struct {
	mu    sync.Mutex
	now   func() time.Time
	codes []hebao.OTP
}

func (m *memStore) Transact(ctx context.Context, fn func(hebao.Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	saved := slices.Clone(m.codes)
	if err := fn(&memTx{m: m}); err != nil {
		m.codes = saved
		return err
	}
	return nil
}

// View runs fn on a copy, so that nothing it does is kept.
func (m *memStore) View(ctx context.Context, fn func(hebao.Tx) error) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	saved := slices.Clone(m.codes)
	defer func() { m.codes = saved }()
	return fn(&memTx{m: m})
}

func (m *memStore) Ping(context.Context) error { return nil }

// stored returns a copy of the stored codes.
func (m *memStore) stored() []hebao.OTP {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.codes)
}

// memTx implements the OTP methods of hebao.Tx; the embedded nil Tx makes any other
// method panic, so a test notices a use case touching what it should not.
type memTx struct {
	hebao.Tx
	m *memStore
}

func (t *memTx) Now() time.Time { return t.m.now() }

func (t *memTx) OTPs(_ context.Context, phone string, since time.Time) ([]hebao.OTP, error) {
	var out []hebao.OTP
	for _, o := range t.m.codes {
		if o.Phone == phone && !o.SentAt.Before(since) {
			out = append(out, o)
		}
	}
	slices.Reverse(out)
	return out, nil
}

func (t *memTx) CreateOTP(_ context.Context, o hebao.OTP) error {
	t.m.codes = append(t.m.codes, o)
	return nil
}

func (t *memTx) AddOTPCheck(_ context.Context, id string) error {
	for i := range t.m.codes {
		if t.m.codes[i].ID == id {
			t.m.codes[i].Checks++
			return nil
		}
	}
	return hebao.ErrNotFound
}

func (t *memTx) UseOTP(_ context.Context, id string, at time.Time) (bool, error) {
	for i := range t.m.codes {
		if t.m.codes[i].ID == id && t.m.codes[i].UsedAt.IsZero() {
			t.m.codes[i].UsedAt = at
			return true, nil
		}
	}
	return false, nil
}

// clock is a fake clock that tests move by hand.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// phoneInbox is an SMS gateway that keeps what it was given, or fails with err.
type phoneInbox struct {
	mu   sync.Mutex
	err  error
	msgs []hebao.SMSMessage
}

func (b *phoneInbox) Send(_ context.Context, phone, text string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.err != nil {
		return b.err
	}
	b.msgs = append(b.msgs, hebao.SMSMessage{Phone: phone, Text: text})
	return nil
}

var codeInText = regexp.MustCompile(`验证码 (\d{6})，`)

// lastCode is the code in the last message sent to phone.
func (b *phoneInbox) lastCode(t *testing.T, phone string) string {
	t.Helper()
	b.mu.Lock()
	defer b.mu.Unlock()
	for i := len(b.msgs) - 1; i >= 0; i-- {
		if b.msgs[i].Phone == phone {
			return codeInText.FindStringSubmatch(b.msgs[i].Text)[1]
		}
	}
	t.Fatalf("no SMS to %s", phone)
	return ""
}

var otpTestKey = []byte("0123456789abcdef0123456789abcdef")

type otpFixture struct {
	svc   *hebao.OTPService
	store *memStore
	clock *clock
	sms   *phoneInbox
}

// newOTP returns a service on a memory store, at noon China time.
func newOTP() *otpFixture {
	c := &clock{t: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}
	st := &memStore{now: c.Now}
	sms := &phoneInbox{}
	return &otpFixture{svc: &hebao.OTPService{Store: st, SMS: sms, Key: otpTestKey, Now: c.Now}, store: st, clock: c, sms: sms}
}

func (f *otpFixture) send(t *testing.T, phone string, p hebao.OTPPurpose) string {
	t.Helper()
	d, err := f.svc.Send(t.Context(), phone, p)
	if err != nil {
		t.Fatalf("Send(%s, %s): %v", phone, p, err)
	}
	if d != 5*time.Minute {
		t.Fatalf("Send: valid %v, want 5m", d)
	}
	return f.sms.lastCode(t, phone)
}

// use checks code and spends it in a transaction of its own, the way a use case
// does; then fails the use case with fail, if set.
func (f *otpFixture) use(t *testing.T, phone string, p hebao.OTPPurpose, code string, fail error) error {
	t.Helper()
	pass, err := f.svc.Check(t.Context(), phone, p, code)
	if err != nil {
		return err
	}
	if pass.Phone() != phone || pass.Purpose() != p {
		t.Errorf("pass for %s %s, want %s %s", pass.Phone(), pass.Purpose(), phone, p)
	}
	return f.store.Transact(t.Context(), func(tx hebao.Tx) error {
		if err := f.svc.Use(t.Context(), tx, pass); err != nil {
			return err
		}
		return fail
	})
}

const phone = "13800138000"

func wantCode(t *testing.T, what string, err error, code string) {
	t.Helper()
	if got := hebao.ErrorCode(err); got != code {
		t.Errorf("%s: %v, want %q", what, err, code)
	}
}

func TestOTPSendCheckUse(t *testing.T) {
	f := newOTP()
	code := f.send(t, phone, hebao.PurposeRegister)
	if err := f.use(t, phone, hebao.PurposeRegister, code, nil); err != nil {
		t.Fatalf("the right code: %v", err)
	}
	got := f.store.stored()
	if len(got) != 1 || got[0].UsedAt != f.clock.Now() || got[0].Checks != 1 {
		t.Errorf("stored %+v, want one code used now after one check", got)
	}
	// Used once: neither a second check nor a second Use of the same pass works.
	wantCode(t, "check a used code", f.use(t, phone, hebao.PurposeRegister, code, nil), "otp_invalid")
	f2 := newOTP()
	code = f2.send(t, phone, hebao.PurposeLogin)
	pass, err := f2.svc.Check(t.Context(), phone, hebao.PurposeLogin, code)
	if err != nil {
		t.Fatal(err)
	}
	use := func(tx hebao.Tx) error { return f2.svc.Use(t.Context(), tx, pass) }
	if err := f2.store.Transact(t.Context(), use); err != nil {
		t.Fatal(err)
	}
	wantCode(t, "Use the same pass again", f2.store.Transact(t.Context(), use), "otp_invalid")
	wantCode(t, "Use a zero pass", f2.store.Transact(t.Context(), func(tx hebao.Tx) error {
		return f2.svc.Use(t.Context(), tx, hebao.OTPPass{})
	}), "otp_invalid")
}

func TestOTPExpiry(t *testing.T) {
	for _, tt := range []struct {
		after time.Duration
		want  string
	}{
		{5*time.Minute - time.Microsecond, ""},
		{5 * time.Minute, "otp_expired"},
		{time.Hour, "otp_expired"},
		{25 * time.Hour, "otp_invalid"}, // too old to find: as if never sent
	} {
		f := newOTP()
		code := f.send(t, phone, hebao.PurposeBindCard)
		f.clock.Add(tt.after)
		wantCode(t, fmt.Sprintf("after %v", tt.after), f.use(t, phone, hebao.PurposeBindCard, code, nil), tt.want)
	}
	// A pass that expires before it is used is refused too.
	f := newOTP()
	code := f.send(t, phone, hebao.PurposeBindCard)
	f.clock.Add(5*time.Minute - time.Second)
	pass, err := f.svc.Check(t.Context(), phone, hebao.PurposeBindCard, code)
	if err != nil {
		t.Fatal(err)
	}
	f.clock.Add(time.Second)
	wantCode(t, "Use after expiry", f.store.Transact(t.Context(), func(tx hebao.Tx) error {
		return f.svc.Use(t.Context(), tx, pass)
	}), "otp_expired")
}

func TestOTPFiveChecks(t *testing.T) {
	f := newOTP()
	code := f.send(t, phone, hebao.PurposeUnfreeze)
	wrong := otherCode(code)
	var got []verdict
	for range 6 {
		_, err := f.svc.Check(t.Context(), phone, hebao.PurposeUnfreeze, wrong)
		got = append(got, verdictOf(err))
	}
	_, err := f.svc.Check(t.Context(), phone, hebao.PurposeUnfreeze, code)
	got = append(got, verdictOf(err))
	want := []verdict{
		{"otp_invalid", "the code is wrong; 4 tries left"},
		{"otp_invalid", "the code is wrong; 3 tries left"},
		{"otp_invalid", "the code is wrong; 2 tries left"},
		{"otp_invalid", "the code is wrong; 1 try left"},
		{"otp_invalid", "the code is wrong, and has now been tried 5 times; ask for a new one"},
		{"otp_invalid", "this code has been tried 5 times, the most allowed; ask for a new one"},
		{"otp_invalid", "this code has been tried 5 times, the most allowed; ask for a new one"}, // even the right one
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("verdicts (-want +got):\n%s", diff)
	}
	if c := f.store.stored()[0].Checks; c != 5 {
		t.Errorf("stored checks = %d, want 5", c)
	}
}

// otherCode is a 6-digit code that is not code.
func otherCode(code string) string {
	n, _ := strconv.Atoi(code)
	return fmt.Sprintf("%06d", (n+1)%1_000_000)
}

// TestOTPWrongCodeCountsAlthoughTheRequestFails is the reason Check has its own
// transaction: the caller's request fails on a wrong code, and the check still
// counts; a right code spent in a request that then fails is not spent.
func TestOTPWrongCodeCountsAlthoughTheRequestFails(t *testing.T) {
	f := newOTP()
	code := f.send(t, phone, hebao.PurposeSetPaymentPassword)
	wantCode(t, "wrong code", f.use(t, phone, hebao.PurposeSetPaymentPassword, otherCode(code), nil), "otp_invalid")
	if c := f.store.stored()[0].Checks; c != 1 {
		t.Fatalf("after a wrong code, checks = %d, want 1", c)
	}
	weak := hebao.Errorf(hebao.CodeInvalidRequest, "the payment password is too weak")
	wantCode(t, "right code, request refused", f.use(t, phone, hebao.PurposeSetPaymentPassword, code, weak), "invalid_request")
	got := f.store.stored()[0]
	if got.Checks != 2 || !got.UsedAt.IsZero() {
		t.Fatalf("after a refused request: checks %d, used %v; want 2, unused", got.Checks, got.UsedAt)
	}
	if err := f.use(t, phone, hebao.PurposeSetPaymentPassword, code, nil); err != nil {
		t.Fatalf("retry with the same code: %v", err)
	}
}

func TestOTPBoundToPurpose(t *testing.T) {
	f := newOTP()
	code := f.send(t, phone, hebao.PurposeRegister)
	wantCode(t, "right code, wrong purpose", f.use(t, phone, hebao.PurposeLogin, code, nil), "otp_invalid")
	wantCode(t, "right code, other phone", f.use(t, "13900139000", hebao.PurposeRegister, code, nil), "otp_invalid")
	if c := f.store.stored()[0].Checks; c != 0 {
		t.Errorf("checks of the register code = %d, want 0", c)
	}
	if err := f.use(t, phone, hebao.PurposeRegister, code, nil); err != nil {
		t.Errorf("right purpose: %v", err)
	}
}

func TestOTPStoredAsMAC(t *testing.T) {
	f := newOTP()
	var codes []string
	for _, p := range hebao.OTPPurposes() {
		codes = append(codes, f.send(t, phone, p))
	}
	for i, o := range f.store.stored() {
		dump := fmt.Sprintf("%+v %x", o, o.MAC)
		if strings.Contains(dump, codes[i]) {
			t.Errorf("stored code %s holds the code %s: %s", o.ID, codes[i], dump)
		}
		m := hmac.New(sha256.New, otpTestKey)
		fmt.Fprintf(m, "hebao otp v1\x00%s\x00%s\x00%s\x00%s", o.ID, o.Phone, o.Purpose, codes[i])
		if !hmac.Equal(m.Sum(nil), o.MAC[:]) {
			t.Errorf("stored MAC of %s is not HMAC-SHA-256(key, id, phone, purpose, code)", o.ID)
		}
	}
}

func TestOTPBadRequests(t *testing.T) {
	down := errors.New("dial tcp: connection refused")
	tests := []struct {
		name     string
		change   func(s *hebao.OTPService, sms *phoneInbox)
		phone    string
		purpose  hebao.OTPPurpose
		want     string
		stored   int // codes stored afterwards
		messages int
	}{
		{name: "ok", phone: phone, purpose: hebao.PurposeLogin, stored: 1, messages: 1},
		{name: "bad phone", phone: "+8613800138000", purpose: hebao.PurposeLogin, want: "invalid_request"},
		{name: "bad purpose", phone: phone, purpose: "pay", want: "invalid_request"},
		{name: "no gateway", change: func(s *hebao.OTPService, _ *phoneInbox) { s.SMS = nil }, phone: phone, purpose: hebao.PurposeLogin, want: "unavailable"},
		{name: "short key", change: func(s *hebao.OTPService, _ *phoneInbox) { s.Key = []byte("short") }, phone: phone, purpose: hebao.PurposeLogin, want: "internal"},
		// The code was committed before the gateway failed: it counts against the limits.
		{name: "gateway down", change: func(_ *hebao.OTPService, sms *phoneInbox) { sms.err = down }, phone: phone, purpose: hebao.PurposeLogin, want: "unavailable", stored: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newOTP()
			if tt.change != nil {
				tt.change(f.svc, f.sms)
			}
			_, err := f.svc.Send(t.Context(), tt.phone, tt.purpose)
			wantCode(t, "Send", err, tt.want)
			if n := len(f.store.stored()); n != tt.stored {
				t.Errorf("%d codes stored, want %d", n, tt.stored)
			}
			if n := len(f.sms.msgs); n != tt.messages {
				t.Errorf("%d messages sent, want %d", n, tt.messages)
			}
			if tt.name == "gateway down" && !errors.Is(err, down) {
				t.Errorf("the gateway's error is not kept as the cause: %v", err)
			}
		})
	}
	// A code that is not 6 digits is malformed, and is not counted as a check.
	f := newOTP()
	f.send(t, phone, hebao.PurposeLogin)
	for _, code := range []string{"", "12345", "1234567", "12345a", "１２３４５６", " 123456"} {
		_, err := f.svc.Check(t.Context(), phone, hebao.PurposeLogin, code)
		wantCode(t, fmt.Sprintf("Check(%q)", code), err, "invalid_request")
	}
	_, err := f.svc.Check(t.Context(), "12345", hebao.PurposeLogin, "123456")
	wantCode(t, "Check with a bad phone", err, "invalid_request")
	_, err = f.svc.Check(t.Context(), phone, "pay", "123456")
	wantCode(t, "Check with a bad purpose", err, "invalid_request")
	if c := f.store.stored()[0].Checks; c != 0 {
		t.Errorf("malformed checks counted: %d", c)
	}
}
