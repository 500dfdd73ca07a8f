package sqldb

import (
	"context"
	"fmt"

	"github.com/hebaopay/hebao"
)

// The statements of wallets by id and their status (SPEC §6, §9).
const (
	walletByID = `SELECT id, customer_id, status, tier, account_id, promo_account_id, points_account_id, created_at
FROM wallets WHERE id = $1`
	walletSetStatus = `UPDATE wallets SET status = $2 WHERE id = $1`
)

// WalletByID implements hebao.Tx.
func (t *tx) WalletByID(_ context.Context, id string) (hebao.Wallet, error) {
	if err := t.check(); err != nil {
		return hebao.Wallet{}, err
	}
	w, err := scanWallet(t.queryRow(walletByID, id))
	if isNoRows(err) {
		return hebao.Wallet{}, hebao.Errorf(hebao.CodeNotFound, "no such wallet")
	}
	if err != nil {
		return hebao.Wallet{}, fmt.Errorf("read wallet: %w", err)
	}
	return w, nil
}

// SetWalletStatus implements hebao.Tx.
func (t *tx) SetWalletStatus(_ context.Context, walletID string, status hebao.WalletStatus) error {
	if status == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a wallet needs a status")
	}
	n, err := t.exec(walletSetStatus, walletID, string(status))
	if err != nil {
		return t.retryable(fmt.Errorf("set wallet status: %w", err))
	}
	if n == 0 {
		return hebao.Errorf(hebao.CodeNotFound, "no such wallet")
	}
	return nil
}
