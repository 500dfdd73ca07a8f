package http

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
)

// cheapArgon2 keeps password hashing fast in tests.
var cheapArgon2 = hebao.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// testClock is a clock the tests move by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// accounts is a server configuration with every service of customers and staff on
// an in-memory store, in development mode, with an admin and an agent.
type accounts struct {
	cfg   Config
	store *inmem.Store
	clock *testClock
	inbox *devInbox
	admin string // staff tokens
	agent string
}

const (
	testPassword      = "correct horse"
	testStaffPassword = "a long staff password"
)

func newAccounts(t *testing.T) *accounts {
	t.Helper()
	c := &testClock{t: otpNow}
	st := inmem.New(c.Now)
	inbox := &devInbox{}
	otp := &hebao.OTPService{Store: st, SMS: inbox, Key: []byte("an OTP key for the http tests"), Now: c.Now}
	staff := &hebao.StaffService{Store: st, Argon2: cheapArgon2, Now: c.Now}
	keys := testKeyring(t)
	a := &accounts{store: st, clock: c, inbox: inbox, cfg: Config{
		Store: st, Dev: true, DevSMS: inbox, OTP: otp,
		Customers:        &hebao.CustomerService{Store: st, OTP: otp, Argon2: cheapArgon2, Now: c.Now},
		Wallets:          &hebao.WalletService{Store: st, Tiers: hebao.DefaultTierLimits(), Now: c.Now},
		Identity:         &hebao.IdentityService{Store: st, Keys: keys, Now: c.Now},
		Cards:            &hebao.CardService{Store: st, Keys: keys, OTP: otp, Now: c.Now},
		Face:             &hebao.FaceService{Store: st, Keys: keys, Verifier: fakeFace{}, Now: c.Now},
		PaymentPasswords: &hebao.PaymentPasswordService{Store: st, Keys: keys, OTP: otp, Now: c.Now},
		WalletStatus:     &hebao.WalletStatusService{Store: st, Keys: keys, OTP: otp, Now: c.Now},
		Staff:            staff,
		Audit:            &hebao.AuditService{Store: st},
		Ledger:           st,
	}}
	by := hebao.Actor{Kind: hebao.ActorSystem, ID: "test"}
	for _, s := range []struct {
		name string
		role hebao.StaffRole
		tok  *string
	}{{"admin", hebao.RoleAdmin, &a.admin}, {"agent", hebao.RoleAgent, &a.agent}} {
		if _, err := staff.Add(t.Context(), by, s.name, testStaffPassword, s.role); err != nil {
			t.Fatal(err)
		}
		in, err := staff.Login(t.Context(), s.name, testStaffPassword)
		if err != nil {
			t.Fatal(err)
		}
		*s.tok = in.Token
	}
	return a
}

// code sends a code for purpose to phone, past the resend gap, and returns it.
func (a *accounts) code(t *testing.T, phone string, p hebao.OTPPurpose) string {
	t.Helper()
	a.clock.Add(hebao.OTPResendGap)
	if _, err := a.cfg.OTP.Send(context.Background(), phone, p); err != nil {
		t.Fatal(err)
	}
	return sixDigits.FindString(a.inbox.Messages(phone)[0].Text)
}

// register opens a wallet for phone on device and returns its token.
func (a *accounts) register(t *testing.T, phone, device string) hebao.Registered {
	t.Helper()
	r, err := a.cfg.Customers.Register(context.Background(), hebao.Registration{
		Phone: phone, OTP: a.code(t, phone, hebao.PurposeRegister), Password: testPassword, DeviceID: device,
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// fakeFace matches every image but "stranger", and cannot answer for "down".
type fakeFace struct{}

func (fakeFace) Verify(_ context.Context, _, name string, image []byte) (bool, error) {
	if name == "" {
		return false, errors.New("fakeFace: no name")
	}
	switch string(image) {
	case "stranger":
		return false, nil
	case "down":
		return false, hebao.Errorf(hebao.CodeUnavailable, "the face-check service cannot answer now")
	}
	return true, nil
}

// testKeyring returns a new random keyring.
func testKeyring(t *testing.T) *hebao.Keyring {
	t.Helper()
	raw, err := hebao.GenerateKeyring()
	if err != nil {
		t.Fatal(err)
	}
	k, err := hebao.ParseKeyring(raw)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func bearerHeader(token string) http.Header {
	return http.Header{"Authorization": {"Bearer " + token}}
}

// body marshals v as a request body.
func body(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return string(b)
}

func registerBody(phone, otp, device string) string {
	return body(map[string]string{"phone": phone, "otp": otp, "password": testPassword, "device_id": device})
}

func loginBody(phone, password, device, otp string) string {
	m := map[string]string{"phone": phone, "password": password, "device_id": device}
	if otp != "" {
		m["otp"] = otp
	}
	return body(m)
}

// actions lists the audit log's actions, oldest first.
func (a *accounts) actions() string {
	var out []string
	for _, r := range a.store.Audit() {
		out = append(out, r.Action)
	}
	return strings.Join(out, " ")
}

// brokenLedger is a LedgerVerifier whose ledger does not verify.
type brokenLedger struct{}

func (brokenLedger) Verify(context.Context) (*hebao.VerifyReport, error) {
	return &hebao.VerifyReport{
		Sums: map[hebao.Unit]int64{hebao.CNY: 5}, Issued: map[hebao.Unit]int64{hebao.CNY: 5}, Transfers: 1, Postings: 2, Accounts: 2,
		HeadSeq: 1, HeadHash: strings.Repeat("ab", 32),
		FirstBad: &hebao.BadTransfer{Seq: 1, ID: "tr_1", Reason: "hash does not match"},
		Problems: []string{"transfer seq 1 (tr_1): hash does not match"},
	}, nil
}
