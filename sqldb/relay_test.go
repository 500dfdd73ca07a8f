package sqldb

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// relayEvents returns n events one second apart from t0, ids in the same order.
func relayEvents(t0 time.Time, n int) []hebao.Event {
	var out []hebao.Event
	for i := range n {
		out = append(out, hebao.Event{
			ID: fmt.Sprintf("evt_%03d", i), Kind: []string{"movement", "order.paid", "ticket.message"}[i%3],
			Payload: fmt.Appendf(nil, `{"n":%d}`, i), CreatedAt: t0.Add(time.Duration(i) * time.Second),
		})
	}
	return out
}

func claim(t *testing.T, db *DB, now, until time.Time, limit int) []hebao.Event {
	t.Helper()
	var got []hebao.Event
	transact(t, db, func(tx hebao.Tx) (err error) {
		got, err = tx.ClaimRelay(context.Background(), now, until, limit)
		return err
	})
	return got
}

func TestRelayQueue(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 123000, time.UTC)
		events := relayEvents(t0, 6)
		// Queued in two closures, newest first, to show the order is the events'.
		transact(t, db, func(tx hebao.Tx) error { return tx.QueueRelay(ctx, events[3:]) })
		transact(t, db, func(tx hebao.Tx) error { return tx.QueueRelay(ctx, events[:3]) })
		// The same id again, with other content, changes nothing.
		again := events[1]
		again.Payload, again.Kind = []byte(`{"changed":true}`), "other"
		transact(t, db, func(tx hebao.Tx) error { return tx.QueueRelay(ctx, []hebao.Event{again, again}) })
		if n := rawInt(t, db, `SELECT COUNT(*) FROM relay_outbox`); n != 6 {
			t.Fatalf("queued rows: %d, want 6", n)
		}

		now := t0.Add(time.Hour)
		lease := now.Add(30 * time.Second)
		steps := []struct {
			name       string
			now, until time.Time
			limit      int
			want       []hebao.Event
		}{
			{"oldest first", now, lease, 4, events[:4]},
			{"the rest, not the leased ones", now, lease, 4, events[4:]},
			{"all leased", now.Add(29 * time.Second), lease, 10, nil},
			{"no limit, no events", now, lease, 0, nil},
			{"leases ended", lease, lease.Add(time.Minute), 2, events[:2]},
		}
		for _, s := range steps {
			if diff := cmp.Diff(s.want, claim(t, db, s.now, s.until, s.limit)); diff != "" {
				t.Fatalf("%s: claimed (-want +got):\n%s", s.name, diff)
			}
		}

		// Published: deleted, and never claimed again. Unknown ids are ignored.
		transact(t, db, func(tx hebao.Tx) error {
			return tx.DeleteRelay(ctx, []string{events[0].ID, events[4].ID, "evt_unknown"})
		})
		later := lease.Add(time.Hour)
		if diff := cmp.Diff([]hebao.Event{events[1], events[2], events[3], events[5]}, claim(t, db, later, later.Add(time.Minute), 10)); diff != "" {
			t.Fatalf("after delete (-want +got):\n%s", diff)
		}
		// A failed publication is released: claimed again at once.
		transact(t, db, func(tx hebao.Tx) error { return tx.ReleaseRelay(ctx, []string{events[3].ID, events[1].ID}) })
		if diff := cmp.Diff([]hebao.Event{events[1], events[3]}, claim(t, db, later, later.Add(time.Minute), 10)); diff != "" {
			t.Fatalf("after release (-want +got):\n%s", diff)
		}

		// A closure that fails leaves no trace: neither its queued events nor its claim.
		boom := errors.New("boom")
		err := db.Transact(ctx, func(tx hebao.Tx) error {
			if err := tx.QueueRelay(ctx, relayEvents(t0.Add(time.Minute), 10)[9:]); err != nil {
				return err
			}
			if got, err := tx.ClaimRelay(ctx, later.Add(time.Hour), later.Add(2*time.Hour), 10); err != nil || len(got) != 5 {
				return fmt.Errorf("claim inside the closure: %d events, %v", len(got), err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatalf("Transact = %v, want boom", err)
		}
		if n := rawInt(t, db, `SELECT COUNT(*) FROM relay_outbox`); n != 4 {
			t.Errorf("rows after a failed closure: %d, want 4", n)
		}
		if got := claim(t, db, later.Add(2*time.Minute), later.Add(time.Hour), 10); len(got) != 4 {
			t.Errorf("claim after a failed closure's claim: %d events, want 4", len(got))
		}

		// A View writes nothing; bad events are refused.
		err = db.View(ctx, func(tx hebao.Tx) error {
			_, err := tx.ClaimRelay(ctx, later, later, 1)
			return errors.Join(err, tx.QueueRelay(ctx, events), tx.DeleteRelay(ctx, []string{"x"}), tx.ReleaseRelay(ctx, []string{"x"}))
		})
		if !errors.Is(err, errViewWrite) {
			t.Errorf("writes inside View: %v, want errViewWrite", err)
		}
		err = db.Transact(ctx, func(tx hebao.Tx) error { return tx.QueueRelay(ctx, []hebao.Event{{ID: "evt_x"}}) })
		if hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
			t.Errorf("an event without a kind: %v, want invalid_request", err)
		}
	})
}

// TestRelayClaimers has several publishers, in two processes' stores, claim one
// queue at once: every event is claimed by exactly one of them while its lease
// lasts.
func TestRelayClaimers(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := []*DB{open(t), open(t)}
		ctx := context.Background()
		t0 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
		events := relayEvents(t0, 200)
		transact(t, dbs[0], func(tx hebao.Tx) error { return tx.QueueRelay(ctx, events) })

		now, until := t0.Add(time.Hour), t0.Add(2*time.Hour)
		var (
			mu      sync.Mutex
			claimed = map[string]int{}
			wg      sync.WaitGroup
			errs    = make(chan error, 8)
		)
		for i := range 8 {
			db := dbs[i%2]
			wg.Go(func() {
				for range len(events) { // bounded: a broken lease would claim forever
					var got []hebao.Event
					err := db.Transact(ctx, func(tx hebao.Tx) (err error) {
						got, err = tx.ClaimRelay(ctx, now, until, 7)
						return err
					})
					if err != nil {
						errs <- err
						return
					}
					if len(got) == 0 {
						return
					}
					mu.Lock()
					for _, e := range got {
						claimed[e.ID]++
					}
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatalf("claim: %v", err)
		}
		var twice []string
		for id, n := range claimed {
			if n != 1 {
				twice = append(twice, id)
			}
		}
		slices.Sort(twice)
		if len(claimed) != len(events) || len(twice) > 0 {
			t.Errorf("claimed %d distinct events of %d; claimed more than once: %v", len(claimed), len(events), twice)
		}
		// Once the leases end, another claim takes them all again.
		if got := claim(t, dbs[1], until, until.Add(time.Hour), 1000); len(got) != len(events) {
			t.Errorf("after the leases: %d events, want %d", len(got), len(events))
		}
	})
}
