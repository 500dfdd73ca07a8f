package hebao

import (
	"crypto/hmac"
	"crypto/sha256"
	"time"
)

// CodePaymentPasswordWeak is the public code for a payment password that is too easy
// to guess (422): a trivial pattern, the holder's date of birth, the end of their ID
// number or of their phone number.
const CodePaymentPasswordWeak = "payment_password_weak"

// The payment password rules of SPEC §6.
const (
	PaymentPasswordDigits      = 6
	PaymentPasswordMaxFailures = 5             // wrong tries in a row that lock payments
	PaymentPasswordLockout     = 3 * time.Hour // how long they stay locked
)

// PaymentPasswordHints is what is known about the holder when a payment password is
// set, so that ValidatePaymentPassword can refuse one made of it. Each field is
// optional; a zero field is not checked.
type PaymentPasswordHints struct {
	ID    IDNumber // the holder's resident ID number, once real-named
	Phone string   // the wallet's phone number
}

// ValidatePaymentPassword checks a new payment password: exactly six ASCII digits, and
// none of the patterns people guess first, which are refused as weak:
//   - one digit six times (111111);
//   - a run up or down by one (012345, 123456 … 456789, 987654 … 543210);
//   - a pair or a triple repeated (121212, 123123), three doubled digits (112233) and
//     two tripled ones (111222);
//   - the holder's date of birth as YYMMDD or MMDDYY, or the last six characters of
//     their ID number when those are digits;
//   - the last six digits of their phone number.
//
// Error messages say which rule said no, never the password.
// Errors: invalid_request (not six digits), payment_password_weak.
func ValidatePaymentPassword(pw string, h PaymentPasswordHints) error {
	if len(pw) != PaymentPasswordDigits || !allDigits(pw) {
		return Errorf(CodeInvalidRequest, "the payment password must be %d digits", PaymentPasswordDigits)
	}
	if why := trivialPaymentPassword(pw); why != "" {
		return Errorf(CodePaymentPasswordWeak, "this payment password is too easy to guess: %s; choose another", why)
	}
	if !h.ID.IsZero() {
		b := h.ID.BirthDate()
		if pw == b.Format("060102") || pw == b.Format("010206") {
			return Errorf(CodePaymentPasswordWeak, "this payment password is your date of birth; choose another")
		}
		if pw == h.ID.Number()[12:] {
			return Errorf(CodePaymentPasswordWeak, "this payment password is the end of your ID number; choose another")
		}
	}
	if len(h.Phone) >= PaymentPasswordDigits && pw == h.Phone[len(h.Phone)-PaymentPasswordDigits:] {
		return Errorf(CodePaymentPasswordWeak, "this payment password is the end of your phone number; choose another")
	}
	return nil
}

// trivialPaymentPassword names the pattern of six digits pw, or returns "".
func trivialPaymentPassword(pw string) string {
	same, up, down := true, true, true
	for i := 1; i < len(pw); i++ {
		same = same && pw[i] == pw[0]
		up = up && pw[i] == pw[i-1]+1
		down = down && pw[i] == pw[i-1]-1
	}
	switch {
	case same:
		return "all six digits are the same"
	case up || down:
		return "its digits count up or down"
	case pw[:2] == pw[2:4] && pw[2:4] == pw[4:]:
		return "it repeats two digits"
	case pw[:3] == pw[3:]:
		return "it repeats three digits"
	case pw[0] == pw[1] && pw[2] == pw[3] && pw[4] == pw[5]:
		return "it doubles three digits"
	case pw[0] == pw[1] && pw[1] == pw[2] && pw[3] == pw[4] && pw[4] == pw[5]:
		return "it triples two digits"
	}
	return ""
}

// HashPaymentPassword returns the stored form of a payment password:
// HMAC-SHA-256 under key, a server secret of at least 32 bytes kept outside the
// database (such as Keyring.DeriveKey("payment_password")), over the wallet id and the
// password, so equal passwords of two wallets store unrelated hashes.
//
// Not argon2, as for login passwords, on purpose (SPEC §6): six digits are a million
// guesses, which no affordable hashing cost protects, while every payment checks the
// password and must stay fast. What protects it is the key — a stolen database alone
// cannot be brute-forced, since each guess needs the key — and the lockout, which
// allows PaymentPasswordMaxFailures guesses per PaymentPasswordLockout online. A check
// costs about a microsecond. Changing the key invalidates every payment password (the
// holders reset theirs with an SMS code and their ID number).
func HashPaymentPassword(key []byte, walletID, pw string) [32]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("hebao payment password v1\x00" + walletID + "\x00" + pw))
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// CheckPaymentPassword reports whether pw is the payment password whose stored hash is
// want, comparing in constant time. Feed the result to PaymentPasswordState.Check.
func CheckPaymentPassword(key []byte, walletID, pw string, want [32]byte) bool {
	got := HashPaymentPassword(key, walletID, pw)
	return hmac.Equal(got[:], want[:])
}

// PaymentPasswordState is a wallet's count of wrong payment passwords, as stored with
// the wallet. The zero value is a wallet with no wrong tries.
type PaymentPasswordState struct {
	Failures    int       // wrong tries in a row since the last right one or lock
	LockedUntil time.Time // payments are locked before this; zero when never locked
}

// PaymentPasswordResetLock is the LockedUntil of a payment password that customer
// service has locked until its holder resets it (PaymentPasswordService.StartReset):
// a lock with no end, kept in the same field as the lockout after wrong tries, so
// every check that honours the lockout honours it too and only a reset (SMS code and
// ID number), which stores the zero state, lifts it.
var PaymentPasswordResetLock = time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC)

// ResetLocked returns the state of a payment password that customer service has
// locked until its holder resets it.
func ResetLocked() PaymentPasswordState {
	return PaymentPasswordState{LockedUntil: PaymentPasswordResetLock}
}

// Locked reports whether payments are locked at now.
func (s PaymentPasswordState) Locked(now time.Time) bool { return now.Before(s.LockedUntil) }

// ResetRequired reports whether customer service has locked the payment password
// until its holder resets it.
func (s PaymentPasswordState) ResetRequired() bool {
	return !s.LockedUntil.Before(PaymentPasswordResetLock)
}

// Check records one payment password check at now, ok saying whether the password was
// right (CheckPaymentPassword), and returns the state to store and the verdict.
// While locked, every check is refused, the right password too, and the state does not
// change; a lock that has run out starts a new count. A right password resets the
// count. A wrong one counts: below PaymentPasswordMaxFailures in a row it is
// payment_password_wrong, saying how many tries are left; the last one locks payments
// for PaymentPasswordLockout. A reset of the password (SMS code and ID number) stores
// the zero state.
// Errors: payment_password_wrong, payment_password_locked, saying until when.
func (s PaymentPasswordState) Check(now time.Time, ok bool) (PaymentPasswordState, error) {
	if s.Locked(now) {
		return s, lockedError(s.LockedUntil)
	}
	if ok {
		return PaymentPasswordState{}, nil
	}
	if !s.LockedUntil.IsZero() {
		s = PaymentPasswordState{}
	}
	s.Failures++
	if s.Failures >= PaymentPasswordMaxFailures {
		s.LockedUntil = now.Add(PaymentPasswordLockout)
		return s, lockedError(s.LockedUntil)
	}
	left := PaymentPasswordMaxFailures - s.Failures
	if left == 1 {
		return s, Errorf(CodePaymentPasswordWrong, "the payment password is wrong; 1 try left before payments are locked for %d hours", int(PaymentPasswordLockout/time.Hour))
	}
	return s, Errorf(CodePaymentPasswordWrong, "the payment password is wrong; %d tries left", left)
}

func lockedError(until time.Time) error {
	if !until.Before(PaymentPasswordResetLock) {
		return Errorf(CodePaymentPasswordLocked, "customer service has locked this payment password at the holder's request, so payments with it are refused; set a new one in the app with an SMS code and the ID number (reset payment password) to unlock them")
	}
	return Errorf(CodePaymentPasswordLocked, "the payment password was wrong %d times in a row, so payments are locked until %s China time (%s); reset the payment password to unlock them now",
		PaymentPasswordMaxFailures, until.In(chinaTime).Format("2006-01-02 15:04:05"), until.UTC().Format(time.RFC3339))
}
