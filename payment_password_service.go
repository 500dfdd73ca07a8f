package hebao

import (
	"context"
	"encoding/json"
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
	// ActionPaymentPasswordResetStart: an agent locked the payment password until
	// the holder resets it.
	ActionPaymentPasswordResetStart = "wallet.payment_password_reset_start"
)

// EventPaymentPasswordReset is the outbox event of a payment-password reset started
// by customer service. Its payload is a PaymentPasswordResetEvent; it becomes a
// notification in the customer's inbox and an SMS to the wallet's phone.
const EventPaymentPasswordReset = "payment_password.reset_required"

// PaymentPasswordResetEvent is the payload of EventPaymentPasswordReset.
type PaymentPasswordResetEvent struct {
	CustomerID string    `json:"customer_id"`
	WalletID   string    `json:"wallet_id"`
	At         time.Time `json:"at"`
}

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
	// Committed, if set, is called after a commit that wrote an outbox event, to
	// wake the dispatcher.
	Committed func()

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

// save spends the code and stores pw with a clear count, audited as action. A set
// (not a reset) is refused while customer service has locked the password until a
// reset: the SMS code alone must not lift that lock.
func (s *PaymentPasswordService) save(ctx context.Context, customerID, walletID, pw string, pass OTPPass, action string) error {
	hash := HashPaymentPassword(s.Keys.DeriveKey(PaymentPasswordKeyPurpose), walletID, pw)
	return s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		if action == ActionPaymentPasswordSet {
			p, err := tx.PaymentPassword(ctx, walletID)
			if err != nil && ErrorCode(err) != CodeNotFound {
				return err
			}
			if err == nil && p.State.ResetRequired() {
				return Errorf(CodePaymentPasswordLocked, "customer service has locked this payment password until it is reset: reset it with an SMS code and your ID number instead")
			}
		}
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

// ResetStart is what an agent's start of a payment-password reset did: the wallet
// whose payment password is now locked until its holder resets it, and when.
type ResetStart struct {
	Wallet Wallet
	At     time.Time
}

// StartReset starts a payment-password reset for a customer who called customer
// service (SPEC §9), after an identity check whose description is required and
// audited with the staff member. In one transaction the wallet's payment password is
// locked with no end (ResetLocked: every payment with it, the right one too, is
// payment_password_locked, and setting a new one with only an SMS code is refused)
// and an outbox event tells the customer, in the inbox and by SMS, to set a new one
// in the app with an SMS code and their ID number (Reset), which lifts the lock.
// The agent never sees or chooses the new password.
// Errors: invalid_request (id, identity_check), not_found (no wallet),
// real_name_required (no ID number to finish a reset with), conflict (closed wallet,
// no payment password set, or a reset already started).
func (s *PaymentPasswordService) StartReset(ctx context.Context, st Staff, walletID, identityCheck string) (ResetStart, error) {
	check, err := validNote("identity_check", identityCheck)
	if err != nil {
		return ResetStart{}, err
	}
	var out ResetStart
	err = s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		w, err := byWalletID(ctx, walletID)(tx)
		if err != nil {
			return err
		}
		if w.Status == WalletClosed {
			return Errorf(CodeConflict, "this wallet is closed: it has no payment password to reset")
		}
		if _, err := tx.IdentityByCustomer(ctx, w.CustomerID); ErrorCode(err) == CodeNotFound {
			return Errorf(CodeRealNameRequired, "this wallet has no real name, so its holder could not finish a reset with an ID number; they can set a new payment password in the app with an SMS code")
		} else if err != nil {
			return err
		}
		p, err := tx.PaymentPassword(ctx, w.ID)
		if ErrorCode(err) == CodeNotFound {
			return Errorf(CodeConflict, "this wallet has no payment password yet, so there is none to reset; the holder sets one in the app")
		}
		if err != nil {
			return err
		}
		if p.State.ResetRequired() {
			return Errorf(CodeConflict, "a reset of this payment password was started already (%s) and the holder has not finished it yet", p.UpdatedAt.UTC().Format(time.RFC3339))
		}
		p.State, p.UpdatedAt = ResetLocked(), now
		if err := tx.SavePaymentPassword(ctx, p); err != nil {
			return err
		}
		rec := audit(ctx, now, Actor{ActorStaff, st.ID}, ActionPaymentPasswordResetStart, w.CustomerID,
			map[string]string{"wallet_id": w.ID, "identity_check": check, "via": "agent"})
		if err := tx.AddAudit(ctx, rec); err != nil {
			return err
		}
		payload, err := json.Marshal(PaymentPasswordResetEvent{CustomerID: w.CustomerID, WalletID: w.ID, At: now.UTC()})
		if err != nil {
			return err
		}
		if err := tx.Emit(ctx, Event{Kind: EventPaymentPasswordReset, Payload: payload}); err != nil {
			return err
		}
		out = ResetStart{Wallet: w, At: now}
		return nil
	})
	if err != nil {
		return ResetStart{}, err
	}
	if s.Committed != nil {
		s.Committed()
	}
	return out, nil
}
