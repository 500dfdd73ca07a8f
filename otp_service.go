package hebao

import (
	"context"
	"crypto/hmac"
	"fmt"
	"time"
)

// OTPService sends SMS codes and checks them (SPEC §6).
type OTPService struct {
	Store Store
	// SMS sends the messages; nil means no gateway is configured, and Send answers
	// unavailable.
	SMS SMS
	// Key is the HMAC key codes are stored under, at least 16 bytes, kept outside
	// the database.
	Key []byte
	// Now is the clock; nil uses each transaction's time (Tx.Now). Tests pass a
	// fake one.
	Now func() time.Time
}

func (s *OTPService) now(tx Tx) time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return tx.Now()
}

func (s *OTPService) ready() error {
	if len(s.Key) < 16 {
		return fmt.Errorf("hebao: OTPService.Key must be at least 16 bytes")
	}
	return nil
}

// Send sends a new code for purpose to phone and returns how long it is valid. The
// code is stored (as its MAC) in one transaction against the limits; only once that
// has committed is the SMS sent, outside it. A code whose SMS failed still counts
// against the limits: a failing gateway is not hammered, and the phone is not
// flooded when it recovers.
// Errors: invalid_request (phone, purpose), rate_limited, unavailable (no gateway,
// or the gateway failed).
func (s *OTPService) Send(ctx context.Context, phone string, purpose OTPPurpose) (time.Duration, error) {
	if err := ValidatePhone(phone); err != nil {
		return 0, err
	}
	if err := validatePurpose(purpose); err != nil {
		return 0, err
	}
	if s.SMS == nil {
		return 0, Errorf(CodeUnavailable, "no SMS gateway is configured, so codes cannot be sent")
	}
	if err := s.ready(); err != nil {
		return 0, err
	}
	code, err := newOTPCode()
	if err != nil {
		return 0, err
	}
	o := OTP{ID: NewID("otp"), Phone: phone, Purpose: purpose}
	o.MAC = otpMAC(s.Key, o.ID, phone, purpose, code)
	err = s.Store.Transact(ctx, func(tx Tx) error {
		now := s.now(tx)
		sent, err := tx.OTPs(ctx, phone, otpHistoryStart(now))
		if err != nil {
			return err
		}
		if err := CanSendOTP(sent, purpose, now); err != nil {
			return err
		}
		o.SentAt, o.ExpiresAt = now, now.Add(OTPValidity)
		return tx.CreateOTP(ctx, o)
	})
	if err != nil {
		return 0, err
	}
	// The code is committed: deliver it even if the client stops waiting.
	if err := s.SMS.Send(context.WithoutCancel(ctx), phone, OTPText(purpose, code)); err != nil {
		e := Errorf(CodeUnavailable, "the SMS could not be sent; ask for a new code in %s", seconds(OTPResendGap))
		e.Err = fmt.Errorf("send SMS: %w", err)
		return 0, e
	}
	return OTPValidity, nil
}

// OTPPass is what a successful Check returns: proof that the caller holds the
// phone's latest code for a purpose. It spends nothing by itself; Use spends the
// code inside the transaction of the action it allows. The zero OTPPass proves
// nothing.
type OTPPass struct {
	id        string
	phone     string
	purpose   OTPPurpose
	expiresAt time.Time
}

// Phone is the phone the code was sent to.
func (p OTPPass) Phone() string { return p.phone }

// Purpose is what the code was sent for.
func (p OTPPass) Purpose() OTPPurpose { return p.purpose }

// Check checks code against the latest code sent to phone for purpose, in a
// transaction of its own, and returns a pass for Use.
//
// Why a transaction of its own: a wrong code must count against the code's
// OTPMaxChecks although the request that brought it fails, and Transact is all or
// nothing — a check counted inside the caller's closure would be rolled back with
// the caller's error, leaving unlimited guesses. Counting after the fact, in a
// second transaction, would let a burst of concurrent guesses all run before any
// count landed. So Check counts the check first and commits the count with the
// verdict, returning otp_invalid only after the commit; under the store's lock on
// the phone, concurrent checks are counted one at a time, even across processes.
// A right code is not spent here: the caller passes the pass to Use inside the
// closure that does what the code allows, so the code is spent if and only if that
// commits (a request refused for another reason may be retried with the same code,
// within its checks and its validity).
//
// Errors: invalid_request (phone, purpose, a code that is not 6 digits),
// otp_invalid (wrong, used, superseded by a newer code, never sent, or checked
// OTPMaxChecks times already), otp_expired.
func (s *OTPService) Check(ctx context.Context, phone string, purpose OTPPurpose, code string) (OTPPass, error) {
	if err := ValidatePhone(phone); err != nil {
		return OTPPass{}, err
	}
	if err := validatePurpose(purpose); err != nil {
		return OTPPass{}, err
	}
	if !validOTPCode(code) {
		return OTPPass{}, Errorf(CodeInvalidRequest, "the SMS code must be %d digits", otpDigits)
	}
	if err := s.ready(); err != nil {
		return OTPPass{}, err
	}
	var (
		pass    OTPPass
		verdict error
	)
	err := s.Store.Transact(ctx, func(tx Tx) error {
		pass, verdict = OTPPass{}, nil // the closure may run more than once
		now := s.now(tx)
		sent, err := tx.OTPs(ctx, phone, now.Add(-otpLookback))
		if err != nil {
			return err
		}
		var o *OTP
		for i := range sent {
			if sent[i].Purpose == purpose && (o == nil || sent[i].SentAt.After(o.SentAt)) {
				o = &sent[i]
			}
		}
		if o == nil {
			verdict = Errorf(CodeOTPInvalid, "no code for %s was sent to this phone; ask for one", purpose)
			return nil
		}
		if verdict = CheckableOTP(*o, now); verdict != nil {
			return nil
		}
		if err := tx.AddOTPCheck(ctx, o.ID); err != nil {
			return err
		}
		want := otpMAC(s.Key, o.ID, phone, purpose, code)
		if !hmac.Equal(want[:], o.MAC[:]) {
			switch left := OTPMaxChecks - o.Checks - 1; {
			case left > 1:
				verdict = Errorf(CodeOTPInvalid, "the code is wrong; %d tries left", left)
			case left == 1:
				verdict = Errorf(CodeOTPInvalid, "the code is wrong; 1 try left")
			default:
				verdict = Errorf(CodeOTPInvalid, "the code is wrong, and has now been tried %d times; ask for a new one", OTPMaxChecks)
			}
			return nil // commit the count
		}
		pass = OTPPass{id: o.ID, phone: phone, purpose: purpose, expiresAt: o.ExpiresAt}
		return nil
	})
	if err != nil {
		return OTPPass{}, err
	}
	return pass, verdict
}

// Use spends the code that p proves, inside tx: call it in the closure of the action
// the code allows, so that both commit or neither does.
// Errors: otp_invalid (a zero pass, or the code was spent already, by a concurrent
// request with the same code), otp_expired.
func (s *OTPService) Use(ctx context.Context, tx Tx, p OTPPass) error {
	if p.id == "" {
		return Errorf(CodeOTPInvalid, "no SMS code was checked")
	}
	now := s.now(tx)
	if !now.Before(p.expiresAt) {
		return Errorf(CodeOTPExpired, "the code has expired; ask for a new one")
	}
	ok, err := tx.UseOTP(ctx, p.id, now)
	if err != nil {
		return err
	}
	if !ok {
		return Errorf(CodeOTPInvalid, "this code has been used already; ask for a new one")
	}
	return nil
}
