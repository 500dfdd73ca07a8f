package notify_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/notify"
)

var errLook = errors.New("roll back: only looking")

// relayQueue returns the ids in the relay queue, leased or not, changing nothing.
func relayQueue(t *testing.T, s hebao.Store) []string {
	t.Helper()
	ctx := context.Background()
	var ids []string
	err := s.Transact(ctx, func(tx hebao.Tx) error {
		far := time.Now().Add(24 * time.Hour)
		events, err := tx.ClaimRelay(ctx, far, far, 1000)
		ids = ids[:0]
		for _, e := range events {
			ids = append(ids, e.ID)
		}
		return errors.Join(err, errLook)
	})
	if !errors.Is(err, errLook) {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

func pendingIDs(t *testing.T, s hebao.Store) []string {
	t.Helper()
	var ids []string
	err := s.View(context.Background(), func(tx hebao.Tx) error {
		events, err := tx.PendingEvents(context.Background(), 1000)
		for _, e := range events {
			ids = append(ids, e.ID)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	return ids
}

// TestDispatchRelay: with Relay set, every event a round marks delivered — those
// that make notifications and the others — is queued for NATS in the same
// transaction, and Relay is called after the commit; without it nothing is queued.
func TestDispatchRelay(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, hebao.SMSOff)
	d := &notify.Dispatcher{Store: s}
	emit(t, s, movement(hebao.MovementTopup, hebao.MovementSucceeded, 100))
	if n, err := d.DispatchOnce(ctx); n != 1 || err != nil {
		t.Fatalf("DispatchOnce = %d, %v; want 1", n, err)
	}
	if got := relayQueue(t, s); len(got) != 0 {
		t.Fatalf("queued without Relay: %v", got)
	}

	calls := 0
	d.Relay = func() { calls++ }
	emit(t, s, movement(hebao.MovementTransferIn, hebao.MovementSucceeded, 200))
	err := s.Transact(ctx, func(tx hebao.Tx) error {
		return tx.Emit(ctx, hebao.Event{ID: hebao.NewID("evt"), Kind: hebao.EventOrderPaid, Payload: []byte(`{"order":1}`)})
	})
	if err != nil {
		t.Fatal(err)
	}
	want := pendingIDs(t, s)
	if len(want) != 2 {
		t.Fatalf("pending events: %v, want 2", want)
	}
	if n, err := d.DispatchOnce(ctx); n != 2 || err != nil {
		t.Fatalf("DispatchOnce = %d, %v; want 2", n, err)
	}
	if diff := cmp.Diff(want, relayQueue(t, s)); diff != "" {
		t.Errorf("queued for NATS (-want +got):\n%s", diff)
	}
	if calls != 1 {
		t.Errorf("Relay called %d times, want 1", calls)
	}
	if n, err := d.DispatchOnce(ctx); n != 0 || err != nil || calls != 1 {
		t.Errorf("an empty round: %d, %v, Relay called %d times; want 0, nil, 1", n, err, calls)
	}
	if got := inbox(t, s); len(got) != 2 {
		t.Errorf("inbox: %d notifications, want 2", len(got))
	}
}

// failingStore fails every MarkDelivered.
type failingStore struct{ hebao.Store }

type failingTx struct{ hebao.Tx }

func (s failingStore) Transact(ctx context.Context, fn func(hebao.Tx) error) error {
	return s.Store.Transact(ctx, func(tx hebao.Tx) error { return fn(failingTx{tx}) })
}

func (failingTx) MarkDelivered(context.Context, []string, time.Time) error {
	return errors.New("disk full")
}

// TestDispatchRelayAtomic: a round that fails queues nothing; the events stay
// pending and the next round queues them.
func TestDispatchRelayAtomic(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, hebao.SMSOff)
	emit(t, s, movement(hebao.MovementTopup, hebao.MovementSucceeded, 100))
	want := pendingIDs(t, s)
	calls := 0
	relay := func() { calls++ }
	if _, err := (&notify.Dispatcher{Store: failingStore{s}, Relay: relay}).DispatchOnce(ctx); err == nil {
		t.Fatal("DispatchOnce succeeded with MarkDelivered failing")
	}
	if got := relayQueue(t, s); len(got) != 0 || calls != 0 {
		t.Fatalf("a failed round queued %v and called Relay %d times", got, calls)
	}
	if n, err := (&notify.Dispatcher{Store: s, Relay: relay}).DispatchOnce(ctx); n != 1 || err != nil {
		t.Fatalf("DispatchOnce = %d, %v; want 1", n, err)
	}
	if diff := cmp.Diff(want, relayQueue(t, s)); diff != "" || calls != 1 {
		t.Errorf("queued (-want +got):\n%s; Relay called %d times", diff, calls)
	}
}
