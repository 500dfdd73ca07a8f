package sqldb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hebaopay/hebao"
)

// NotificationChannel is the PostgreSQL channel on which each stored notification is
// announced, as JSON, when its transaction commits.
const NotificationChannel = "hebao_notifications"

const pgNotify = `SELECT pg_notify($1, $2)`

// ErrNoListen is ListenNotifications on SQLite: one process owns a SQLite database,
// so its dispatcher tells its own subscribers directly.
var ErrNoListen = errors.New("sqldb: only PostgreSQL announces notifications to other processes")

// ListenNotifications calls fn with every notification that any process sharing
// this PostgreSQL database stores from now on — this one's included — until ctx
// ends, on a connection of its own. So a customer whose event stream is open on one
// server sees a payment dispatched by another within moments. If the connection
// drops it connects again, after a pause of up to 5 s; notifications committed
// meanwhile are not announced again (the inbox keeps them). ready, if not nil, is
// called each time the listener is in place. It returns ctx's error, or ErrNoListen
// on SQLite.
func (db *DB) ListenNotifications(ctx context.Context, fn func(hebao.Notification), ready func()) error {
	p, ok := db.b.(*pgDB)
	if !ok {
		return ErrNoListen
	}
	pause := 100 * time.Millisecond
	for {
		err := p.listen(ctx, db.log, fn, ready)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		db.log.Warn("notification listener lost its connection; connecting again", "err", err, "in", pause)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
		pause = min(2*pause, 5*time.Second)
	}
}

// listen runs one connection's LISTEN until it fails or ctx ends.
func (p *pgDB) listen(ctx context.Context, log *slog.Logger, fn func(hebao.Notification), ready func()) error {
	conn, err := pgx.ConnectConfig(ctx, p.pool.Config().ConnConfig.Copy())
	if err != nil {
		return fmt.Errorf("connect: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, "LISTEN "+NotificationChannel); err != nil {
		return fmt.Errorf("listen: %w", err)
	}
	if ready != nil {
		ready()
	}
	for {
		m, err := conn.WaitForNotification(ctx)
		if err != nil {
			return err
		}
		var n hebao.Notification
		if err := json.Unmarshal([]byte(m.Payload), &n); err != nil || n.CustomerID == "" {
			log.Warn("dropping a malformed notification announcement", "err", err)
			continue
		}
		fn(n)
	}
}
