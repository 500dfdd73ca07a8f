package hebao

import (
	"context"
	"errors"
)

// Once runs a money-moving use case at most once per idempotency key. In one
// transaction it looks the key up; if the key already holds a reply, that reply is
// returned again, byte for byte, with no second effect; if not, fn runs and its reply
// is stored under the key in the same transaction as fn's writes. A request whose fn
// fails leaves nothing behind, the key included, so the client may retry it.
//
// Errors: idempotency_key_reused when the key came with a different request,
// idempotency_key_in_use while its first request is still running, or fn's error.
func Once(ctx context.Context, s Store, k IdempotencyKey, fn func(tx Tx) (Reply, error)) (Reply, error) {
	var (
		out    Reply
		failed error // fn's Committed error
	)
	ra, _ := ReadAheadOf(ctx)
	ra.Key = k
	err := s.Transact(WithReadAhead(ctx, ra), func(tx Tx) error {
		failed = nil
		prior, err := tx.Reply(ctx, k)
		if err != nil {
			return err
		}
		if prior != nil {
			out = *prior
			return nil
		}
		r, err := fn(tx)
		var kept *committedError
		if errors.As(err, &kept) {
			out, failed = Reply{}, kept.err
			return nil
		}
		if err != nil {
			return err
		}
		if err := tx.SaveReply(ctx, k, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	if err == nil && failed != nil {
		return Reply{}, failed
	}
	return out, err
}

// committedError is an error whose closure's writes are committed all the same.
type committedError struct{ err error }

func (e *committedError) Error() string { return e.err.Error() }
func (e *committedError) Unwrap() error { return e.err }

// Committed wraps err, returned from a function given to Once, so that Once commits
// what the function wrote before failing and then returns err: for the counts that
// must stick although the request fails, such as a wrong payment password's.
func Committed(err error) error { return &committedError{err: err} }

// Replayed returns the reply stored for k, or nil when k is unused: what a retry must
// get before anything else is checked again (a step-up SMS code it carried is spent by
// then). Errors: those of Tx.Reply (idempotency_key_reused, idempotency_key_in_use).
func Replayed(ctx context.Context, s Store, k IdempotencyKey) (*Reply, error) {
	var out *Reply
	err := s.View(ctx, func(tx Tx) (err error) {
		out, err = tx.Reply(ctx, k)
		return err
	})
	return out, err
}
