package inmem

import (
	"context"

	"github.com/hebaopay/hebao"
)

// WalletByID implements hebao.Tx.
func (t *tx) WalletByID(_ context.Context, id string) (hebao.Wallet, error) {
	if err := t.read(); err != nil {
		return hebao.Wallet{}, err
	}
	if w, ok := t.d.wallets[id]; ok {
		return w, nil
	}
	return hebao.Wallet{}, notFound("wallet")
}

// SetWalletStatus implements hebao.Tx.
func (t *tx) SetWalletStatus(_ context.Context, walletID string, status hebao.WalletStatus) error {
	if err := t.write(); err != nil {
		return err
	}
	w, ok := t.d.wallets[walletID]
	if !ok {
		return notFound("wallet")
	}
	w.Status = status
	t.d.wallets[walletID] = w
	return nil
}
