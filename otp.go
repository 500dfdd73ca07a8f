package hebao

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"fmt"
	"math/big"
	"strings"
	"time"
)

// OTPPurpose says what an SMS code is for. A code checks only for the purpose it was
// sent for, so a code sent to sign in cannot bind a card.
type OTPPurpose string

// The purposes of SPEC §13.
const (
	PurposeRegister             OTPPurpose = "register"
	PurposeLogin                OTPPurpose = "login"
	PurposeBindCard             OTPPurpose = "bind_card"
	PurposeSetPaymentPassword   OTPPurpose = "set_payment_password"
	PurposeResetPaymentPassword OTPPurpose = "reset_payment_password"
	PurposeUnfreeze             OTPPurpose = "unfreeze"
	PurposeStepUp               OTPPurpose = "step_up"
)

// otpPurposes names each purpose in the text of the SMS, in Chinese and English.
var otpPurposes = []struct {
	p      OTPPurpose
	zh, en string
}{
	{PurposeRegister, "注册", "registering"},
	{PurposeLogin, "登录", "signing in"},
	{PurposeBindCard, "绑定银行卡", "binding a bank card"},
	{PurposeSetPaymentPassword, "设置支付密码", "setting your payment password"},
	{PurposeResetPaymentPassword, "重置支付密码", "resetting your payment password"},
	{PurposeUnfreeze, "解冻钱包", "unfreezing your wallet"},
	{PurposeStepUp, "确认支付", "confirming a payment"},
}

// OTPPurposes returns every purpose, in the order of SPEC §13.
func OTPPurposes() []OTPPurpose {
	out := make([]OTPPurpose, len(otpPurposes))
	for i, p := range otpPurposes {
		out[i] = p.p
	}
	return out
}

// Valid reports whether p is one of the purposes of SPEC §13.
func (p OTPPurpose) Valid() bool {
	for _, q := range otpPurposes {
		if q.p == p {
			return true
		}
	}
	return false
}

// The rules of SPEC §6 for SMS codes.
const (
	OTPValidity   = 5 * time.Minute  // a code is valid this long after it is sent
	OTPMaxChecks  = 5                // checks of one code, right or wrong
	OTPResendGap  = 60 * time.Second // between two sends for the same phone and purpose
	OTPDailySends = 10               // sends per phone and China day, all purposes
	otpDigits     = 6
	// otpLookback is how far back a check looks for the code it checks: far enough
	// to tell an expired code from one never sent.
	otpLookback = 24 * time.Hour
)

// chinaTime is UTC+8, which has no daylight saving: the daily limit resets at its
// midnight.
var chinaTime = time.FixedZone("UTC+8", 8*60*60)

// ValidatePhone accepts a mainland China mobile number: 11 digits, the first 1 and
// the second 3 to 9, with nothing around it (no +86, spaces or dashes).
// Errors: invalid_request.
func ValidatePhone(phone string) error {
	ok := len(phone) == 11 && phone[0] == '1' && phone[1] >= '3' && phone[1] <= '9'
	for i := 2; ok && i < len(phone); i++ {
		ok = phone[i] >= '0' && phone[i] <= '9'
	}
	if !ok {
		return Errorf(CodeInvalidRequest, "phone must be a mainland China mobile number: 11 digits starting with 13 to 19")
	}
	return nil
}

func validatePurpose(p OTPPurpose) error {
	if !p.Valid() {
		names := make([]string, len(otpPurposes))
		for i, q := range otpPurposes {
			names[i] = string(q.p)
		}
		return Errorf(CodeInvalidRequest, "purpose must be one of %s", strings.Join(names, ", "))
	}
	return nil
}

// OTP is one SMS code as stored. The code itself is never stored: only its
// HMAC-SHA-256 under a key kept outside the database, so a stolen database cannot be
// searched for the million possible codes.
type OTP struct {
	ID        string
	Phone     string
	Purpose   OTPPurpose
	MAC       [32]byte
	SentAt    time.Time
	ExpiresAt time.Time
	Checks    int       // how often it was checked, right or wrong
	UsedAt    time.Time // zero while unused
}

// SMS sends text messages. Implementations are adapters (a development inbox, an
// operator's HTTP gateway); they are called outside any database transaction.
type SMS interface {
	Send(ctx context.Context, phone, text string) error
}

// SMSMessage is a text message as a development gateway keeps it.
type SMSMessage struct {
	Phone  string
	Text   string
	SentAt time.Time
}

// OTPText is the message that carries code, in Chinese and English. It names the
// purpose, so that someone who did not ask for the code knows what it would allow.
func OTPText(purpose OTPPurpose, code string) string {
	zh, en := string(purpose), string(purpose)
	for _, q := range otpPurposes {
		if q.p == purpose {
			zh, en = q.zh, q.en
		}
	}
	return fmt.Sprintf("【荷包 Hebao】验证码 %s，用于%s，%d分钟内有效，请勿告诉他人。Your Hebao code for %s is %s (valid %d minutes). Never share it.",
		code, zh, int(OTPValidity/time.Minute), en, code, int(OTPValidity/time.Minute))
}

// CanSendOTP decides whether a code for purpose may be sent at now, given sent: the
// phone's codes of every purpose sent since the start of now's China day or since
// OTPResendGap before now, whichever is earlier. The limits are computed from that
// history alone, so neither a resend nor a used code resets them.
// Errors: rate_limited, saying how many seconds to wait.
func CanSendOTP(sent []OTP, purpose OTPPurpose, now time.Time) error {
	day := chinaDay(now)
	today := 0
	var last time.Time
	for _, o := range sent {
		if !o.SentAt.Before(day) {
			today++
		}
		if o.Purpose == purpose && o.SentAt.After(last) {
			last = o.SentAt
		}
	}
	if today >= OTPDailySends {
		return Errorf(CodeRateLimited, "this phone has been sent %d codes today, the most a day allows; try again in %s, after midnight China time",
			today, seconds(day.AddDate(0, 0, 1).Sub(now)))
	}
	if !last.IsZero() {
		if wait := last.Add(OTPResendGap).Sub(now); wait > 0 {
			return Errorf(CodeRateLimited, "a code for %s was sent to this phone less than %d seconds ago; try again in %s",
				purpose, int(OTPResendGap/time.Second), seconds(wait))
		}
	}
	return nil
}

// CheckableOTP decides whether o may be checked at now.
// Errors: otp_invalid when it was used or checked too often, otp_expired.
func CheckableOTP(o OTP, now time.Time) error {
	switch {
	case !o.UsedAt.IsZero():
		return Errorf(CodeOTPInvalid, "this code has been used already; ask for a new one")
	case !now.Before(o.ExpiresAt):
		return Errorf(CodeOTPExpired, "the code has expired; ask for a new one")
	case o.Checks >= OTPMaxChecks:
		return Errorf(CodeOTPInvalid, "this code has been tried %d times, the most allowed; ask for a new one", OTPMaxChecks)
	}
	return nil
}

// chinaDay is the start of t's day in China time.
func chinaDay(t time.Time) time.Time {
	y, m, d := t.In(chinaTime).Date()
	return time.Date(y, m, d, 0, 0, 0, 0, chinaTime)
}

// otpHistoryStart is where the history CanSendOTP needs begins: the China day's
// start, or earlier when the day is younger than the resend gap.
func otpHistoryStart(now time.Time) time.Time {
	day, gap := chinaDay(now), now.Add(-OTPResendGap)
	if gap.Before(day) {
		return gap
	}
	return day
}

// seconds says how long d is in whole seconds, rounded up.
func seconds(d time.Duration) string {
	n := int64((d + time.Second - 1) / time.Second)
	if n == 1 {
		return "1 second"
	}
	return fmt.Sprintf("%d seconds", n)
}

// newOTPCode returns 6 digits from crypto/rand, uniformly.
func newOTPCode() (string, error) {
	n, err := rand.Int(rand.Reader, big.NewInt(1_000_000))
	if err != nil {
		return "", fmt.Errorf("generate SMS code: %w", err)
	}
	return fmt.Sprintf("%0*d", otpDigits, n.Int64()), nil
}

// otpMAC binds a code to its row, phone and purpose: the same code sent twice
// stores two unrelated MACs, and a MAC copied to another row does not check.
func otpMAC(key []byte, id, phone string, purpose OTPPurpose, code string) [32]byte {
	m := hmac.New(sha256.New, key)
	fmt.Fprintf(m, "hebao otp v1\x00%s\x00%s\x00%s\x00%s", id, phone, purpose, code)
	var out [32]byte
	m.Sum(out[:0])
	return out
}

func validOTPCode(code string) bool {
	if len(code) != otpDigits {
		return false
	}
	for _, c := range []byte(code) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}
