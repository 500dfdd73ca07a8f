package webhook

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/hebaopay/hebao"
)

// DefaultLease is how long a delivery being sent is kept from other senders when
// Sender.Lease is not set: a process that dies mid-attempt leaves it to be tried again
// after this. An attempt, name lookup included, is bounded well within it.
const DefaultLease = 30 * time.Second

// parallelSends is how many deliveries one sender attempts at once.
const parallelSends = 8

// Sender sends the webhook deliveries the store owes merchants (the merchant side
// of the outbox): each due delivery is signed afresh, sent once, and its outcome
// recorded; a failure is tried again on the schedule of SPEC §8 until a 2xx.
type Sender struct {
	Store hebao.Store
	// Secret returns the merchant's webhook signing secret.
	Secret func(ctx context.Context, merchantID string) ([]byte, error)
	// Policy decides which URLs may be called; it is checked again before every
	// attempt, and Client checks every address it dials.
	Policy Policy
	// Client sends; nil is Policy.Client(DeliveryTimeout).
	Client *http.Client
	// Now is the clock; nil is time.Now.
	Now func() time.Time
	// Log receives failures of the sender itself (not of receivers); nil discards.
	Log *slog.Logger
	// Lease is how long a delivery being sent is kept from other senders (other
	// processes sharing the database): if this one dies mid-attempt, another sends the
	// delivery again once the lease has ended. DefaultLease when 0. An attempt is
	// given at most half the lease (and never more than 2×DeliveryTimeout), so that a
	// live sender records its outcome before anyone else may take the delivery.
	Lease time.Duration

	once   sync.Once
	wake   chan struct{}
	client *http.Client
}

func (s *Sender) init() {
	s.once.Do(func() {
		s.wake = make(chan struct{}, 1)
		s.client = s.Client
		if s.client == nil {
			s.client = s.Policy.Client(DeliveryTimeout)
		}
		if s.Log == nil {
			s.Log = slog.New(slog.DiscardHandler)
		}
	})
}

// now is the clock, to the microsecond: the stores keep times to the microsecond, and
// attempt compares the lease it wrote with the one it reads back.
func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now().UTC().Truncate(time.Microsecond)
	}
	return time.Now().UTC().Truncate(time.Microsecond)
}

func (s *Sender) lease() time.Duration {
	if s.Lease > 0 {
		return s.Lease
	}
	return DefaultLease
}

// Wake makes Run look for due deliveries now: call it after committing one.
func (s *Sender) Wake() {
	s.init()
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// Run sends due deliveries until ctx ends: at once when woken, and every second for
// the retries that come due.
func (s *Sender) Run(ctx context.Context) {
	s.init()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		if _, err := s.DeliverDue(ctx); err != nil && ctx.Err() == nil {
			s.Log.Error("webhook sender", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-s.wake:
		case <-t.C:
		}
	}
}

// DeliverDue makes one attempt at every delivery due now and returns how many it
// attempted.
func (s *Sender) DeliverDue(ctx context.Context) (int, error) {
	s.init()
	n := 0
	for {
		var due []hebao.WebhookDelivery
		now := s.now()
		if err := s.Store.View(ctx, func(tx hebao.Tx) (err error) {
			due, err = tx.DueDeliveries(ctx, now, 50)
			return err
		}); err != nil {
			return n, err
		}
		// Up to parallelSends at once, so that one slow receiver does not hold up
		// every other merchant's webhooks.
		var (
			wg    sync.WaitGroup
			mu    sync.Mutex
			first error
			sem   = make(chan struct{}, parallelSends)
		)
		for _, d := range due {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				tried, err := s.attempt(ctx, d)
				mu.Lock()
				defer mu.Unlock()
				if err != nil && first == nil {
					first = err
				}
				if tried {
					n++
				}
			})
		}
		wg.Wait()
		if first != nil {
			return n, first
		}
		if len(due) < 50 {
			return n, nil
		}
	}
}

// attempt claims d for the lease, sends it once, and records the outcome. It reports
// false when another sender had claimed or finished it meanwhile.
func (s *Sender) attempt(ctx context.Context, d hebao.WebhookDelivery) (bool, error) {
	claimed := false
	err := s.Store.Transact(ctx, func(tx hebao.Tx) error {
		cur, err := tx.Delivery(ctx, d.MerchantID, d.ID)
		if err != nil {
			return err
		}
		claimed = !cur.Delivered && cur.Attempts == d.Attempts && cur.NextAttemptAt.Equal(d.NextAttemptAt)
		if !claimed {
			return nil
		}
		cur.NextAttemptAt, cur.UpdatedAt = s.now().Add(s.lease()), s.now()
		d = cur
		return tx.UpdateDelivery(ctx, cur)
	})
	if err != nil || !claimed {
		return false, err
	}
	leased := d.NextAttemptAt
	call, cancel := context.WithTimeout(ctx, min(2*DeliveryTimeout, s.lease()/2))
	res := s.send(call, d)
	cancel()
	err = s.Store.Transact(ctx, func(tx hebao.Tx) error {
		cur, err := tx.Delivery(ctx, d.MerchantID, d.ID)
		if err != nil {
			return err
		}
		if cur.Attempts != d.Attempts || !cur.NextAttemptAt.Equal(leased) || cur.Delivered {
			return nil // a replay (which set the next attempt to now) or another sender moved on meanwhile
		}
		now := s.now()
		cur.Attempts++
		cur.LastStatus, cur.LastError, cur.UpdatedAt = res.StatusCode, "", now
		if res.Err != nil {
			cur.LastError = res.Err.Error()
		} else if !res.OK() {
			cur.LastError = "the receiver answered " + http.StatusText(res.StatusCode)
		}
		switch next, more := NextAttempt(cur.Attempts, now); {
		case res.OK():
			cur.Delivered, cur.NextAttemptAt = true, time.Time{}
		case more:
			cur.NextAttemptAt = next
		default:
			cur.NextAttemptAt = time.Time{} // the schedule ran out; a replay can still send it
		}
		return tx.UpdateDelivery(ctx, cur)
	})
	return true, err
}

// send makes one attempt: the URL is checked against the policy again (it may
// resolve elsewhere now), then the signed body is posted.
func (s *Sender) send(ctx context.Context, d hebao.WebhookDelivery) Result {
	if err := s.Policy.CheckURL(ctx, d.URL); err != nil {
		return Result{Err: err}
	}
	secret, err := s.Secret(ctx, d.MerchantID)
	if err != nil {
		return Result{Err: errors.New("the merchant's webhook secret cannot be read")}
	}
	return Deliver(ctx, s.client, d.URL, secret, d.EventID, d.Payload, s.now())
}
