package hebao_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// payFixture is a customer with a real name, on the fixture's fake clock.
type payFixture struct {
	*fixture
	pay  *hebao.PaymentPasswordService
	user hebao.Registered
}

func newPayFixture(t *testing.T) *payFixture {
	f := newFixture()
	keys := keyring(t)
	p := &payFixture{fixture: f, pay: &hebao.PaymentPasswordService{Store: f.store, Keys: keys, OTP: f.otp, Now: f.clock.Now}}
	p.user = f.register(t, phone, "dev-a")
	ids := &hebao.IdentityService{Store: f.store, Keys: keys, Now: f.clock.Now}
	if _, err := ids.SetRealName(t.Context(), p.user.Customer.ID, realName, idNumber); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSetPaymentPassword(t *testing.T) {
	f := newPayFixture(t)
	cus := f.user.Customer.ID
	for _, tt := range []struct{ name, pw, code string }{
		{"five digits", "12345", hebao.CodeInvalidRequest},
		{"run", "123456", hebao.CodePaymentPasswordWeak},
		{"birth date", "491231", hebao.CodePaymentPasswordWeak},
		{"end of phone", phone[5:], hebao.CodePaymentPasswordWeak},
	} {
		err := f.pay.Set(t.Context(), cus, tt.pw, f.code(t, phone, hebao.PurposeSetPaymentPassword))
		if got := hebao.ErrorCode(err); got != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	if err := f.pay.Set(t.Context(), cus, "528471", "000000"); hebao.ErrorCode(err) != hebao.CodeOTPInvalid {
		t.Errorf("wrong code: %v", err)
	}
	code := f.code(t, phone, hebao.PurposeSetPaymentPassword)
	if err := f.pay.Set(t.Context(), cus, "528471", code); err != nil {
		t.Fatal(err)
	}
	if err := f.pay.Set(t.Context(), cus, "528472", code); hebao.ErrorCode(err) != hebao.CodeOTPInvalid {
		t.Errorf("a spent code again: %v", err)
	}
	wal := f.user.Wallet.ID
	if err := f.pay.Check(t.Context(), wal, "528471"); err != nil {
		t.Errorf("right password: %v", err)
	}
	if err := f.pay.Check(t.Context(), wal, "000000"); hebao.ErrorCode(err) != hebao.CodePaymentPasswordWrong {
		t.Errorf("wrong password: %v", err)
	}
	if err := f.pay.Check(t.Context(), "wal_none", "528471"); hebao.ErrorCode(err) != hebao.CodePaymentPasswordWrong {
		t.Errorf("no payment password: %v", err)
	}
}

// TestPaymentPasswordServiceLockout: five wrong in a row lock payments for three hours,
// the right password too; each wrong try is committed; a reset unlocks.
func TestPaymentPasswordServiceLockout(t *testing.T) {
	f := newPayFixture(t)
	cus, wal := f.user.Customer.ID, f.user.Wallet.ID
	if err := f.pay.Set(t.Context(), cus, "528471", f.code(t, phone, hebao.PurposeSetPaymentPassword)); err != nil {
		t.Fatal(err)
	}
	var got []string
	for range 6 {
		got = append(got, hebao.ErrorCode(f.pay.Check(t.Context(), wal, "111111")))
	}
	got = append(got, hebao.ErrorCode(f.pay.Check(t.Context(), wal, "528471")))
	w, l := hebao.CodePaymentPasswordWrong, hebao.CodePaymentPasswordLocked
	if d := cmp.Diff([]string{w, w, w, w, l, l, l}, got); d != "" {
		t.Errorf("verdicts (-want +got):\n%s", d)
	}
	if e, ok := f.pay.Check(t.Context(), wal, "528471").(*hebao.Error); !ok || e.Kind != hebao.KindLocked {
		t.Errorf("locked is not 423: %v", e)
	}
	f.clock.Add(hebao.PaymentPasswordLockout - time.Minute)
	if err := f.pay.Check(t.Context(), wal, "528471"); hebao.ErrorCode(err) != l {
		t.Errorf("a minute before the lock ends: %v", err)
	}
	f.clock.Add(time.Minute)
	if err := f.pay.Check(t.Context(), wal, "528471"); err != nil {
		t.Errorf("after the lock: %v", err)
	}

	// Lock again, then reset with the code and the ID number.
	for range 5 {
		f.pay.Check(t.Context(), wal, "111111")
	}
	if err := f.pay.Reset(t.Context(), cus, f.code(t, phone, hebao.PurposeResetPaymentPassword), idNumber2, "640193"); hebao.ErrorCode(err) != hebao.CodeIDNumberInvalid {
		t.Errorf("reset with another ID number: %v", err)
	}
	code := f.code(t, phone, hebao.PurposeResetPaymentPassword)
	if err := f.pay.Reset(t.Context(), cus, code, idNumber, "640193"); err != nil {
		t.Fatal(err)
	}
	if err := f.pay.Check(t.Context(), wal, "640193"); err != nil {
		t.Errorf("the new password after a reset: %v", err)
	}
	if err := f.pay.Check(t.Context(), wal, "528471"); hebao.ErrorCode(err) != hebao.CodePaymentPasswordWrong {
		t.Errorf("the old password after a reset: %v", err)
	}
	acts := f.actions()
	want := []string{"customer.payment_password_set", "customer.payment_password_locked", "customer.payment_password_locked", "customer.payment_password_reset"}
	if d := cmp.Diff(want, acts[len(acts)-4:]); d != "" {
		t.Errorf("audit (-want +got):\n%s", d)
	}
}

func TestResetPaymentPasswordNeedsRealName(t *testing.T) {
	f := newFixture()
	pay := &hebao.PaymentPasswordService{Store: f.store, Keys: keyring(t), OTP: f.otp, Now: f.clock.Now}
	r := f.register(t, phone, "dev-a")
	err := pay.Reset(t.Context(), r.Customer.ID, f.code(t, phone, hebao.PurposeResetPaymentPassword), idNumber, "640193")
	if hebao.ErrorCode(err) != hebao.CodeRealNameRequired {
		t.Errorf("reset without a real name: %v", err)
	}
}
