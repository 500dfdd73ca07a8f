package hebao

import (
	"context"
	"time"
)

// Notification is one message in a customer's inbox (SPEC §8): made by the
// dispatcher from an outbox event, pushed live to the customer's open sessions, and
// sent by SMS when its amount reaches the customer's threshold.
type Notification struct {
	// ID is derived from the event and the customer, so an event dispatched twice
	// (delivery is at least once) still makes one notification.
	ID            string
	CustomerID    string
	Kind          string // e.g. "transfer_in.succeeded": the movement kind and status
	Title         string // one line in plain words, e.g. "You received ¥12.34 from 138****0000"
	Amount        int64
	Counterparty  string
	BalanceAfter  int64
	TransactionID string
	CreatedAt     time.Time
}

// NotificationTx is the part of Tx that keeps inboxes and reads the outbox.
type NotificationTx interface {
	// AddNotification stores n; a notification with the same id already stored is
	// kept and nothing changes.
	AddNotification(ctx context.Context, n Notification) error
	// Notifications returns up to limit of the customer's notifications, newest
	// first, with ids below before (from the newest when before is "").
	Notifications(ctx context.Context, customerID, before string, limit int) ([]Notification, error)
	// PendingEvents returns up to limit outbox events not yet delivered, oldest
	// first. Inside Transact on PostgreSQL they are locked, skipping events another
	// dispatcher holds.
	PendingEvents(ctx context.Context, limit int) ([]Event, error)
	// MarkDelivered marks the events with the given ids delivered at at.
	MarkDelivered(ctx context.Context, ids []string, at time.Time) error
	// WalletSettings returns the wallet's settings; the defaults when none were saved.
	WalletSettings(ctx context.Context, walletID string) (WalletSettings, error)
	// WalletSettingsOf returns the settings of each of the wallets, the defaults for
	// those whose holders chose none: what WalletSettings answers, for many wallets
	// in one read (the dispatcher weighs a whole round's movements at once).
	WalletSettingsOf(ctx context.Context, walletIDs []string) (map[string]WalletSettings, error)
	// SaveWalletSettings stores the wallet's settings, replacing any.
	SaveWalletSettings(ctx context.Context, s WalletSettings) error
}

// WalletSettings are the choices a customer makes for their wallet
// (PUT /v1/wallet/settings).
type WalletSettings struct {
	WalletID string
	// PasswordFree lets a merchant's till take a payment code without the payment
	// password, up to PasswordFreeLimit fen per payment (SPEC §5).
	PasswordFree      bool
	PasswordFreeLimit int64
	// AutoTopup tops up the shortfall of a payment from the bound cards.
	AutoTopup bool
	// SMSThreshold sends an SMS for every movement of at least this many fen;
	// SMSOff (the default) sends none.
	SMSThreshold int64
}

// SMSOff is the SMSThreshold that sends no SMS.
const SMSOff int64 = -1

// DefaultPasswordFreeLimit is the default password-free allowance per payment:
// ¥1,000 (SPEC §5).
const DefaultPasswordFreeLimit int64 = 1_000 * 100

// DefaultWalletSettings returns the settings of a wallet whose holder chose none.
func DefaultWalletSettings(walletID string) WalletSettings {
	return WalletSettings{WalletID: walletID, PasswordFree: true, PasswordFreeLimit: DefaultPasswordFreeLimit, SMSThreshold: SMSOff}
}
