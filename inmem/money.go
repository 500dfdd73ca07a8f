package inmem

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hebaopay/hebao"
)

func (t *tx) CreateMovement(_ context.Context, m hebao.Movement) error {
	if err := t.write(); err != nil {
		return err
	}
	if m.ID == "" || m.WalletID == "" || m.Kind == "" || m.Status == "" || m.Amount <= 0 {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a movement needs an id, a wallet, a kind, a status and a positive amount")
	}
	if _, ok := t.d.movements[m.ID]; ok {
		return conflict("movement")
	}
	if _, ok := t.d.wallets[m.WalletID]; !ok {
		return notFound("wallet")
	}
	t.d.movements[m.ID] = m
	return nil
}

func (t *tx) Movement(_ context.Context, walletID, id string) (hebao.Movement, error) {
	if err := t.read(); err != nil {
		return hebao.Movement{}, err
	}
	m, ok := t.d.movements[id]
	if !ok || m.WalletID != walletID {
		return hebao.Movement{}, notFound("transaction")
	}
	return m, nil
}

func (t *tx) Movements(_ context.Context, walletID, before string, limit int) ([]hebao.Movement, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Movement
	for _, m := range t.d.movements {
		if m.WalletID == walletID && (before == "" || m.ID < before) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Movement) int { return strings.Compare(b.ID, a.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *tx) FinishMovement(_ context.Context, walletID, id string, status hebao.MovementStatus, failureCode string, at time.Time) (bool, error) {
	if err := t.write(); err != nil {
		return false, err
	}
	m, ok := t.d.movements[id]
	if !ok || m.WalletID != walletID || m.Status != hebao.MovementPending {
		return false, nil
	}
	m.Status, m.FailureCode, m.UpdatedAt = status, failureCode, at
	t.d.movements[id] = m
	return true, nil
}

func (t *tx) PendingMovements(_ context.Context, before time.Time, limit int) ([]hebao.Movement, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Movement
	for _, m := range t.d.movements {
		if m.Status == hebao.MovementPending && m.UpdatedAt.Before(before) &&
			(m.Kind == hebao.MovementTopup || m.Kind == hebao.MovementWithdrawal || m.Kind == hebao.MovementRefund) {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Movement) int {
		if c := a.UpdatedAt.Compare(b.UpdatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *tx) Usage(_ context.Context, walletID string) (hebao.Usage, error) {
	if err := t.read(); err != nil {
		return hebao.Usage{}, err
	}
	u, ok := t.d.usage[walletID]
	if !ok {
		u = hebao.Usage{WalletID: walletID}
	}
	return u, nil
}

func (t *tx) SaveUsage(_ context.Context, u hebao.Usage) error {
	if err := t.write(); err != nil {
		return err
	}
	t.d.usage[u.WalletID] = u
	return nil
}

func (t *tx) AccountByOwner(_ context.Context, kind hebao.AccountKind, owner string) (hebao.Account, error) {
	if err := t.read(); err != nil {
		return hebao.Account{}, err
	}
	var found *hebao.Account
	for _, a := range t.d.accounts {
		if a.Kind == kind && a.Owner == owner && (found == nil || a.ID < found.ID) {
			a := a
			found = &a
		}
	}
	if found == nil {
		return hebao.Account{}, notFound("account")
	}
	return *found, nil
}

func (t *tx) Device(_ context.Context, customerID, deviceID string) (hebao.Device, error) {
	if err := t.read(); err != nil {
		return hebao.Device{}, err
	}
	d, ok := t.d.devices[[2]string{customerID, deviceID}]
	if !ok {
		return hebao.Device{}, notFound("device")
	}
	return d, nil
}

func (t *tx) Payer(ctx context.Context, customerID string) (hebao.Payer, error) {
	w, err := t.WalletByCustomer(ctx, customerID)
	if err != nil {
		return hebao.Payer{}, err
	}
	p := hebao.Payer{Wallet: w, Phone: t.d.customers[customerID].Phone}
	if pw, err := t.PaymentPassword(ctx, w.ID); err == nil {
		p.Password = &pw
	} else if hebao.ErrorCode(err) != hebao.CodeNotFound {
		return hebao.Payer{}, err
	}
	if p.Usage, err = t.Usage(ctx, w.ID); err != nil {
		return hebao.Payer{}, err
	}
	return p, nil
}

func (t *tx) Payee(ctx context.Context, walletID, phone string) (hebao.Wallet, string, error) {
	if walletID == "" {
		c, err := t.CustomerByPhone(ctx, phone)
		if err != nil {
			return hebao.Wallet{}, "", err
		}
		w, err := t.WalletByCustomer(ctx, c.ID)
		return w, c.Phone, err
	}
	w, err := t.WalletByID(ctx, walletID)
	if err != nil {
		return hebao.Wallet{}, "", err
	}
	return w, t.d.customers[w.CustomerID].Phone, nil
}
