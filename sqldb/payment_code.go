package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of payment codes.
const (
	paymentCodeInsert = `INSERT INTO payment_codes (code_hash, customer_id, created_at, expires_at, used_at) VALUES ($1, $2, $3, $4, 0)`
	paymentCodeByHash = `SELECT code_hash, customer_id, created_at, expires_at, used_at FROM payment_codes WHERE code_hash = $1`
	paymentCodeUse    = `UPDATE payment_codes SET used_at = $2 WHERE code_hash = $1 AND used_at = 0`
	passwordFreeCount = `SELECT COUNT(*) FROM orders WHERE customer_id = $1 AND paid_at >= $2 AND method = 'password_free'`
)

// CreatePaymentCode implements hebao.Tx.
func (t *tx) CreatePaymentCode(_ context.Context, c hebao.PaymentCode) error {
	if c.CustomerID == "" || c.Hash == ([32]byte{}) {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a payment code needs a hash and a customer")
	}
	if _, err := t.execOwn(paymentCodeInsert, c.Hash[:], c.CustomerID, c.CreatedAt.UnixMicro(), c.ExpiresAt.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("store payment code: %w", err))
	}
	return nil
}

// PaymentCode implements hebao.Tx.
func (t *tx) PaymentCode(_ context.Context, hash [32]byte) (hebao.PaymentCode, error) {
	if err := t.check(); err != nil {
		return hebao.PaymentCode{}, err
	}
	var (
		c                      hebao.PaymentCode
		h                      []byte
		created, expires, used int64
	)
	err := t.queryRow(paymentCodeByHash, hash[:]).Scan(&h, &c.CustomerID, &created, &expires, &used)
	if isNoRows(err) {
		return hebao.PaymentCode{}, hebao.Errorf(hebao.CodeNotFound, "no such payment code")
	}
	if err != nil {
		return hebao.PaymentCode{}, fmt.Errorf("read payment code: %w", err)
	}
	copy(c.Hash[:], h)
	c.CreatedAt, c.ExpiresAt, c.UsedAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC(), fromMicros(used)
	return c, nil
}

// UsePaymentCode implements hebao.Tx.
func (t *tx) UsePaymentCode(_ context.Context, hash [32]byte, at time.Time) (bool, error) {
	n, err := t.execOwn(paymentCodeUse, hash[:], at.UnixMicro())
	if err != nil {
		return false, t.retryable(fmt.Errorf("use payment code: %w", err))
	}
	return n == 1, nil
}

// PasswordFreePayments implements hebao.Tx.
func (t *tx) PasswordFreePayments(_ context.Context, customerID string, since time.Time) (int, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	var n int64
	if err := t.queryRow(passwordFreeCount, customerID, since.UnixMicro()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count password-free payments: %w", err)
	}
	// And those paid earlier in this batch, whose rows the flush has not written yet.
	for _, st := range t.b.orders {
		o := st.o
		if o.CustomerID == customerID && o.Method == "password_free" && st.loaded.Method != "password_free" && !o.PaidAt.Before(since) {
			n++
		}
	}
	return int(n), nil
}
