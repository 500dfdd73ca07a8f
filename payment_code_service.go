package hebao

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/binary"
	"fmt"
	"time"
)

// PaymentCodeService issues the codes a customer shows at a till, and takes them.
type PaymentCodeService struct {
	Store Store
	// Keys gives the payment-code key (DeriveKey(PaymentCodeKeyPurpose)): each
	// customer's code secret is derived from it, and codes are stored hashed under it.
	Keys *Keyring
	Now  func() time.Time
}

// IssuedCode is a code for the customer's app to show, as a barcode and a QR code.
type IssuedCode struct {
	Code      string
	ExpiresAt time.Time
}

// Issue makes a new payment code for the customer, valid PaymentCodeLifetime. Its 16
// digits after the prefix come from an HMAC, under the customer's own secret, of the
// time and 128 random bits: about 53 bits that nobody can predict, so with every
// wallet showing a code at once, a till guessing still has no real chance.
// Errors: not_found (no wallet), wallet_frozen.
func (s *PaymentCodeService) Issue(ctx context.Context, customerID string) (IssuedCode, error) {
	key := s.Keys.DeriveKey(PaymentCodeKeyPurpose)
	var out IssuedCode
	err := s.Store.Transact(ctx, func(tx Tx) error {
		w, err := tx.WalletByCustomer(ctx, customerID)
		if err != nil {
			return err
		}
		if err := CanPay(w); err != nil {
			return err
		}
		now := nowIn(s.Now, tx)
		code := newPaymentCode(key, customerID, now)
		out = IssuedCode{Code: code, ExpiresAt: now.Add(PaymentCodeLifetime)}
		return tx.CreatePaymentCode(ctx, PaymentCode{Hash: paymentCodeHash(key, code), CustomerID: customerID, CreatedAt: now, ExpiresAt: out.ExpiresAt})
	})
	return out, err
}

func newPaymentCode(key []byte, customerID string, now time.Time) string {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("customer:" + customerID))
	secret := m.Sum(nil)
	var seed [24]byte
	binary.BigEndian.PutUint64(seed[:8], uint64(now.UnixNano()))
	rand.Read(seed[8:])
	m = hmac.New(sha256.New, secret)
	m.Write(seed[:])
	n := binary.BigEndian.Uint64(m.Sum(nil)[:8]) % 1e16
	return fmt.Sprintf("%s%016d", PaymentCodePrefix, n)
}

func paymentCodeHash(key []byte, code string) [32]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("code:" + code))
	var h [32]byte
	copy(h[:], m.Sum(nil))
	return h
}

// ValidPaymentCodeFormat reports whether s looks like one of our payment codes.
func ValidPaymentCodeFormat(s string) bool {
	if len(s) != PaymentCodeDigits || s[:2] != PaymentCodePrefix {
		return false
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// take uses the code in tx and returns its customer.
// Errors: payment_code_invalid (unknown, expired or used).
func (s *PaymentCodeService) take(ctx context.Context, tx Tx, code string, now time.Time) (string, error) {
	refused := Errorf(CodePaymentCodeInvalid, "this payment code is not valid: ask the customer to refresh it and scan again")
	if !ValidPaymentCodeFormat(code) {
		return "", refused
	}
	want := paymentCodeHash(s.Keys.DeriveKey(PaymentCodeKeyPurpose), code)
	c, err := tx.PaymentCode(ctx, want)
	if ErrorCode(err) == CodeNotFound {
		return "", refused
	}
	if err != nil {
		return "", err
	}
	// The lookup went by the hash; the comparison is constant-time all the same.
	if subtle.ConstantTimeCompare(c.Hash[:], want[:]) != 1 || !now.Before(c.ExpiresAt) || !c.UsedAt.IsZero() {
		return "", refused
	}
	ok, err := tx.UsePaymentCode(ctx, want, now)
	if err != nil {
		return "", err
	}
	if !ok {
		return "", refused
	}
	return c.CustomerID, nil
}
