package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of the notification inbox, the outbox's delivery and the wallet
// settings. Booleans are stored as INTEGER 0 or 1 in both databases.
const (
	notificationInsert = `INSERT INTO notifications (id, customer_id, kind, title, amount, counterparty, balance_after, transaction_id, created_at)
VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (id) DO NOTHING`
	notificationColumns = `SELECT id, customer_id, kind, title, amount, counterparty, balance_after, transaction_id, created_at FROM notifications`
	notificationsNewest = notificationColumns + `
WHERE customer_id = $1 ORDER BY id DESC LIMIT $2`
	notificationsBefore = notificationColumns + `
WHERE customer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`
	outboxPending = `SELECT id, kind, payload, created_at FROM outbox
WHERE delivered_at IS NULL ORDER BY created_at, id LIMIT $1`
	// On PostgreSQL a dispatcher locks the events it takes and passes over those
	// another dispatcher holds, so two of them never deliver the same batch at once.
	outboxPendingLocked = outboxPending + ` FOR UPDATE SKIP LOCKED`
	// On SQLite the outbox holds only events still to deliver, in id order (ids are
	// time-sortable): a delivered event is deleted.
	sqliteOutboxPending = `SELECT id, kind, payload, created_at FROM outbox ORDER BY id LIMIT $1`
	sqliteOutboxDelete  = `DELETE FROM outbox WHERE id = $1`
	// The first delivery time is kept if an event is delivered again.
	outboxDelivered  = `UPDATE outbox SET delivered_at = $2 WHERE id = $1 AND delivered_at IS NULL`
	walletSettingsBy = `SELECT password_free, password_free_limit, auto_topup, sms_threshold FROM wallet_settings WHERE wallet_id = $1`
	walletSettingsUp = `INSERT INTO wallet_settings (wallet_id, password_free, password_free_limit, auto_topup, sms_threshold)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (wallet_id) DO UPDATE SET password_free = excluded.password_free,
password_free_limit = excluded.password_free_limit, auto_topup = excluded.auto_topup, sms_threshold = excluded.sms_threshold`
)

// AddNotification implements hebao.Tx.
func (t *tx) AddNotification(_ context.Context, n hebao.Notification) error {
	if n.ID == "" || n.CustomerID == "" || n.Kind == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a notification needs an id, a customer and a kind")
	}
	// Notifications and the outbox are not rows the row cache holds (payers,
	// payees, limit counters): writing them leaves the batch trusting it, where a
	// plain exec would make every batch the dispatcher shares read its payers again.
	added, err := t.execOwn(notificationInsert, n.ID, n.CustomerID, n.Kind, n.Title, n.Amount, n.Counterparty,
		n.BalanceAfter, n.TransactionID, n.CreatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store notification: %w", err))
	}
	if _, pg := t.b.w.(*pgTx); pg && added == 1 {
		// Announce it to every process's listener (ListenNotifications): PostgreSQL
		// sends it at commit, and not at all if the batch or this closure rolls back.
		// A notification stored already (an event dispatched twice) is not announced
		// again.
		payload, err := json.Marshal(n)
		if err != nil {
			return err
		}
		if _, err := t.execOwn(pgNotify, NotificationChannel, string(payload)); err != nil {
			return t.retryable(fmt.Errorf("announce notification: %w", err))
		}
	}
	return nil
}

// Notifications implements hebao.Tx.
func (t *tx) Notifications(_ context.Context, customerID, before string, limit int) ([]hebao.Notification, error) {
	if limit <= 0 {
		return nil, nil
	}
	var (
		rs  closingRows
		err error
	)
	if before == "" {
		rs, err = t.query(notificationsNewest, customerID, int64(limit))
	} else {
		rs, err = t.query(notificationsBefore, customerID, before, int64(limit))
	}
	if err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	defer rs.Close()
	var out []hebao.Notification
	for rs.Next() {
		var (
			n       hebao.Notification
			created int64
		)
		err := rs.Scan(&n.ID, &n.CustomerID, &n.Kind, &n.Title, &n.Amount, &n.Counterparty, &n.BalanceAfter, &n.TransactionID, &created)
		if err != nil {
			return nil, fmt.Errorf("read notifications: %w", err)
		}
		n.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, n)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read notifications: %w", err)
	}
	return out, nil
}

// PendingEvents implements hebao.Tx. Events emitted by other closures of the same
// batch are not in the outbox yet: the next call finds them.
func (t *tx) PendingEvents(_ context.Context, limit int) ([]hebao.Event, error) {
	if limit <= 0 {
		return nil, nil
	}
	q := sqliteOutboxPending
	if _, pg := t.b.w.(*pgTx); pg {
		q = outboxPending
		if !t.b.readOnly {
			q = outboxPendingLocked
		}
	}
	rs, err := t.query(q, int64(limit))
	if err != nil {
		return nil, t.retryable(fmt.Errorf("read outbox: %w", err))
	}
	defer rs.Close()
	var out []hebao.Event
	for rs.Next() {
		var (
			e       hebao.Event
			created int64
		)
		if err := rs.Scan(&e.ID, &e.Kind, &e.Payload, &created); err != nil {
			return nil, fmt.Errorf("read outbox: %w", err)
		}
		e.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read outbox: %w", err)
	}
	return out, nil
}

// MarkDelivered implements hebao.Tx. On PostgreSQL the event is kept with its
// delivery time; on SQLite it is deleted, so that the outbox needs no index of the
// events still pending (every index costs each event another b-tree insert).
func (t *tx) MarkDelivered(_ context.Context, ids []string, at time.Time) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	_, pg := t.b.w.(*pgTx)
	for _, id := range ids {
		q, args := outboxDelivered, []any{id, at.UnixMicro()}
		if !pg {
			q, args = sqliteOutboxDelete, []any{id}
		}
		if _, err := t.execOwn(q, args...); err != nil {
			return t.retryable(fmt.Errorf("mark event %s delivered: %w", id, err))
		}
	}
	return nil
}

// WalletSettings implements hebao.Tx.
func (t *tx) WalletSettings(_ context.Context, walletID string) (hebao.WalletSettings, error) {
	if err := t.check(); err != nil {
		return hebao.WalletSettings{}, err
	}
	var pwFree, autoTopup int64
	s := hebao.WalletSettings{WalletID: walletID}
	err := t.queryRow(walletSettingsBy, walletID).Scan(&pwFree, &s.PasswordFreeLimit, &autoTopup, &s.SMSThreshold)
	if isNoRows(err) {
		return hebao.DefaultWalletSettings(walletID), nil
	}
	if err != nil {
		return hebao.WalletSettings{}, fmt.Errorf("read wallet settings: %w", err)
	}
	s.PasswordFree, s.AutoTopup = pwFree != 0, autoTopup != 0
	return s, nil
}

// SaveWalletSettings implements hebao.Tx. Errors: not_found when the wallet does not
// exist.
func (t *tx) SaveWalletSettings(_ context.Context, s hebao.WalletSettings) error {
	if s.WalletID == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "wallet settings need a wallet")
	}
	_, err := t.exec(walletSettingsUp, s.WalletID, settingsFlag(s.PasswordFree), s.PasswordFreeLimit, settingsFlag(s.AutoTopup), s.SMSThreshold)
	if err != nil {
		return t.retryable(fmt.Errorf("store wallet settings: %w", err))
	}
	return nil
}

// settingsFlag is how a boolean is stored in an INTEGER column.
func settingsFlag(b bool) int64 {
	if b {
		return 1
	}
	return 0
}
