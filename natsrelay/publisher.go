// Package natsrelay publishes Hebao's outbox events to NATS JetStream
// (docs/events.md). The dispatcher queues every event it delivers in the store's
// relay queue, in the same transaction (hebao.RelayTx); a Publisher claims queued
// events for a lease, publishes each to the subject hebao.<kind> with the event id
// as its Nats-Msg-Id, and deletes the ones the stream acknowledged. An event is
// published at least once, and the stream drops a repeat of an id within its
// duplicate window, so within that window each event is stored once.
package natsrelay

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/hebaopay/hebao"
)

// A Publisher's defaults.
const (
	DefaultStream  = "HEBAO"
	DefaultPrefix  = "hebao"
	DefaultBatch   = 256
	DefaultLease   = 30 * time.Second
	DefaultAckWait = 10 * time.Second
	DefaultPoll    = 200 * time.Millisecond
	// DefaultDuplicates is the duplicate window of a stream the Publisher creates: a
	// repeat of an event id later than this after the first is stored again. It
	// must exceed the longest a publication can be repeated after the first one
	// was stored: a lease plus the longest outage of NATS or of the database.
	DefaultDuplicates = 10 * time.Minute
	maxBackoff        = 2 * time.Second
)

// The headers of a published event, beside NATS's own Nats-Msg-Id (the event id).
const (
	HeaderEventID   = "Hebao-Event-Id"
	HeaderKind      = "Hebao-Event-Kind"
	HeaderCreatedAt = "Hebao-Created-At" // RFC 3339 UTC, to the microsecond
)

// Publisher publishes the relay queue to a JetStream stream. The zero values of
// its settings are the defaults above.
type Publisher struct {
	Store hebao.Store
	JS    jetstream.JetStream
	Log   *slog.Logger
	// Stream is the stream's name and Prefix the first token of every subject:
	// an event of kind k is published to Prefix.k.
	Stream string
	Prefix string
	// Duplicates is the duplicate window of the stream, if the Publisher creates it.
	Duplicates time.Duration
	Batch      int           // events per round
	Lease      time.Duration // how long a round's events are kept from other publishers
	AckWait    time.Duration // how long a round waits for the stream's acknowledgements; less than Lease
	Poll       time.Duration // how often to look for events without a Wake

	once  sync.Once
	wake  chan struct{}
	ready atomic.Bool // the stream was found or made since the last failure
}

func (p *Publisher) wakeup() chan struct{} {
	p.once.Do(func() { p.wake = make(chan struct{}, 1) })
	return p.wake
}

// Wake asks a running publisher to look for events now rather than at its next
// poll: the dispatcher calls it after queueing events. It never blocks.
func (p *Publisher) Wake() {
	select {
	case p.wakeup() <- struct{}{}:
	default:
	}
}

func (p *Publisher) log() *slog.Logger {
	if p.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return p.Log
}

func or[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

func (p *Publisher) stream() string         { return or(p.Stream, DefaultStream) }
func (p *Publisher) prefix() string         { return or(p.Prefix, DefaultPrefix) }
func (p *Publisher) batch() int             { return max(or(p.Batch, DefaultBatch), 1) }
func (p *Publisher) lease() time.Duration   { return or(p.Lease, DefaultLease) }
func (p *Publisher) ackWait() time.Duration { return or(p.AckWait, DefaultAckWait) }

// Run publishes queued events until ctx ends, then returns nil. While NATS or the
// database fails it retries, backing off up to two seconds between rounds, and logs
// the failure when it starts, once a minute while it lasts, and when it ends.
func (p *Publisher) Run(ctx context.Context) error {
	if p.Store == nil || p.JS == nil {
		return errors.New("natsrelay: Publisher needs a Store and a JetStream")
	}
	if p.ackWait() >= p.lease() {
		return fmt.Errorf("natsrelay: AckWait %s must be shorter than Lease %s", p.ackWait(), p.lease())
	}
	poll := or(p.Poll, DefaultPoll)
	var (
		backoff          time.Duration
		failing, lastLog time.Time
	)
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-timer.C:
		case <-p.wakeup():
		}
		n, err := p.PublishOnce(ctx)
		if ctx.Err() != nil {
			return nil
		}
		next := poll
		switch {
		case err != nil:
			now := time.Now()
			if failing.IsZero() {
				failing, lastLog = now, now
				p.log().Warn("publishing events to NATS failed; retrying", "err", err)
			} else if now.Sub(lastLog) >= time.Minute {
				lastLog = now
				p.log().Warn("publishing events to NATS still fails", "since", failing, "err", err)
			}
			backoff = min(max(2*backoff, 50*time.Millisecond), maxBackoff)
			next = backoff
		default:
			if !failing.IsZero() {
				p.log().Info("publishing events to NATS again", "after", time.Since(failing).Round(time.Millisecond))
				failing, backoff = time.Time{}, 0
			}
			if n >= p.batch() {
				next = 0 // a full batch: there may be more waiting
			}
		}
		if !timer.Stop() {
			select {
			case <-timer.C:
			default:
			}
		}
		timer.Reset(next)
	}
}

var errDisconnected = errors.New("natsrelay: not connected to NATS")

// PublishOnce publishes one batch of queued events and returns how many the
// stream acknowledged. Events it could not publish are released for the next
// round; an error says why. It claims nothing while the connection is down.
// Run calls it; call it alone only where no Run is running.
func (p *Publisher) PublishOnce(ctx context.Context) (int, error) {
	if !p.JS.Conn().IsConnected() {
		return 0, errDisconnected
	}
	if !p.ready.Load() {
		if err := p.SetupStream(ctx); err != nil {
			return 0, err
		}
		p.ready.Store(true)
	}
	var events []hebao.Event
	err := p.Store.Transact(ctx, func(tx hebao.Tx) (err error) {
		now := tx.Now()
		events, err = tx.ClaimRelay(ctx, now, now.Add(p.lease()), p.batch())
		return err
	})
	if err != nil || len(events) == 0 {
		return 0, err
	}
	acked, failed, pubErr := p.publish(ctx, events)
	if pubErr != nil {
		p.ready.Store(false) // the stream may be gone: look again next round
	}
	// Record the outcome even when ctx ended: a published event left in the queue
	// is published again once its lease ends (and dropped as a duplicate).
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), p.ackWait())
	defer cancel()
	err = p.Store.Transact(rctx, func(tx hebao.Tx) error {
		if err := tx.DeleteRelay(rctx, acked); err != nil {
			return err
		}
		return tx.ReleaseRelay(rctx, failed)
	})
	if err != nil {
		err = fmt.Errorf("natsrelay: record %d published events: %w", len(acked), err)
	}
	return len(acked), errors.Join(pubErr, err)
}

// publish sends events asynchronously, in order, and waits up to AckWait for the
// stream's acknowledgements. It returns the ids acknowledged and the ids not, with
// the first error.
func (p *Publisher) publish(ctx context.Context, events []hebao.Event) (acked, failed []string, err error) {
	futures := make([]jetstream.PubAckFuture, len(events))
	for i, e := range events {
		m := &nats.Msg{Subject: Subject(p.prefix(), e.Kind), Data: e.Payload, Header: nats.Header{}}
		m.Header.Set(HeaderEventID, e.ID)
		m.Header.Set(HeaderKind, e.Kind)
		m.Header.Set(HeaderCreatedAt, e.CreatedAt.UTC().Format(time.RFC3339Nano))
		f, perr := p.JS.PublishMsgAsync(m, jetstream.WithMsgID(e.ID))
		if perr != nil {
			err = fmt.Errorf("natsrelay: publish event %s: %w", e.ID, perr)
			break // the rest are released
		}
		futures[i] = f
	}
	wait, cancel := context.WithTimeout(ctx, p.ackWait())
	defer cancel()
	for i, f := range futures {
		id := events[i].ID
		if f == nil {
			failed = append(failed, id)
			continue
		}
		var ferr error
		select {
		case <-f.Ok():
		case ferr = <-f.Err():
		case <-wait.Done():
			// Take an acknowledgement that came in meanwhile rather than publish again.
			select {
			case <-f.Ok():
			default:
				ferr = fmt.Errorf("no acknowledgement within %s", p.ackWait())
			}
		}
		if ferr != nil {
			failed = append(failed, id)
			if err == nil {
				err = fmt.Errorf("natsrelay: publish event %s: %w", id, ferr)
			}
			continue
		}
		acked = append(acked, id)
	}
	return acked, failed, err
}

// SetupStream makes the stream if it does not exist: file storage, the subjects
// Prefix.>, and the duplicate window. A stream that exists is left as it is, so
// that the limits an operator gave it (nats stream edit) survive a restart; a
// duplicate window shorter than the lease is logged, since repeats would then be
// stored twice.
func (p *Publisher) SetupStream(ctx context.Context) error {
	s, err := p.JS.Stream(ctx, p.stream())
	if errors.Is(err, jetstream.ErrStreamNotFound) {
		s, err = p.JS.CreateStream(ctx, jetstream.StreamConfig{
			Name:        p.stream(),
			Description: "Hebao's outbox events (docs/events.md)",
			Subjects:    []string{p.prefix() + ".>"},
			Storage:     jetstream.FileStorage,
			Duplicates:  or(p.Duplicates, DefaultDuplicates),
		})
		if errors.Is(err, jetstream.ErrStreamNameAlreadyInUse) { // made meanwhile by another server
			s, err = p.JS.Stream(ctx, p.stream())
		}
	}
	if err != nil {
		return fmt.Errorf("natsrelay: stream %s: %w", p.stream(), err)
	}
	if d := s.CachedInfo().Config.Duplicates; d < p.lease() {
		p.log().Warn("the NATS stream's duplicate window is shorter than the lease: an event published again may be stored twice",
			"stream", p.stream(), "duplicates", d, "lease", p.lease())
	}
	return nil
}

// Subject is the subject an event of kind is published to: prefix, a dot, and the
// kind, whose dots make further tokens (order.paid → hebao.order.paid). Characters
// a subject token may not hold (whitespace, * and >) become _, as does an empty
// token.
func Subject(prefix, kind string) string {
	tokens := strings.Split(kind, ".")
	for i, tok := range tokens {
		if tok == "" {
			tokens[i] = "_"
			continue
		}
		tokens[i] = strings.Map(func(r rune) rune {
			if r == '*' || r == '>' || r <= ' ' || r == 0x7f {
				return '_'
			}
			return r
		}, tok)
	}
	return prefix + "." + strings.Join(tokens, ".")
}
