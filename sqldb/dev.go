package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of development mode's tables (migration 021).
const (
	devSMSInsert = `INSERT INTO dev_sms (id, phone, body, sent_at) VALUES ($1, $2, $3, $4)`
	devSMSTrim   = `DELETE FROM dev_sms WHERE phone = $1 AND id NOT IN
(SELECT id FROM dev_sms WHERE phone = $1 ORDER BY sent_at DESC, id DESC LIMIT $2)`
	devSMSByPhone = `SELECT phone, body, sent_at FROM dev_sms WHERE phone = $1 ORDER BY sent_at DESC, id DESC`
	devSeedSelect = `SELECT body FROM dev_seed WHERE id = 1`
	devSeedUpsert = `INSERT INTO dev_seed (id, body) VALUES (1, $1) ON CONFLICT (id) DO UPDATE SET body = excluded.body`
)

// AddDevSMS implements hebao.Tx.
func (t *tx) AddDevSMS(_ context.Context, m hebao.SMSMessage, keep int) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if _, err := t.execOwn(devSMSInsert, hebao.NewID("sms"), m.Phone, m.Text, m.SentAt.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("keep development SMS: %w", err))
	}
	if _, err := t.execOwn(devSMSTrim, m.Phone, int64(keep)); err != nil {
		return t.retryable(fmt.Errorf("trim development SMS: %w", err))
	}
	return nil
}

// DevSMS implements hebao.Tx.
func (t *tx) DevSMS(_ context.Context, phone string) ([]hebao.SMSMessage, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(devSMSByPhone, phone)
	if err != nil {
		return nil, fmt.Errorf("read development SMS: %w", err)
	}
	defer rs.Close()
	var out []hebao.SMSMessage
	for rs.Next() {
		var (
			m  hebao.SMSMessage
			at int64
		)
		if err := rs.Scan(&m.Phone, &m.Text, &at); err != nil {
			return nil, fmt.Errorf("read development SMS: %w", err)
		}
		m.SentAt = time.UnixMicro(at).UTC()
		out = append(out, m)
	}
	return out, rs.Err()
}

// DevSeed implements hebao.Tx.
func (t *tx) DevSeed(context.Context) ([]byte, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	var body string
	err := t.queryRow(devSeedSelect).Scan(&body)
	if isNoRows(err) {
		return nil, hebao.Errorf(hebao.CodeNotFound, "nothing seeded for development yet")
	}
	if err != nil {
		return nil, fmt.Errorf("read development seed: %w", err)
	}
	return []byte(body), nil
}

// SaveDevSeed implements hebao.Tx.
func (t *tx) SaveDevSeed(_ context.Context, seed []byte) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if _, err := t.execOwn(devSeedUpsert, string(seed)); err != nil {
		return t.retryable(fmt.Errorf("save development seed: %w", err))
	}
	return nil
}

// devSeedLock is the advisory lock key that keeps two development servers from
// seeding one PostgreSQL database at once.
const devSeedLock = 0x68656262 // "hebb"

// WhileSeeding runs fn while no other process sharing this database runs its own
// fn: on PostgreSQL under an advisory lock held on a connection of its own, on
// SQLite (one process per database) at once. `serve --dev` seeds under it, so that
// several development servers starting together seed once.
func (db *DB) WhileSeeding(ctx context.Context, fn func() error) error {
	p, ok := db.b.(*pgDB)
	if !ok {
		return fn()
	}
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("sqldb: seeding lock: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, `SELECT pg_advisory_lock($1)`, devSeedLock); err != nil {
		return fmt.Errorf("sqldb: seeding lock: %w", err)
	}
	defer conn.Exec(context.Background(), `SELECT pg_advisory_unlock($1)`, devSeedLock)
	return fn()
}
