package sqldb

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"time"

	"github.com/hebaopay/hebao"
)

// call is one Transact waiting for its closure to be run and committed.
type call struct {
	ctx    context.Context
	fn     func(hebao.Tx) error
	done   chan error
	absent *absentKey // what the caller learned of its idempotency key (absent.go)
}

// errClosed is returned by Transact after Close.
var errClosed = errors.New("sqldb: database is closed")

// errReadOnly is returned by Transact on a database opened with Config.ReadOnly.
var errReadOnly = errors.New("sqldb: database was opened read-only")

// batchTimeout bounds one batch: a database that hangs fails its callers instead of
// holding them forever.
const batchTimeout = 30 * time.Second

// Transact implements hebao.Store. The closure runs on the store's committer
// goroutine beside other callers' closures, inside its own savepoint, and Transact
// returns once the batch holding it is durable. The ctx passed to fn's Tx methods is
// not used for database calls: one caller giving up must not break the others' batch.
func (db *DB) Transact(ctx context.Context, fn func(hebao.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if db.cfg.ReadOnly {
		return errReadOnly
	}
	if hebao.MovesNoMoneyOf(ctx) && db.b.dialect() == "postgres" {
		select {
		case <-db.stop:
			return errClosed
		default:
		}
		return db.runAside(fn)
	}
	c := &call{ctx: ctx, fn: fn, done: make(chan error, 1), absent: db.preReadKey(ctx)}
	select {
	case db.queue <- c:
	case <-db.stop:
		return errClosed
	case <-ctx.Done():
		return ctx.Err()
	}
	// Once queued, wait for the outcome even if ctx ends: returning early would leave
	// the caller not knowing whether its work committed.
	return <-c.done
}

// loop is the committer: it takes every call waiting, up to MaxBatch, runs them as
// one batch, and repeats. While one batch commits the next one gathers, so the batch
// size follows the load with no timer.
func (db *DB) loop() {
	defer close(db.stopped)
	var carry []*call // calls deferred to the next batch
	for {
		batch := carry
		carry = nil
		if len(batch) == 0 {
			select {
			case c := <-db.queue:
				batch = append(batch, c)
			case <-db.stop:
				db.drain()
				return
			}
		}
		// Gather what is queued. While more keeps arriving, yield and look again:
		// the callers the last batch just answered may not have had a core yet to
		// queue their next closure (a small machine), and a bigger batch shares one
		// commit among more callers. Yielding costs microseconds, not a timer's wait.
		for tries := 0; tries < 4 && len(batch) < db.cfg.MaxBatch; tries++ {
			before := len(batch)
			runtime.Gosched()
		gather:
			for len(batch) < db.cfg.MaxBatch {
				select {
				case c := <-db.queue:
					batch = append(batch, c)
				default:
					break gather
				}
			}
			if len(batch) == before {
				break
			}
		}
		carry = db.run(batch)
	}
}

// gatherLate takes up to n calls already queued, without waiting.
func (db *DB) gatherLate(n int) []*call {
	var late []*call
	for len(late) < n {
		select {
		case c := <-db.queue:
			late = append(late, c)
		default:
			return late
		}
	}
	return late
}

// drain fails the calls still queued at Close.
func (db *DB) drain() {
	for {
		select {
		case c := <-db.queue:
			c.done <- errClosed
		default:
			return
		}
	}
}

// run commits one batch and answers its calls. It returns the calls that asked to wait
// for this batch's commit (an idempotency key claimed earlier in the same batch).
func (db *DB) run(batch []*call) []*call {
	start := time.Now()
	for attempt := 0; ; attempt++ {
		// A retry locks every account it reads, so a cache made stale by another
		// process cannot make it fail the same way again.
		results, deferred, err := db.runOnce(&batch, attempt > 0)
		if err != nil {
			// Whatever the batch learned may be wrong: start again from the database.
			db.cache.reset()
			db.rows.reset()
		}
		if err == nil {
			for i, c := range batch {
				if !deferred[i] {
					c.done <- results[i]
				}
			}
			if db.cfg.OnCommit != nil {
				db.cfg.OnCommit(len(batch)-countTrue(deferred), time.Since(start))
			}
			var carry []*call
			for i, c := range batch {
				if deferred[i] {
					carry = append(carry, c)
				}
			}
			return carry
		}
		if retryable(err) && attempt < maxRetries {
			time.Sleep(time.Duration(rand.IntN(1+attempt*attempt)) * time.Millisecond)
			continue
		}
		if len(batch) > 1 {
			// Something about one closure breaks the whole batch: run each alone, so
			// only that one fails.
			db.log.Warn("batch failed; running its closures one by one", "size", len(batch), "err", err)
			var carry []*call
			for _, c := range batch {
				carry = append(carry, db.run([]*call{c})...)
			}
			return carry
		}
		db.log.Error("transaction failed", "err", err)
		batch[0].done <- fmt.Errorf("sqldb: commit: %w", err)
		return nil
	}
}

func countTrue(b []bool) int {
	n := 0
	for _, v := range b {
		if v {
			n++
		}
	}
	return n
}

// runOnce runs every closure of the batch in one database transaction and commits it.
// A closure's own error is its result; an error of the batch itself (the database
// failed, a lost race) is returned and nothing is committed.
//
// On PostgreSQL the batch may grow while it waits for the chain head: calls queued
// meanwhile join it (*batchp is extended), so the time spent waiting for another
// process's batch is not lost to them.
func (db *DB) runOnce(batchp *[]*call, lockAll bool) (results []error, deferred []bool, err error) {
	batch := *batchp
	ctx, cancel := context.WithTimeout(context.Background(), batchTimeout)
	defer cancel()
	w, err := db.b.begin(ctx)
	if err != nil {
		return nil, nil, err
	}
	defer func() {
		if err != nil {
			w.rollback()
		}
	}()
	// The chain head is locked first, before any account: batches of different
	// processes then run one at a time and cannot deadlock on accounts, and a balance
	// read inside the batch cannot change before the batch commits.
	// On PostgreSQL the same round trip reads ahead what the closures named, so that
	// they make no round trips of their own while the head is held (readahead.go).
	var (
		head       hebao.ChainHead
		ahead      *readAhead
		aheadAccts []hebao.Account
	)
	var hints readAheadHints
	pg, isPG := w.(*pgTx)
	if isPG {
		hints = hintsOf(batch)
	}
	if isPG && !hints.empty() {
		head, ahead, aheadAccts, err = pg.lockHeadReadingAhead(ctx, hints)
		db.readAheads.Add(1)
	} else {
		head, err = w.lockHead(ctx)
	}
	if err != nil {
		return nil, nil, err
	}
	if isPG {
		// While this batch waited for the head (another process's batch held it),
		// more calls queued: they join now, their rows read ahead in one more round
		// trip, still under the head, so still what they would read for themselves.
		if late := db.gatherLate(db.cfg.MaxBatch - len(batch)); len(late) > 0 {
			batch = append(batch, late...)
			*batchp = batch
			db.lateJoins.Add(int64(len(late)))
			if h := hintsOf(late); !h.empty() {
				more, accts, err := pg.readAheadUnderHead(ctx, h)
				if err != nil {
					return nil, nil, err
				}
				ahead = ahead.merge(more)
				aheadAccts = append(aheadAccts, accts...)
			}
		}
	}
	if head.Seq != db.cacheSeq {
		// Someone else committed transfers since this process last did: any cached
		// balance may be old, too high as well as too low, and a too-high one that
		// still covers a spend would pass the guard and be reported as the balance
		// after it.
		db.cache.reset()
		db.cacheSeq = head.Seq
	}
	b := &batchState{
		head:      head,
		ctx:       ctx,
		w:         w,
		now:       db.now().UTC().Truncate(time.Microsecond),
		accounts:  map[hebao.AccountID]*lockedAccount{},
		cache:     db.cache,
		rows:      db.rows,
		merchants: &db.merchants,
		owners:    &db.owners,
		campaigns: &db.campaigns,
		lockAll:   lockAll,
		replies:   map[replyKey]int{},
		ids:       map[string]bool{},
		usage:     map[string]*usageState{},
	}
	b.ahead = ahead
	if !lockAll { // a retry locks every account it reads, as it reads it
		for _, a := range aheadAccts {
			b.accounts[a.ID] = &lockedAccount{Account: a, loaded: a.Balance, fresh: true}
		}
	}
	v, ok, err := w.dataVersion(ctx)
	if err != nil {
		return nil, nil, err
	}
	b.rowsOK = !lockAll && db.rows.usable(v, ok)
	_, lite := w.(*sqliteTx)
	if lite {
		db.noteDataVersion(v, ok)
		b.stillAbsent = db.stillAbsent
	}
	results = make([]error, len(batch))
	deferred = make([]bool, len(batch))
	for i, c := range batch {
		if err := c.ctx.Err(); err != nil {
			results[i] = err
			continue
		}
		t := b.open()
		t.absent = c.absent
		ferr := runClosure(c.fn, t)
		if b.err != nil {
			return nil, nil, b.err
		}
		switch {
		case t.deferred:
			deferred[i] = true
			err = t.abort()
		case ferr != nil:
			results[i] = ferr
			err = t.abort()
		default:
			err = t.finish()
		}
		if err != nil {
			return nil, nil, err
		}
	}
	written, err := b.flush(db.cfg.LedgerKey)
	if err != nil {
		return nil, nil, err
	}
	if err := w.commit(ctx); err != nil {
		return nil, nil, err
	}
	db.accountReads.Add(int64(b.reads))
	db.replyReads.Add(int64(b.replyReads))
	if lite {
		db.logClaims(b.replyRows)
	}
	if b.rowsDirty || !b.rowsOK {
		// A batch that did not trust the cache did not keep it up to date either.
		db.rows.reset()
	} else {
		for id, u := range b.usage {
			if u.dirty {
				db.rows.usage[id] = u.u
			}
		}
	}
	if b.newCampaign {
		db.campaigns.reset()
	}
	for k, id := range b.seenOwners {
		db.owners.m.Store(k, id)
	}
	for _, a := range b.accounts {
		acct := a.Account // Balance: loaded plus this batch's changes
		if bal, ok := written[acct.ID]; ok {
			acct.Balance = bal // what the database says, where it said it
		}
		db.cache.put(acct)
	}
	db.cacheSeq = head.Seq + int64(len(b.transfers)) // the head this batch committed
	return results, deferred, nil
}

// runClosure runs fn, turning a panic into an internal error for that caller alone.
func runClosure(fn func(hebao.Tx) error, t *tx) (err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("sqldb: panic in transaction: %v", p)
		}
		t.closed = true
	}()
	return fn(t)
}

// flush seals the batch's transfers onto the chain and writes everything buffered.
// It returns the balances the guarded updates left.
func (b *batchState) flush(key []byte) (map[hebao.AccountID]int64, error) {
	w := &writes{replies: b.replyRows, events: b.events, movements: b.movements, notes: b.notes, delivered: b.delivered}
	for _, u := range b.usage {
		if u.dirty {
			w.usage = append(w.usage, u.u)
		}
	}
	slices.SortFunc(w.usage, func(x, y hebao.Usage) int { return cmp.Compare(x.WalletID, y.WalletID) })
	for _, o := range b.orders {
		w.orders = append(w.orders, orderWrite{o: o.o, loaded: o.loaded})
	}
	slices.SortFunc(w.orders, func(x, y orderWrite) int { return cmp.Compare(x.o.ID, y.o.ID) })
	if len(b.transfers) == 0 && len(b.replyRows) == 0 && len(b.events) == 0 && len(w.movements) == 0 && len(w.usage) == 0 && len(w.orders) == 0 &&
		len(w.notes) == 0 && len(w.delivered) == 0 {
		return nil, nil
	}
	if len(b.transfers) > 0 {
		head := b.head
		for _, t := range b.transfers {
			t.Seal(head.Seq+1, b.now, head.Hash)
			head = hebao.ChainHead{Seq: t.Seq, Hash: t.Hash}
		}
		w.transfers = b.transfers
		w.head = head
		w.headMAC = head.Checkpoint(key)
		for id, a := range b.accounts {
			if d := a.Balance - a.loaded; d != 0 {
				w.balances = append(w.balances, balanceDelta{id: id, delta: d, min: a.minDelta})
			}
		}
		slices.SortFunc(w.balances, func(x, y balanceDelta) int { return cmp.Compare(x.id, y.id) })
	}
	if err := b.w.flush(b.ctx, w); err != nil {
		return nil, err
	}
	return w.newBalances, nil
}
