package inmem

import (
	"cmp"
	"context"
	"maps"
	"slices"
	"time"

	"github.com/hebaopay/hebao"
)

// relayData is the relay queue: events still to publish to NATS, by id.
type relayData map[string]relayRow

type relayRow struct {
	e          hebao.Event
	leaseUntil time.Time
}

func (d relayData) clone() relayData { return maps.Clone(d) }

// relay returns the relay queue, made on first use.
func (t *tx) relay() relayData {
	if t.d.relay == nil {
		t.d.relay = relayData{}
	}
	return t.d.relay
}

// QueueRelay implements hebao.Tx.
func (t *tx) QueueRelay(_ context.Context, events []hebao.Event) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, e := range events {
		if e.ID == "" || e.Kind == "" {
			return hebao.Errorf(hebao.CodeInvalidRequest, "a relayed event needs an id and a kind")
		}
	}
	q := t.relay()
	for _, e := range events {
		if _, ok := q[e.ID]; !ok {
			e.Payload = slices.Clone(e.Payload)
			q[e.ID] = relayRow{e: e}
		}
	}
	return nil
}

// ClaimRelay implements hebao.Tx.
func (t *tx) ClaimRelay(_ context.Context, now, until time.Time, limit int) ([]hebao.Event, error) {
	if err := t.write(); err != nil || limit <= 0 {
		return nil, err
	}
	q := t.relay()
	var out []hebao.Event
	for _, r := range q {
		if !r.leaseUntil.After(now) {
			out = append(out, r.e)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Event) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.ID, b.ID))
	})
	out = out[:min(len(out), limit)]
	for _, e := range out {
		q[e.ID] = relayRow{e: e, leaseUntil: until}
	}
	return out, nil
}

// DeleteRelay implements hebao.Tx.
func (t *tx) DeleteRelay(_ context.Context, ids []string) error {
	if err := t.write(); err != nil {
		return err
	}
	q := t.relay()
	for _, id := range ids {
		delete(q, id)
	}
	return nil
}

// ReleaseRelay implements hebao.Tx.
func (t *tx) ReleaseRelay(_ context.Context, ids []string) error {
	if err := t.write(); err != nil {
		return err
	}
	q := t.relay()
	for _, id := range ids {
		if r, ok := q[id]; ok {
			q[id] = relayRow{e: r.e}
		}
	}
	return nil
}
