package sqldb

import (
	"bytes"
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// cheapArgon2 keeps password hashing fast in tests; production uses DefaultArgon2.
var cheapArgon2 = hebao.Argon2Params{Memory: 64, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32}

// anyCode is an OTPChecker that accepts every code, so that tests can register one
// phone many times at once; the real checker is tested on its own.
type anyCode struct{}

func (anyCode) Check(context.Context, string, hebao.OTPPurpose, string) (hebao.OTPPass, error) {
	return hebao.OTPPass{}, nil
}

func (anyCode) Use(context.Context, hebao.Tx, hebao.OTPPass) error { return nil }

func customers(db *DB, otp hebao.OTPChecker, clock *fakeClock) *hebao.CustomerService {
	return &hebao.CustomerService{Store: db, OTP: otp, Argon2: cheapArgon2, Now: clock.Now}
}

// TestConcurrentRegistration registers one phone from 20 goroutines on two handles
// of one database (two processes): exactly one wins, the others get conflict, and
// nothing of theirs is left.
func TestConcurrentRegistration(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := []*DB{open(t), open(t)}
		clock := &fakeClock{t: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			svc := customers(dbs[i%2], anyCode{}, clock)
			wg.Go(func() {
				_, errs[i] = svc.Register(context.Background(), hebao.Registration{
					Phone: "13800138000", OTP: "123456", Password: "correct horse", DeviceID: "dev-a",
				})
			})
		}
		wg.Wait()
		count := map[string]int{}
		for _, err := range errs {
			count[hebao.ErrorCode(err)]++
		}
		if diff := cmp.Diff(map[string]int{"": 1, "conflict": n - 1}, count); diff != "" {
			t.Errorf("outcomes by code (-want +got):\n%s\nerrors: %v", diff, errs)
		}
		for q, want := range map[string]int64{
			`SELECT COUNT(*) FROM customers`: 1,
			`SELECT COUNT(*) FROM wallets`:   1,
			`SELECT COUNT(*) FROM accounts`:  3,
			`SELECT COUNT(*) FROM devices`:   1,
			`SELECT COUNT(*) FROM sessions`:  1,
			`SELECT COUNT(*) FROM audit_log`: 1,
		} {
			if got := rawInt(t, dbs[0], q); got != want {
				t.Errorf("%s = %d, want %d", q, got, want)
			}
		}
		mustVerify(t, dbs[0])
	})
}

// TestLoginThrottleOnDB guesses one phone's password from 20 goroutines on two
// handles of one database: the count is in the database, so exactly
// LoginMaxFailures guesses are checked and the rest refused, until the window ends.
func TestLoginThrottleOnDB(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := []*DB{open(t), open(t)}
		ctx := context.Background()
		clock := &fakeClock{t: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}
		reg := hebao.Registration{Phone: "13800138000", OTP: "123456", Password: "correct horse", DeviceID: "dev-a"}
		if _, err := customers(dbs[0], anyCode{}, clock).Register(ctx, reg); err != nil {
			t.Fatal(err)
		}
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			svc := customers(dbs[i%2], anyCode{}, clock)
			wg.Go(func() {
				_, errs[i] = svc.Login(ctx, hebao.Credentials{Phone: reg.Phone, Password: "wrong horse", DeviceID: "dev-a"})
			})
		}
		wg.Wait()
		count := map[string]int{}
		for _, err := range errs {
			count[hebao.ErrorCode(err)]++
		}
		want := map[string]int{"unauthenticated": hebao.LoginMaxFailures, "rate_limited": n - hebao.LoginMaxFailures}
		if diff := cmp.Diff(want, count); diff != "" {
			t.Errorf("outcomes by code (-want +got):\n%s", diff)
		}

		right := hebao.Credentials{Phone: reg.Phone, Password: reg.Password, DeviceID: "dev-a"}
		svc := customers(dbs[1], anyCode{}, clock)
		clock.Add(hebao.LoginFailureWindow - time.Second)
		if _, err := svc.Login(ctx, right); hebao.ErrorCode(err) != hebao.CodeRateLimited {
			t.Fatalf("right password while throttled: %v, want rate_limited", err)
		}
		clock.Add(time.Second)
		if _, err := svc.Login(ctx, right); err != nil {
			t.Fatalf("right password after the window: %v", err)
		}
		if n := rawInt(t, dbs[0], `SELECT COUNT(*) FROM login_failures`); n != 0 {
			t.Errorf("%d failures kept after a right password, want 0", n)
		}
		for action, want := range map[string]int64{
			hebao.ActionLoginFailed:      hebao.LoginMaxFailures,
			hebao.ActionLoginRateLimited: n - hebao.LoginMaxFailures + 1,
			hebao.ActionLogin:            1,
		} {
			if got := rawInt(t, dbs[0], `SELECT COUNT(*) FROM audit_log WHERE action = ?`, action); got != want {
				t.Errorf("%d audit records of %s, want %d", got, action, want)
			}
		}
	})
}

// TestSessionsOnDB follows a session on the real databases: its use is written at
// most once a minute, it ends after 30 days unused, and logout ends it.
func TestSessionsOnDB(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		clock := &fakeClock{t: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}
		box := &smsBox{}
		otp := newOTPService(db, box, clock)
		svc := customers(db, otp, clock)
		if _, err := otp.Send(ctx, "13800138000", hebao.PurposeRegister); err != nil {
			t.Fatal(err)
		}
		reg, err := svc.Register(ctx, hebao.Registration{Phone: "13800138000", OTP: box.last(), Password: "correct horse", DeviceID: "dev-a"})
		if err != nil {
			t.Fatal(err)
		}
		lastUsed := func() int64 {
			return rawInt(t, db, `SELECT last_used_at FROM sessions WHERE id = ?`, reg.Session.ID)
		}
		t0 := lastUsed()
		clock.Add(59 * time.Second)
		if _, err := svc.Authenticate(ctx, reg.Token); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); got != t0 {
			t.Errorf("a use within the minute was written: %d, want %d", got, t0)
		}
		clock.Add(time.Second)
		if _, err := svc.Authenticate(ctx, reg.Token); err != nil {
			t.Fatal(err)
		}
		if got := lastUsed(); got != clock.Now().UnixMicro() {
			t.Errorf("last use %d, want %d", got, clock.Now().UnixMicro())
		}
		clock.Add(hebao.SessionIdle)
		if _, err := svc.Authenticate(ctx, reg.Token); hebao.ErrorCode(err) != hebao.CodeUnauthenticated {
			t.Fatalf("after 30 days unused: %v, want unauthenticated", err)
		}

		// A new device needs a login code; with it, the device becomes known.
		login := hebao.Credentials{Phone: "13800138000", Password: "correct horse", DeviceID: "dev-b"}
		if _, err := svc.Login(ctx, login); hebao.ErrorCode(err) != hebao.CodeStepUpRequired {
			t.Fatalf("new device without a code: %v, want step_up_required", err)
		}
		if _, err := otp.Send(ctx, "13800138000", hebao.PurposeLogin); err != nil {
			t.Fatal(err)
		}
		login.OTP = box.last()
		in, err := svc.Login(ctx, login)
		if err != nil {
			t.Fatal(err)
		}
		login.OTP = ""
		if _, err := svc.Login(ctx, login); err != nil {
			t.Fatalf("the device, now known, without a code: %v", err)
		}
		if err := svc.Logout(ctx, in.Session); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Authenticate(ctx, in.Token); hebao.ErrorCode(err) != hebao.CodeUnauthenticated {
			t.Errorf("after logout: %v, want unauthenticated", err)
		}
		// The expired session was pruned at sign-in; one is left.
		if n := rawInt(t, db, `SELECT COUNT(*) FROM sessions`); n != 1 {
			t.Errorf("%d sessions, want 1", n)
		}
		// No password and no token is stored as itself.
		for _, secret := range []string{"correct horse", reg.Token, in.Token} {
			for _, q := range []string{`SELECT * FROM customers`, `SELECT * FROM sessions`, `SELECT * FROM audit_log`} {
				for _, row := range rawRows(t, db, q) {
					if bytes.Contains(row, []byte(secret)) {
						t.Errorf("%s: a secret is stored as itself", q)
					}
				}
			}
		}
	})
}
