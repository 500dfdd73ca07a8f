package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of identities and wallet tiers.
const (
	identityInsert = `INSERT INTO identities (customer_id, name_sealed, id_number_sealed, id_lookup, created_at)
VALUES ($1, $2, $3, $4, $5)`
	identityColumns    = `SELECT customer_id, name_sealed, id_number_sealed, id_lookup, created_at FROM identities `
	identityByCustomer = identityColumns + `WHERE customer_id = $1`
	identityByLookup   = identityColumns + `WHERE id_lookup = $1`
	walletSetTier      = `UPDATE wallets SET tier = $2 WHERE id = $1`
)

// CreateIdentity implements hebao.Tx.
func (t *tx) CreateIdentity(_ context.Context, id hebao.Identity) error {
	if id.CustomerID == "" || id.NameSealed == "" || id.IDNumberSealed == "" || id.IDLookup == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "an identity needs a customer, a sealed name and ID number, and a lookup hash")
	}
	_, err := t.exec(identityInsert, id.CustomerID, id.NameSealed, id.IDNumberSealed, id.IDLookup, id.CreatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store identity: %w", err))
	}
	return nil
}

// IdentityByCustomer implements hebao.Tx.
func (t *tx) IdentityByCustomer(_ context.Context, customerID string) (hebao.Identity, error) {
	return t.identity(identityByCustomer, customerID)
}

// IdentityByLookup implements hebao.Tx.
func (t *tx) IdentityByLookup(_ context.Context, lookup string) (hebao.Identity, error) {
	return t.identity(identityByLookup, lookup)
}

func (t *tx) identity(query, arg string) (hebao.Identity, error) {
	if err := t.check(); err != nil {
		return hebao.Identity{}, err
	}
	var (
		id      hebao.Identity
		created int64
	)
	err := t.queryRow(query, arg).Scan(&id.CustomerID, &id.NameSealed, &id.IDNumberSealed, &id.IDLookup, &created)
	if isNoRows(err) {
		return hebao.Identity{}, hebao.Errorf(hebao.CodeNotFound, "no real name is recorded")
	}
	if err != nil {
		return hebao.Identity{}, fmt.Errorf("read identity: %w", err)
	}
	id.CreatedAt = time.UnixMicro(created).UTC()
	return id, nil
}

// SetWalletTier implements hebao.Tx.
func (t *tx) SetWalletTier(_ context.Context, walletID string, tier int) error {
	if tier < 1 || tier > 4 {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a tier is 1 to 4")
	}
	n, err := t.exec(walletSetTier, walletID, int64(tier))
	if err != nil {
		return t.retryable(fmt.Errorf("set wallet tier: %w", err))
	}
	if n == 0 {
		return hebao.Errorf(hebao.CodeNotFound, "no such wallet")
	}
	return nil
}

// The statements of payment passwords.
const (
	payPasswordByWallet = `SELECT wallet_id, hash, failures, locked_until, updated_at FROM payment_passwords WHERE wallet_id = $1`
	payPasswordUpsert   = `INSERT INTO payment_passwords (wallet_id, hash, failures, locked_until, updated_at) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT (wallet_id) DO UPDATE SET hash = excluded.hash, failures = excluded.failures,
locked_until = excluded.locked_until, updated_at = excluded.updated_at`
)

// PaymentPassword implements hebao.Tx.
func (t *tx) PaymentPassword(_ context.Context, walletID string) (hebao.PaymentPassword, error) {
	if err := t.check(); err != nil {
		return hebao.PaymentPassword{}, err
	}
	var (
		p                         hebao.PaymentPassword
		hash                      []byte
		failures, locked, updated int64
	)
	err := t.queryRow(payPasswordByWallet, walletID).Scan(&p.WalletID, &hash, &failures, &locked, &updated)
	if isNoRows(err) {
		return hebao.PaymentPassword{}, hebao.Errorf(hebao.CodeNotFound, "no payment password is set")
	}
	if err != nil {
		return hebao.PaymentPassword{}, fmt.Errorf("read payment password: %w", err)
	}
	if len(hash) != len(p.Hash) {
		return hebao.PaymentPassword{}, fmt.Errorf("payment password of %s: stored hash has %d bytes, want %d", walletID, len(hash), len(p.Hash))
	}
	copy(p.Hash[:], hash)
	p.State.Failures = int(failures)
	if locked != 0 {
		p.State.LockedUntil = time.UnixMicro(locked).UTC()
	}
	p.UpdatedAt = time.UnixMicro(updated).UTC()
	return p, nil
}

// SavePaymentPassword implements hebao.Tx.
func (t *tx) SavePaymentPassword(_ context.Context, p hebao.PaymentPassword) error {
	if p.WalletID == "" || p.Hash == [32]byte{} {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a payment password needs a wallet and a hash")
	}
	var locked int64
	if !p.State.LockedUntil.IsZero() {
		locked = p.State.LockedUntil.UnixMicro()
	}
	_, err := t.exec(payPasswordUpsert, p.WalletID, p.Hash[:], int64(p.State.Failures), locked, p.UpdatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store payment password: %w", err))
	}
	return nil
}
