package hebao

import (
	"context"
	"crypto/sha256"
	"time"
)

// Store is where every use case reads and writes. Each write is one call to Transact:
// "load, decide, write" inside fn, which must do nothing but call tx (no network, no
// sleeping) because the store may run it more than once and runs it beside others.
type Store interface {
	// Transact runs fn in a database transaction and returns once its writes are
	// durable, or returns fn's error (or the store's) with nothing of fn written.
	// The store may run many callers' closures in one database commit, each as if
	// alone: one that fails is rolled back on its own. fn may be run again if the
	// database asks for a retry, so it must not keep state across runs.
	Transact(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn on a read-only snapshot, beside the writers rather than queued
	// behind them: for reads such as GET requests. fn's Tx refuses every write.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the database can be reached.
	Ping(ctx context.Context) error
}

// Tx is the view of the database inside Transact. Reads see everything written before
// them in the same closure and in closures committed before it.
type Tx interface {
	// Now is the time of the transaction; use it for every timestamp written.
	Now() time.Time
	// CreateAccount stores a new account and returns it with its id.
	CreateAccount(ctx context.Context, a Account) (Account, error)
	// Accounts returns the accounts with the given ids, locked for the rest of the
	// transaction. A missing account is not_found.
	Accounts(ctx context.Context, ids ...AccountID) (map[AccountID]Account, error)
	// Post validates t, checks it against the balances (insufficient_funds when an
	// account that may not go negative would), and records it. Seq, CreatedAt,
	// PrevHash and Hash are set when Transact returns nil.
	Post(ctx context.Context, t *Transfer) error
	// Reply looks up an idempotency key: the stored reply if the key was used with the
	// same request, nil if it is unused, idempotency_key_reused if it was used with a
	// different request, idempotency_key_in_use if its first request has not finished.
	Reply(ctx context.Context, k IdempotencyKey) (*Reply, error)
	// SaveReply claims k and stores the reply to send again for it.
	SaveReply(ctx context.Context, k IdempotencyKey, r Reply) error
	// Emit writes an event to the outbox, to be delivered after the commit.
	Emit(ctx context.Context, e Event) error

	// OTPs returns the SMS codes sent to phone at or after since, newest first, and
	// locks the phone until the end of the transaction: decisions about one phone's
	// codes (a send against the limits, a check against its count) are taken one at
	// a time, even by several processes sharing a database.
	OTPs(ctx context.Context, phone string, since time.Time) ([]OTP, error)
	// CreateOTP stores a new code.
	CreateOTP(ctx context.Context, o OTP) error
	// AddOTPCheck counts one more check of the code with the given id; not_found if
	// there is none.
	AddOTPCheck(ctx context.Context, id string) error
	// UseOTP marks the code with the given id used at at, and reports whether it
	// did: false, changing nothing, when the code was used already or does not exist.
	UseOTP(ctx context.Context, id string, at time.Time) (bool, error)
}

// IdempotencyKey is a client's Idempotency-Key, scoped to the principal and route, with
// a hash of the request it first came with.
type IdempotencyKey struct {
	Scope       string // principal and route, e.g. "cus_123 POST /v1/transfers"
	Key         string
	RequestHash [32]byte
}

// NewIdempotencyKey returns the key for a request whose canonical body is body.
func NewIdempotencyKey(scope, key string, body []byte) IdempotencyKey {
	return IdempotencyKey{Scope: scope, Key: key, RequestHash: sha256.Sum256(body)}
}

// Reply is what was answered to the first request with a key: sent again, byte for
// byte, to every retry. Status 0 means the first request is still running.
type Reply struct {
	Status int
	Body   []byte
}

// Event is a row of the transactional outbox, written in the same transaction as the
// change it announces. Delivery is at least once; ID lets receivers drop duplicates.
type Event struct {
	ID        string
	Kind      string
	Payload   []byte // JSON
	CreatedAt time.Time
}
