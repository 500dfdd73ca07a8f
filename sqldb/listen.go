package sqldb

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/hebaopay/hebao"
)

// NotificationChannel is the PostgreSQL channel on which each stored notification is
// announced, as JSON, when its transaction commits, for a database in the public
// schema. Channels belong to a whole database, not a schema, so a database in
// another schema announces on a channel of its own (channelFor): two deployments, or
// two tests, sharing one PostgreSQL database in different schemas must not hear
// each other's customers.
const NotificationChannel = "hebao_notifications"

// channelFor is the notification channel of a schema: NotificationChannel for the
// public one, else NotificationChannel, a dot and the schema, or a hash of the schema
// where that would pass PostgreSQL's 63-byte limit on names.
func channelFor(schema *string) string {
	if schema == nil || *schema == "" || *schema == "public" {
		return NotificationChannel
	}
	ch := NotificationChannel + "." + *schema
	if len(ch) > 63 {
		sum := sha256.Sum256([]byte(*schema))
		ch = NotificationChannel + "." + hex.EncodeToString(sum[:16])
	}
	return ch
}

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
	if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{p.channel}.Sanitize()); err != nil {
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
