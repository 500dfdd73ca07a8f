package sqldb

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/jackc/pgx/v5/pgconn"
)

// errAside is what a closure marked hebao.MovesNoMoney gets when it posts a transfer
// or reads an account after all.
var errAside = errors.New("sqldb: a transaction marked as moving no money may not post transfers or read accounts")

// runAside runs a closure marked hebao.MovesNoMoney on PostgreSQL in a transaction
// of its own, beside the committer's batches instead of inside one. It takes neither
// the chain head nor any account, so the ledger's batches, which several processes
// take turns at behind the head, do not wait on its statements: the notification
// dispatcher's reads of the outbox and its inserts of notifications used to run
// while the head was held. Its rows are written as a batch writes them (buffered,
// then flushed), and a failed attempt the database asks to retry is run again.
func (db *DB) runAside(fn func(hebao.Tx) error) error {
	for attempt := 0; ; attempt++ {
		result, err := db.asideOnce(fn)
		if err == nil {
			return result
		}
		if retryable(err) && attempt < maxRetries {
			time.Sleep(time.Duration(rand.IntN(1+attempt*attempt)) * time.Millisecond)
			continue
		}
		return fmt.Errorf("sqldb: commit: %w", err)
	}
}

func uniqueViolation(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == pgUniqueViolation
}

// asideOnce makes one attempt: result is the closure's own error (nothing then
// committed), err the database's.
func (db *DB) asideOnce(fn func(hebao.Tx) error) (result, err error) {
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	w, err := db.b.begin(ctx)
	if err != nil {
		return nil, err
	}
	committed := false
	defer func() {
		if !committed {
			w.rollback()
		}
	}()
	b := db.soloBatch(ctx, w)
	b.aside = true
	t := b.open()
	result = runClosure(fn, t)
	switch {
	case b.err != nil:
		return nil, b.err
	case t.deferred:
		return nil, errors.New("sqldb: an idempotency key in a transaction marked as moving no money")
	case result != nil && uniqueViolation(result):
		// Another transaction beside this one stored the same row first (two
		// requests creating one order at once): run again, and the closure finds it.
		return nil, fmt.Errorf("%w: %v", errRetry, result)
	case result != nil:
		return result, nil
	}
	if err := t.finish(); err != nil {
		return nil, err
	}
	if len(b.transfers) > 0 { // Post refuses first; this is the last line
		return nil, errAside
	}
	if _, err := b.flush(db.cfg.LedgerKey); err != nil {
		return nil, err
	}
	if err := w.commit(ctx); err != nil {
		return nil, err
	}
	committed = true
	if b.newCampaign {
		db.campaigns.reset()
	}
	return nil, nil
}
