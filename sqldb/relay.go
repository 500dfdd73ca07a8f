package sqldb

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of the relay queue (migration 022). Its rows are in no cache, so
// its writes keep the batch's row cache (execOwn).
const (
	relayInsert = `INSERT INTO relay_outbox (id, kind, payload, created_at) VALUES ($1, $2, $3, $4)
ON CONFLICT (id) DO NOTHING`
	pgRelayInsert = `INSERT INTO relay_outbox (id, kind, payload, created_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bigint[]) ON CONFLICT (id) DO NOTHING`
	relayDelete     = `DELETE FROM relay_outbox WHERE id = $1`
	pgRelayDelete   = `DELETE FROM relay_outbox WHERE id = ANY($1::text[])`
	relayRelease    = `UPDATE relay_outbox SET lease_until = 0 WHERE id = $1`
	pgRelayRelease  = `UPDATE relay_outbox SET lease_until = 0 WHERE id = ANY($1::text[])`
	relayClaimWhich = `SELECT id FROM relay_outbox WHERE lease_until <= $2 ORDER BY created_at, id LIMIT $3`
	relayClaim      = `UPDATE relay_outbox SET lease_until = $1 WHERE id IN (` + relayClaimWhich + `)
RETURNING id, kind, payload, created_at`
	// Batches of several processes already run one at a time (the chain-head
	// lock); SKIP LOCKED keeps a claim from ever waiting on another all the same.
	pgRelayClaim = `UPDATE relay_outbox SET lease_until = $1 WHERE id IN (` + relayClaimWhich + ` FOR UPDATE SKIP LOCKED)
RETURNING id, kind, payload, created_at`
)

// QueueRelay implements hebao.Tx. PostgreSQL takes the events in one statement;
// SQLite, in process, one prepared statement per event.
func (t *tx) QueueRelay(_ context.Context, events []hebao.Event) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	for _, e := range events {
		if e.ID == "" || e.Kind == "" {
			return hebao.Errorf(hebao.CodeInvalidRequest, "a relayed event needs an id and a kind")
		}
	}
	if len(events) == 0 {
		return nil
	}
	if t.pg() {
		ids, kinds, payloads, created := make([]string, len(events)), make([]string, len(events)), make([][]byte, len(events)), make([]int64, len(events))
		for i, e := range events {
			ids[i], kinds[i], payloads[i], created[i] = e.ID, e.Kind, relayPayload(e.Payload), e.CreatedAt.UnixMicro()
		}
		if _, err := t.execOwn(pgRelayInsert, ids, kinds, payloads, created); err != nil {
			return t.retryable(fmt.Errorf("queue events for NATS: %w", err))
		}
		return nil
	}
	for _, e := range events {
		if _, err := t.execOwn(relayInsert, e.ID, e.Kind, relayPayload(e.Payload), e.CreatedAt.UnixMicro()); err != nil {
			return t.retryable(fmt.Errorf("queue event %s for NATS: %w", e.ID, err))
		}
	}
	return nil
}

// relayPayload keeps a NOT NULL column filled for an event without a payload.
func relayPayload(p []byte) []byte {
	if p == nil {
		return []byte{}
	}
	return p
}

// ClaimRelay implements hebao.Tx: one UPDATE … RETURNING, inside the closure's
// savepoint like any direct write.
func (t *tx) ClaimRelay(_ context.Context, now, until time.Time, limit int) ([]hebao.Event, error) {
	if err := t.checkWrite(); err != nil {
		return nil, err
	}
	if limit <= 0 {
		return nil, nil
	}
	if err := t.guard(); err != nil {
		return nil, err
	}
	q := relayClaim
	if t.pg() {
		q = pgRelayClaim
	}
	rs, err := t.query(q, until.UnixMicro(), now.UnixMicro(), int64(limit))
	if err != nil {
		return nil, t.retryable(fmt.Errorf("claim events for NATS: %w", err))
	}
	defer rs.Close()
	var out []hebao.Event
	for rs.Next() {
		var (
			e       hebao.Event
			created int64
		)
		if err := rs.Scan(&e.ID, &e.Kind, &e.Payload, &created); err != nil {
			return nil, t.retryable(fmt.Errorf("claim events for NATS: %w", err))
		}
		e.CreatedAt = time.UnixMicro(created).UTC()
		out = append(out, e)
	}
	if err := rs.Err(); err != nil {
		return nil, t.retryable(fmt.Errorf("claim events for NATS: %w", err))
	}
	// RETURNING promises no order.
	slices.SortFunc(out, func(a, b hebao.Event) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	return out, nil
}

// DeleteRelay implements hebao.Tx.
func (t *tx) DeleteRelay(_ context.Context, ids []string) error {
	return t.relayEach("delete published events from the NATS queue", relayDelete, pgRelayDelete, ids)
}

// ReleaseRelay implements hebao.Tx.
func (t *tx) ReleaseRelay(_ context.Context, ids []string) error {
	return t.relayEach("release events for NATS", relayRelease, pgRelayRelease, ids)
}

// relayEach runs q for each id, or pgQ once for all of them on PostgreSQL.
func (t *tx) relayEach(what, q, pgQ string, ids []string) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if len(ids) == 0 {
		return nil
	}
	if t.pg() {
		if _, err := t.execOwn(pgQ, ids); err != nil {
			return t.retryable(fmt.Errorf("%s: %w", what, err))
		}
		return nil
	}
	for _, id := range ids {
		if _, err := t.execOwn(q, id); err != nil {
			return t.retryable(fmt.Errorf("%s: %w", what, err))
		}
	}
	return nil
}

// pg reports whether the batch runs on PostgreSQL.
func (t *tx) pg() bool {
	_, ok := t.b.w.(*pgTx)
	return ok
}
