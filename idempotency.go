package hebao

import "context"

// Once runs a money-moving use case at most once per idempotency key. In one
// transaction it looks the key up; if the key already holds a reply, that reply is
// returned again, byte for byte, with no second effect; if not, fn runs and its reply
// is stored under the key in the same transaction as fn's writes. A request whose fn
// fails leaves nothing behind, the key included, so the client may retry it.
//
// Errors: idempotency_key_reused when the key came with a different request,
// idempotency_key_in_use while its first request is still running, or fn's error.
func Once(ctx context.Context, s Store, k IdempotencyKey, fn func(tx Tx) (Reply, error)) (Reply, error) {
	var out Reply
	err := s.Transact(ctx, func(tx Tx) error {
		prior, err := tx.Reply(ctx, k)
		if err != nil {
			return err
		}
		if prior != nil {
			out = *prior
			return nil
		}
		r, err := fn(tx)
		if err != nil {
			return err
		}
		if err := tx.SaveReply(ctx, k, r); err != nil {
			return err
		}
		out = r
		return nil
	})
	return out, err
}
