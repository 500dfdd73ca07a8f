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
	noteColumns = `notifications (id, customer_id, kind, title, amount, counterparty, balance_after, transaction_id, created_at)`
	noteValues  = `(?, ?, ?, ?, ?, ?, ?, ?, ?)`
	// SQLite: one row, and sqliteChunk rows, a statement.
	sqliteInsertNotification  = `INSERT INTO ` + noteColumns + ` VALUES ` + noteValues + ` ON CONFLICT (id) DO NOTHING`
	sqliteInsertNotifications = `INSERT INTO ` + noteColumns + ` VALUES ` +
		noteValues + `, ` + noteValues + `, ` + noteValues + `, ` + noteValues + `, ` +
		noteValues + `, ` + noteValues + `, ` + noteValues + `, ` + noteValues + ` ON CONFLICT (id) DO NOTHING`
	// PostgreSQL: the batch's notifications in one statement, which also announces
	// each one it inserted ($10: the channel; $11: the JSON of each).
	pgInsertNotifications = `WITH new AS (INSERT INTO ` + noteColumns + `
SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::text[], $7::bigint[], $8::text[], $9::bigint[])
ON CONFLICT (id) DO NOTHING RETURNING id)
SELECT pg_notify($10, p.payload) FROM unnest($1::text[], $11::text[]) WITH ORDINALITY AS p(id, payload, n)
JOIN new ON new.id = p.id ORDER BY p.n`
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
	pgOutboxDelivered = `UPDATE outbox SET delivered_at = d.at FROM unnest($1::text[], $2::bigint[]) AS d(id, at)
WHERE outbox.id = d.id AND outbox.delivered_at IS NULL`
	pgWalletSettingsOf = `SELECT wallet_id, password_free, password_free_limit, auto_topup, sms_threshold FROM wallet_settings WHERE wallet_id = ANY($1::text[])`
	walletSettingsBy   = `SELECT password_free, password_free_limit, auto_topup, sms_threshold FROM wallet_settings WHERE wallet_id = $1`
	walletSettingsUp   = `INSERT INTO wallet_settings (wallet_id, password_free, password_free_limit, auto_topup, sms_threshold)
VALUES ($1, $2, $3, $4, $5) ON CONFLICT (wallet_id) DO UPDATE SET password_free = excluded.password_free,
password_free_limit = excluded.password_free_limit, auto_topup = excluded.auto_topup, sms_threshold = excluded.sms_threshold`
)

// noteRow is a notification buffered for the flush, with the JSON that PostgreSQL
// announces to every process's listener (ListenNotifications) if the row is new.
type noteRow struct {
	n       hebao.Notification
	payload string // "" on SQLite
}

// deliveredRow is an outbox event marked delivered, buffered for the flush.
type deliveredRow struct {
	id string
	at int64 // unix µs
}

// AddNotification implements hebao.Tx. The notification is buffered and written at
// the flush with the batch's other rows: a dispatcher round then costs a statement
// per batch, not one (and on PostgreSQL a round trip, and another to announce it)
// per notification.
func (t *tx) AddNotification(_ context.Context, n hebao.Notification) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if n.ID == "" || n.CustomerID == "" || n.Kind == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a notification needs an id, a customer and a kind")
	}
	row := noteRow{n: n}
	if _, pg := t.b.w.(*pgTx); pg {
		// PostgreSQL sends the announcement at commit, and not at all if the batch
		// rolls back; the flush announces only the rows it inserted, so a
		// notification stored already (an event dispatched twice) is not announced
		// again.
		payload, err := json.Marshal(n)
		if err != nil {
			return err
		}
		row.payload = string(payload)
	}
	t.b.notes = append(t.b.notes, row)
	return nil
}

func noteArgs(n hebao.Notification) []any {
	return []any{n.ID, n.CustomerID, n.Kind, n.Title, n.Amount, n.Counterparty, n.BalanceAfter, n.TransactionID, n.CreatedAt.UnixMicro()}
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
		if t.b.markedDelivered(e.ID) {
			continue // delivered in this batch, not yet written
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
// events still pending (every index costs each event another b-tree insert). Either
// is buffered and written at the flush.
func (t *tx) MarkDelivered(_ context.Context, ids []string, at time.Time) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	for _, id := range ids {
		t.b.delivered = append(t.b.delivered, deliveredRow{id: id, at: at.UnixMicro()})
	}
	return nil
}

// markedDelivered reports whether a closure of this batch marked the event delivered.
func (b *batchState) markedDelivered(id string) bool {
	for _, d := range b.delivered {
		if d.id == id {
			return true
		}
	}
	return false
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

// WalletSettingsOf implements hebao.Tx: on PostgreSQL one round trip for all.
func (t *tx) WalletSettingsOf(ctx context.Context, walletIDs []string) (map[string]hebao.WalletSettings, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	out := make(map[string]hebao.WalletSettings, len(walletIDs))
	if _, pg := t.b.w.(*pgTx); !pg {
		// SQLite: a prepared statement a wallet costs less than binding a list, and
		// the committer's row cache answers for the wallets it has seen while no
		// other connection has committed (cache.go).
		for _, id := range walletIDs {
			if s, ok := t.b.rows.settings[id]; ok && t.b.rowsOK {
				out[id] = s
				continue
			}
			s, err := t.WalletSettings(ctx, id)
			if err != nil {
				return nil, err
			}
			out[id] = s
			if t.b.rowsOK {
				t.b.rows.full()
				t.b.rows.settings[id] = s
			}
		}
		return out, nil
	}
	for _, id := range walletIDs {
		out[id] = hebao.DefaultWalletSettings(id)
	}
	rs, err := t.query(pgWalletSettingsOf, walletIDs)
	if err != nil {
		return nil, t.retryable(fmt.Errorf("read wallet settings: %w", err))
	}
	defer rs.Close()
	for rs.Next() {
		var pwFree, autoTopup int64
		var s hebao.WalletSettings
		if err := rs.Scan(&s.WalletID, &pwFree, &s.PasswordFreeLimit, &autoTopup, &s.SMSThreshold); err != nil {
			return nil, fmt.Errorf("read wallet settings: %w", err)
		}
		s.PasswordFree, s.AutoTopup = pwFree != 0, autoTopup != 0
		out[s.WalletID] = s
	}
	if err := rs.Err(); err != nil {
		return nil, t.retryable(fmt.Errorf("read wallet settings: %w", err))
	}
	return out, nil
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
