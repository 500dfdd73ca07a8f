package hebao

import (
	"context"
	"time"
)

// RelayTx is the part of Tx that keeps the relay queue: the outbox events still to
// be published to NATS JetStream (docs/events.md). The dispatcher queues each event
// in the transaction that marks it delivered, so an event is queued exactly when it
// is delivered; a publisher claims queued events for a while (a lease), publishes
// them, and deletes the ones the stream acknowledged. Events whose lease ended are
// claimed again, so a publisher that dies mid-round loses nothing: the stream drops
// the repeat by the event id.
type RelayTx interface {
	// QueueRelay adds events to the queue; an event whose id is queued already is
	// kept as it is.
	QueueRelay(ctx context.Context, events []Event) error
	// ClaimRelay returns up to limit queued events whose lease ended at or before
	// now, oldest first, and leases them until until: no other claim returns them
	// before then.
	ClaimRelay(ctx context.Context, now, until time.Time, limit int) ([]Event, error)
	// DeleteRelay removes the events with the given ids from the queue: they were
	// published. Ids not queued are ignored.
	DeleteRelay(ctx context.Context, ids []string) error
	// ReleaseRelay ends the lease of the events with the given ids, so that the next
	// claim returns them again at once: their publication failed.
	ReleaseRelay(ctx context.Context, ids []string) error
}
