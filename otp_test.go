package hebao_test

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func TestValidatePhone(t *testing.T) {
	tests := []struct {
		phone string
		ok    bool
	}{
		{"13800138000", true},
		{"15012345678", true},
		{"19999999999", true},
		{"13000000000", true},
		{"", false},
		{"12800138000", false},    // 12 is not a mobile prefix
		{"10800138000", false},    // nor 10
		{"23800138000", false},    // not starting with 1
		{"1380013800", false},     // 10 digits
		{"138001380001", false},   // 12 digits
		{"+8613800138000", false}, // no country code
		{"8613800138000", false},
		{"138 0013 8000", false},
		{"138-0013-8000", false},
		{"1380013800a", false},
		{"１３８００１３８０００", false}, // full-width digits
		{" 13800138000", false},
	}
	for _, tt := range tests {
		err := hebao.ValidatePhone(tt.phone)
		if tt.ok && err != nil {
			t.Errorf("ValidatePhone(%q) = %v, want nil", tt.phone, err)
		}
		if !tt.ok && hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
			t.Errorf("ValidatePhone(%q) = %v, want invalid_request", tt.phone, err)
		}
	}
}

func TestOTPPurposes(t *testing.T) {
	want := []hebao.OTPPurpose{"register", "login", "bind_card", "set_payment_password", "reset_payment_password", "unfreeze", "step_up"}
	if diff := cmp.Diff(want, hebao.OTPPurposes()); diff != "" {
		t.Errorf("OTPPurposes (-want +got):\n%s", diff)
	}
	for _, p := range want {
		if !p.Valid() {
			t.Errorf("%q is not valid", p)
		}
	}
	for _, p := range []hebao.OTPPurpose{"", "Register", "pay", "login ", "step-up"} {
		if p.Valid() {
			t.Errorf("%q is valid", p)
		}
	}
}

func TestOTPText(t *testing.T) {
	got := hebao.OTPText(hebao.PurposeRegister, "042917")
	want := "【荷包 Hebao】验证码 042917，用于注册，5分钟内有效，请勿告诉他人。Your Hebao code for registering is 042917 (valid 5 minutes). Never share it."
	if got != want {
		t.Errorf("OTPText =\n%s\nwant\n%s", got, want)
	}
	// Every purpose has its own words in both languages.
	seen := map[string]hebao.OTPPurpose{}
	for _, p := range hebao.OTPPurposes() {
		text := hebao.OTPText(p, "123456")
		if strings.Contains(text, "_") || strings.Count(text, "123456") != 2 {
			t.Errorf("%s: the text shows a code name, or not the code twice: %s", p, text)
		}
		if q, ok := seen[text]; ok {
			t.Errorf("%s and %s have the same text", p, q)
		}
		seen[text] = p
	}
}

// otpAt is a code of purpose sent at t, for the rules' tables.
func otpAt(purpose hebao.OTPPurpose, t time.Time) hebao.OTP {
	return hebao.OTP{ID: "otp_x", Phone: "13800138000", Purpose: purpose, SentAt: t, ExpiresAt: t.Add(hebao.OTPValidity)}
}

// verdict is an error's code and message, for comparing with cmp; the zero verdict
// is no error.
type verdict struct{ Code, Message string }

func verdictOf(err error) verdict {
	if err == nil {
		return verdict{}
	}
	e := hebao.ErrorOf(err)
	return verdict{e.Code, e.Message}
}

func TestCanSendOTP(t *testing.T) {
	noon := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)             // 12:00 in China
	justAfter := time.Date(2026, 3, 1, 16, 0, 10, 0, time.UTC)      // 00:00:10 on 2 March in China
	tenAt := func(p hebao.OTPPurpose, from time.Time) []hebao.OTP { // ten sends, a minute apart
		var out []hebao.OTP
		for i := range 10 {
			out = append(out, otpAt(p, from.Add(time.Duration(i)*time.Minute)))
		}
		return out
	}
	reg, login := hebao.PurposeRegister, hebao.PurposeLogin
	tests := []struct {
		name string
		sent []hebao.OTP
		now  time.Time
		want verdict
	}{
		{"nothing sent", nil, noon, verdict{}},
		{"same purpose 59 s ago", []hebao.OTP{otpAt(reg, noon.Add(-59*time.Second))}, noon,
			verdict{"rate_limited", "a code for register was sent to this phone less than 60 seconds ago; try again in 1 second"}},
		{"same purpose 10.5 s ago: wait rounds up", []hebao.OTP{otpAt(reg, noon.Add(-10500*time.Millisecond))}, noon,
			verdict{"rate_limited", "a code for register was sent to this phone less than 60 seconds ago; try again in 50 seconds"}},
		{"same purpose 60 s ago", []hebao.OTP{otpAt(reg, noon.Add(-60*time.Second))}, noon, verdict{}},
		{"another purpose 1 s ago", []hebao.OTP{otpAt(login, noon.Add(-time.Second))}, noon, verdict{}},
		{"the newest send of the purpose counts", []hebao.OTP{otpAt(reg, noon.Add(-5*time.Minute)), otpAt(reg, noon.Add(-20*time.Second))}, noon,
			verdict{"rate_limited", "a code for register was sent to this phone less than 60 seconds ago; try again in 40 seconds"}},
		{"nine today", tenAt(login, noon.Add(-time.Hour))[1:], noon, verdict{}},
		{"ten today, one purpose", tenAt(login, noon.Add(-time.Hour)), noon,
			verdict{"rate_limited", "this phone has been sent 10 codes today, the most a day allows; try again in 43200 seconds, after midnight China time"}},
		{"ten today, mixed purposes", append(tenAt(login, noon.Add(-time.Hour))[:5], tenAt(reg, noon.Add(-time.Hour))[5:]...), noon,
			verdict{"rate_limited", "this phone has been sent 10 codes today, the most a day allows; try again in 43200 seconds, after midnight China time"}},
		{"the daily limit wins over the gap", append(tenAt(login, noon.Add(-time.Hour))[1:], otpAt(reg, noon.Add(-time.Second))), noon,
			verdict{"rate_limited", "this phone has been sent 10 codes today, the most a day allows; try again in 43200 seconds, after midnight China time"}},
		{"ten yesterday in China time (the same UTC day)", tenAt(login, justAfter.Add(-11*time.Minute)), justAfter, verdict{}},
		{"the gap holds across midnight", []hebao.OTP{otpAt(reg, justAfter.Add(-20*time.Second))}, justAfter,
			verdict{"rate_limited", "a code for register was sent to this phone less than 60 seconds ago; try again in 40 seconds"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := verdictOf(hebao.CanSendOTP(tt.sent, reg, tt.now))
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("CanSendOTP (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCheckableOTP(t *testing.T) {
	sent := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
	fresh := otpAt(hebao.PurposeLogin, sent)
	with := func(f func(o *hebao.OTP)) hebao.OTP {
		o := fresh
		f(&o)
		return o
	}
	tests := []struct {
		name string
		o    hebao.OTP
		now  time.Time
		want verdict
	}{
		{"fresh", fresh, sent, verdict{}},
		{"4 checks, 4:59 later", with(func(o *hebao.OTP) { o.Checks = 4 }), sent.Add(5*time.Minute - time.Second), verdict{}},
		{"5 minutes later", fresh, sent.Add(5 * time.Minute), verdict{"otp_expired", "the code has expired; ask for a new one"}},
		{"5 checks", with(func(o *hebao.OTP) { o.Checks = 5 }), sent, verdict{"otp_invalid", "this code has been tried 5 times, the most allowed; ask for a new one"}},
		{"used", with(func(o *hebao.OTP) { o.UsedAt = sent }), sent, verdict{"otp_invalid", "this code has been used already; ask for a new one"}},
		{"used and expired: used", with(func(o *hebao.OTP) { o.UsedAt = sent }), sent.Add(time.Hour), verdict{"otp_invalid", "this code has been used already; ask for a new one"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, verdictOf(hebao.CheckableOTP(tt.o, tt.now))); diff != "" {
				t.Errorf("CheckableOTP (-want +got):\n%s", diff)
			}
		})
	}
}

func TestOTPResendGap(t *testing.T) {
	f := newOTP()
	f.send(t, phone, hebao.PurposeLogin)
	f.clock.Add(59 * time.Second)
	_, err := f.svc.Send(t.Context(), phone, hebao.PurposeLogin)
	want := verdict{"rate_limited", "a code for login was sent to this phone less than 60 seconds ago; try again in 1 second"}
	if diff := cmp.Diff(want, verdictOf(err)); diff != "" {
		t.Errorf("resend after 59 s (-want +got):\n%s", diff)
	}
	f.send(t, phone, hebao.PurposeStepUp)        // another purpose: no gap
	f.send(t, "13900139000", hebao.PurposeLogin) // another phone: no gap
	f.clock.Add(time.Second)
	f.send(t, phone, hebao.PurposeLogin)
}

func TestOTPDailyLimit(t *testing.T) {
	f := newOTP() // at noon in China
	purposes := hebao.OTPPurposes()
	for i := range 10 {
		f.send(t, phone, purposes[i%len(purposes)])
		f.clock.Add(time.Minute)
	}
	for _, p := range purposes {
		_, err := f.svc.Send(t.Context(), phone, p)
		want := verdict{"rate_limited", "this phone has been sent 10 codes today, the most a day allows; try again in 42600 seconds, after midnight China time"}
		if diff := cmp.Diff(want, verdictOf(err)); diff != "" {
			t.Errorf("11th send, %s (-want +got):\n%s", p, diff)
		}
	}
	f.send(t, "13900139000", hebao.PurposeLogin) // the limit is per phone
	f.clock.Add(42600*time.Second - time.Microsecond)
	_, err := f.svc.Send(t.Context(), phone, hebao.PurposeLogin)
	wantCode(t, "just before midnight", err, "rate_limited")
	f.clock.Add(time.Microsecond) // midnight in China, 16:00 UTC
	f.send(t, phone, hebao.PurposeLogin)
}

// TestOTPResendDoesNotReset: the limits come from the stored history, so a refused
// send, a new code or a used code changes nothing about them.
func TestOTPResendDoesNotReset(t *testing.T) {
	f := newOTP()
	first := f.send(t, phone, hebao.PurposeRegister)
	f.clock.Add(30 * time.Second)
	_, err := f.svc.Send(t.Context(), phone, hebao.PurposeRegister)
	wantCode(t, "resend after 30 s", err, "rate_limited")
	f.clock.Add(30 * time.Second) // 60 s after the first send; the refused one does not count
	second := f.send(t, phone, hebao.PurposeRegister)

	// The new code supersedes the first: only the latest code checks.
	if first != second {
		wantCode(t, "the superseded code", f.use(t, phone, hebao.PurposeRegister, first, nil), "otp_invalid")
	}
	if err := f.use(t, phone, hebao.PurposeRegister, second, nil); err != nil {
		t.Fatal(err)
	}
	// Using the code does not reopen the gap.
	f.clock.Add(30 * time.Second)
	_, err = f.svc.Send(t.Context(), phone, hebao.PurposeRegister)
	wantCode(t, "resend 30 s after a used code", err, "rate_limited")

	// Sends of every kind count towards the day: 2 so far, 8 more, then no more.
	for i := range 8 {
		f.clock.Add(time.Minute)
		f.send(t, phone, hebao.OTPPurposes()[i%7])
	}
	f.clock.Add(time.Minute)
	_, err = f.svc.Send(t.Context(), phone, hebao.PurposeUnfreeze)
	wantCode(t, "the 11th send of the day", err, "rate_limited")
}

func TestOTPGapAcrossMidnight(t *testing.T) {
	f := newOTP()
	f.clock.Add(12*time.Hour - 30*time.Second) // 23:59:30 in China
	f.send(t, phone, hebao.PurposeLogin)
	f.clock.Add(40 * time.Second) // 00:00:10, a new China day
	_, err := f.svc.Send(t.Context(), phone, hebao.PurposeLogin)
	want := verdict{"rate_limited", "a code for login was sent to this phone less than 60 seconds ago; try again in 20 seconds"}
	if diff := cmp.Diff(want, verdictOf(err)); diff != "" {
		t.Errorf("send across midnight (-want +got):\n%s", diff)
	}
}

func TestOTPConcurrentSends(t *testing.T) {
	f := newOTP()
	const n = 20
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() { _, errs[i] = f.svc.Send(t.Context(), phone, hebao.PurposeLogin) })
	}
	wg.Wait()
	count := map[string]int{}
	for _, err := range errs {
		count[hebao.ErrorCode(err)]++
	}
	if diff := cmp.Diff(map[string]int{"": 1, "rate_limited": n - 1}, count); diff != "" {
		t.Errorf("outcomes by code (-want +got):\n%s", diff)
	}
	if got := len(f.sms.msgs); got != 1 {
		t.Errorf("%d messages sent, want 1", got)
	}
}
