package inmem

import (
	"context"
	"time"

	"github.com/hebaopay/hebao"
)

func (t *tx) CreatePaymentCode(_ context.Context, c hebao.PaymentCode) error {
	if err := t.write(); err != nil {
		return err
	}
	if c.CustomerID == "" || c.Hash == ([32]byte{}) {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a payment code needs a hash and a customer")
	}
	if _, ok := t.d.codes[c.Hash]; ok {
		return conflict("payment code")
	}
	t.d.codes[c.Hash] = c
	return nil
}

func (t *tx) PaymentCode(_ context.Context, hash [32]byte) (hebao.PaymentCode, error) {
	if err := t.read(); err != nil {
		return hebao.PaymentCode{}, err
	}
	c, ok := t.d.codes[hash]
	if !ok {
		return hebao.PaymentCode{}, notFound("payment code")
	}
	return c, nil
}

func (t *tx) UsePaymentCode(_ context.Context, hash [32]byte, at time.Time) (bool, error) {
	if err := t.write(); err != nil {
		return false, err
	}
	c, ok := t.d.codes[hash]
	if !ok || !c.UsedAt.IsZero() {
		return false, nil
	}
	c.UsedAt = at
	t.d.codes[hash] = c
	return true, nil
}

func (t *tx) PasswordFreePayments(_ context.Context, customerID string, since time.Time) (int, error) {
	if err := t.read(); err != nil {
		return 0, err
	}
	n := 0
	for _, o := range t.d.orders {
		if o.CustomerID == customerID && o.Method == "password_free" && !o.PaidAt.IsZero() && !o.PaidAt.Before(since) {
			n++
		}
	}
	return n, nil
}
