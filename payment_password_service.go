package hebao

import (
	"context"
	"errors"
	"sync"
	"time"
)

// PaymentPasswordKeyPurpose is the Keyring.DeriveKey purpose of the payment-password
// key.
const PaymentPasswordKeyPurpose = "payment password"

// The audit actions of payment passwords.
const (
	ActionPaymentPasswordSet    = "customer.payment_password_set"
	ActionPaymentPasswordReset  = "customer.payment_password_reset"
	ActionPaymentPasswordLocked = "customer.payment_password_locked"
)

// PaymentPassword is a wallet's stored payment password: its keyed hash
// (HashPaymentPassword) and the count of wrong tries.
type PaymentPassword struct {
	WalletID  string
	Hash      [32]byte
	State     PaymentPasswordState
	UpdatedAt time.Time
}

// PaymentPasswordTx is the part of Tx that keeps payment passwords.
type PaymentPasswordTx interface {
	// PaymentPassword returns the wallet's payment password; not_found if none is set.
	PaymentPassword(ctx context.Context, walletID string) (PaymentPassword, error)
	// SavePaymentPassword stores the wallet's payment password, replacing any.
	SavePaymentPassword(ctx context.Context, p PaymentPassword) error
}

// PaymentPasswordService sets, resets and checks payment passwords (SPEC §6).
type PaymentPasswordService struct {
	Store Store
	// Keys gives the payment-password key (DeriveKey) and opens the ID number.
	Keys *Keyring
	// OTP checks the set_payment_password and reset_payment_password codes.
	OTP OTPChecker
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time

	keyOnce sync.Once
	key     []byte // derived from Keys once: checks run on the store's committer
}

// hashKey returns the payment-password key.
func (s *PaymentPasswordService) hashKey() []byte {
	s.keyOnce.Do(func() { s.key = s.Keys.DeriveKey(PaymentPasswordKeyPurpose) })
	return s.key
}

// holder is what setting a payment password needs to know about the customer.
type holder struct {
	phone    string
	walletID string
	identity *Identity
	id       IDNumber
}

func (s *PaymentPasswordService) holder(ctx context.Context, customerID string) (holder, error) {
	var h holder
	err := s.Store.View(ctx, func(tx Tx) error {
		c, err := tx.CustomerByID(ctx, customerID)
		if err != nil {
			return err
		}
		w, err := tx.WalletByCustomer(ctx, customerID)
		if err != nil {
			return err
		}
		h = holder{phone: c.Phone, walletID: w.ID}
		id, err := tx.IdentityByCustomer(ctx, customerID)
		if ErrorCode(err) == CodeNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		b, err := s.Keys.Open(id.IDNumberSealed, []byte(customerID))
		if err != nil {
			return err
		}
		if h.id, err = ParseIDNumber(string(b)); err != nil {
			return err
		}
		h.identity = &id
		return nil
	})
	return h, err
}

// Set sets the wallet's payment password, replacing any and clearing the count of
// wrong tries, after the set_payment_password SMS code.
// Errors: invalid_request (not six digits, code format), payment_password_weak,
// otp_invalid, otp_expired, not_found (no wallet).
func (s *PaymentPasswordService) Set(ctx context.Context, customerID, pw, otp string) error {
	if !validOTPCode(otp) {
		return Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	h, err := s.holder(ctx, customerID)
	if err != nil {
		return err
	}
	if err := ValidatePaymentPassword(pw, PaymentPasswordHints{ID: h.id, Phone: h.phone}); err != nil {
		return err
	}
	pass, err := s.OTP.Check(ctx, h.phone, PurposeSetPaymentPassword, otp)
	if err != nil {
		return err
	}
	return s.save(ctx, customerID, h.walletID, pw, pass, ActionPaymentPasswordSet)
}

// Reset sets a new payment password after the reset_payment_password SMS code and
// the holder's ID number, and unlocks payments. A wrong ID number spends the code,
// so that one code cannot be used to guess ID numbers.
// Errors: invalid_request, id_number_invalid (malformed, or not the wallet's),
// real_name_required, payment_password_weak, otp_invalid, otp_expired.
func (s *PaymentPasswordService) Reset(ctx context.Context, customerID, otp, idNumber, pw string) error {
	if !validOTPCode(otp) {
		return Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	n, err := ParseIDNumber(idNumber)
	if err != nil {
		return err
	}
	h, err := s.holder(ctx, customerID)
	if err != nil {
		return err
	}
	if h.identity == nil {
		return Errorf(CodeRealNameRequired, "a payment password is reset with the ID number of the wallet's real name, and this wallet has none")
	}
	if err := ValidatePaymentPassword(pw, PaymentPasswordHints{ID: h.id, Phone: h.phone}); err != nil {
		return err
	}
	pass, err := s.OTP.Check(ctx, h.phone, PurposeResetPaymentPassword, otp)
	if err != nil {
		return err
	}
	if s.Keys.Lookup(LookupIDNumber, n.Number()) != h.identity.IDLookup {
		err := s.Store.Transact(ctx, func(tx Tx) error { return s.OTP.Use(ctx, tx, pass) })
		if err != nil {
			return err
		}
		return Errorf(CodeIDNumberInvalid, "the ID number is not the one of this wallet's real name; ask for a new code and try again")
	}
	return s.save(ctx, customerID, h.walletID, pw, pass, ActionPaymentPasswordReset)
}

// save spends the code and stores pw with a clear count, audited as action.
func (s *PaymentPasswordService) save(ctx context.Context, customerID, walletID, pw string, pass OTPPass, action string) error {
	hash := HashPaymentPassword(s.Keys.DeriveKey(PaymentPasswordKeyPurpose), walletID, pw)
	return s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		if err := s.OTP.Use(ctx, tx, pass); err != nil {
			return err
		}
		if err := tx.SavePaymentPassword(ctx, PaymentPassword{WalletID: walletID, Hash: hash, UpdatedAt: now}); err != nil {
			return err
		}
		return tx.AddAudit(ctx, audit(ctx, now, Actor{ActorCustomer, customerID}, action, customerID, map[string]string{"wallet_id": walletID}))
	})
}

// Check checks pw against the wallet's payment password in a transaction of its own,
// the count of wrong tries committed before the verdict is returned: the same check
// the money-moving use cases make inside their own transaction (checkIn).
// Errors: payment_password_wrong (wrong, or none is set), payment_password_locked.
func (s *PaymentPasswordService) Check(ctx context.Context, walletID, pw string) error {
	var verdict error
	err := s.Store.Transact(ctx, func(tx Tx) error {
		verdict = nil
		var stored *PaymentPassword
		p, err := tx.PaymentPassword(ctx, walletID)
		switch {
		case err == nil:
			stored = &p
		case ErrorCode(err) != CodeNotFound:
			return err
		}
		err = s.checkIn(ctx, tx, walletID, pw, stored, nowIn(s.Now, tx))
		var kept *committedError
		switch {
		case errors.As(err, &kept): // a wrong try, counted: commit it
			verdict = kept.err
			return nil
		case ErrorCode(err) == CodePaymentPasswordWrong || ErrorCode(err) == CodePaymentPasswordLocked:
			verdict = err // locked, or none set: nothing written
			return nil
		}
		return err
	})
	if err != nil {
		return err
	}
	return verdict
}

// checkIn checks pw inside a money-moving transaction against the wallet's stored
// payment password p (nil: none set). A right one clears an earlier count of wrong
// tries in the same transaction. A wrong one is counted in the same transaction too,
// and the error returned says to commit that count although the request fails
// (Committed): so concurrent guesses, even in one batch of the store, are counted one
// after another and the lock after PaymentPasswordMaxFailures holds whatever
// happens to the connection. A locked wallet is refused.
// Errors: payment_password_wrong, payment_password_locked.
func (s *PaymentPasswordService) checkIn(ctx context.Context, tx Tx, walletID, pw string, p *PaymentPassword, now time.Time) error {
	if p == nil {
		return Errorf(CodePaymentPasswordWrong, "this wallet has no payment password yet; set one first")
	}
	ok := len(pw) == PaymentPasswordDigits && CheckPaymentPassword(s.hashKey(), walletID, pw, p.Hash)
	next, verdict := p.State.Check(now, ok)
	if next == p.State {
		return verdict // right with nothing to clear, or locked
	}
	wasLocked := p.State.Locked(now)
	q := *p
	q.State, q.UpdatedAt = next, now
	if err := tx.SavePaymentPassword(ctx, q); err != nil {
		return err
	}
	if !wasLocked && next.Locked(now) {
		rec := audit(ctx, now, Actor{ActorSystem, "payment-password"}, ActionPaymentPasswordLocked, walletID,
			map[string]string{"wallet_id": walletID, "locked_until": next.LockedUntil.UTC().Format(time.RFC3339)})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
	}
	if verdict != nil {
		return Committed(verdict)
	}
	return nil
}
