package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of customers, wallets and devices.
const (
	customerInsert  = `INSERT INTO customers (id, phone, password_hash, created_at) VALUES ($1, $2, $3, $4)`
	customerByPhone = `SELECT id, phone, password_hash, created_at FROM customers WHERE phone = $1`
	walletInsert    = `INSERT INTO wallets (id, customer_id, status, tier, account_id, promo_account_id, points_account_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`
	walletByCustomer = `SELECT id, customer_id, status, tier, account_id, promo_account_id, points_account_id, created_at
FROM wallets WHERE customer_id = $1`
	deviceInsert = `INSERT INTO devices (customer_id, device_id, first_seen_at) VALUES ($1, $2, $3)
ON CONFLICT (customer_id, device_id) DO NOTHING`
	deviceKnown = `SELECT COUNT(*) FROM devices WHERE customer_id = $1 AND device_id = $2`
	// The account's postings come by index; each joins its transfer for the kind
	// and the time.
)

// CreateCustomer implements hebao.Tx.
func (t *tx) CreateCustomer(_ context.Context, c hebao.Customer) error {
	if c.ID == "" || c.Phone == "" || c.PasswordHash == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a customer needs an id, a phone and a password hash")
	}
	if _, err := t.exec(customerInsert, c.ID, c.Phone, c.PasswordHash, c.CreatedAt.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("store customer: %w", err))
	}
	return nil
}

// CustomerByPhone implements hebao.Tx.
func (t *tx) CustomerByPhone(_ context.Context, phone string) (hebao.Customer, error) {
	if err := t.check(); err != nil {
		return hebao.Customer{}, err
	}
	var (
		c       hebao.Customer
		created int64
	)
	err := t.queryRow(customerByPhone, phone).Scan(&c.ID, &c.Phone, &c.PasswordHash, &created)
	if isNoRows(err) {
		return hebao.Customer{}, hebao.Errorf(hebao.CodeNotFound, "no customer has this phone number")
	}
	if err != nil {
		return hebao.Customer{}, fmt.Errorf("read customer: %w", err)
	}
	c.CreatedAt = time.UnixMicro(created).UTC()
	return c, nil
}

// CreateWallet implements hebao.Tx.
func (t *tx) CreateWallet(_ context.Context, w hebao.Wallet) error {
	if w.ID == "" || w.CustomerID == "" || w.Status == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a wallet needs an id, a customer and a status")
	}
	_, err := t.exec(walletInsert, w.ID, w.CustomerID, string(w.Status), int64(w.Tier),
		int64(w.Account), int64(w.PromoAccount), int64(w.PointsAccount), w.CreatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store wallet: %w", err))
	}
	if _, err := t.exec(usageCreate, w.ID); err != nil {
		return t.retryable(fmt.Errorf("store wallet: %w", err))
	}
	return nil
}

// WalletByCustomer implements hebao.Tx.
func (t *tx) WalletByCustomer(_ context.Context, customerID string) (hebao.Wallet, error) {
	if err := t.check(); err != nil {
		return hebao.Wallet{}, err
	}
	w, err := scanWallet(t.queryRow(walletByCustomer, customerID))
	if isNoRows(err) {
		return hebao.Wallet{}, hebao.Errorf(hebao.CodeNotFound, "this customer has no wallet")
	}
	if err != nil {
		return hebao.Wallet{}, fmt.Errorf("read wallet: %w", err)
	}
	return w, nil
}

// AddDevice implements hebao.Tx.
func (t *tx) AddDevice(_ context.Context, d hebao.Device) error {
	if d.CustomerID == "" || d.ID == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a device needs a customer and an id")
	}
	if _, err := t.exec(deviceInsert, d.CustomerID, d.ID, d.FirstSeenAt.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("store device: %w", err))
	}
	return nil
}

// KnownDevice implements hebao.Tx.
func (t *tx) KnownDevice(_ context.Context, customerID, deviceID string) (bool, error) {
	if err := t.check(); err != nil {
		return false, err
	}
	var n int64
	if err := t.queryRow(deviceKnown, customerID, deviceID).Scan(&n); err != nil {
		return false, fmt.Errorf("read device: %w", err)
	}
	return n > 0, nil
}

// scanWallet reads one row of the columns walletByID and walletByCustomer select.
func scanWallet(row scanner) (hebao.Wallet, error) {
	var (
		w hebao.Wallet
		r walletRow
	)
	if err := row.Scan(r.dest(&w)...); err != nil {
		return w, err
	}
	r.fill(&w)
	return w, nil
}
