package hebao

import (
	"context"
	"time"
)

// Payment codes (付款码, SPEC §5): 18 digits, prefix 81, single use, valid 60 s.
const (
	PaymentCodePrefix   = "81"
	PaymentCodeDigits   = 18
	PaymentCodeLifetime = 60 * time.Second
	// PasswordFreeDaily is how many password-free payments a wallet makes a day.
	PasswordFreeDaily = 10
	// PaymentCodeKeyPurpose is the Keyring.DeriveKey purpose of the payment-code key.
	PaymentCodeKeyPurpose = "payment code"
)

// PaymentCode is a code a customer showed, as the store keeps it: never the code
// itself, only its keyed hash, so a copy of the database shows no live code.
type PaymentCode struct {
	Hash       [32]byte
	CustomerID string
	CreatedAt  time.Time
	ExpiresAt  time.Time
	UsedAt     time.Time // zero until a till used it
}

// PaymentCodeTx is the part of Tx that keeps payment codes.
type PaymentCodeTx interface {
	// CreatePaymentCode stores a new code; conflict if its hash exists.
	CreatePaymentCode(ctx context.Context, c PaymentCode) error
	// PaymentCode returns the code with this hash; not_found if none.
	PaymentCode(ctx context.Context, hash [32]byte) (PaymentCode, error)
	// UsePaymentCode marks the code used at at, and reports whether it did: false,
	// changing nothing, when it was used already.
	UsePaymentCode(ctx context.Context, hash [32]byte, at time.Time) (bool, error)
	// PasswordFreePayments counts the customer's password-free payments at or after
	// since.
	PasswordFreePayments(ctx context.Context, customerID string, since time.Time) (int, error)
}
