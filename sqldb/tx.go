package sqldb

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/hebaopay/hebao"
)

// batchState is what the closures of one batch share: the open transaction, the
// accounts locked so far with their running balances, and the writes buffered for the
// flush. Closures run one after another, so nothing here needs a lock.
type batchState struct {
	ctx      context.Context
	w        wtx
	now      time.Time
	err      error // a database failure outside any savepoint: the batch is lost
	accounts map[hebao.AccountID]*lockedAccount
	cache    *accountCache
	head     hebao.ChainHead // locked at the start of the batch
	lockAll  bool            // read and lock every account: the cache let this batch down once
	reads    int             // accounts the closures read from the database (DB.accountReads)
	// stillAbsent, on SQLite, says whether a caller's look-up of its idempotency key
	// still holds (absent.go); replyReads counts the keys closures read themselves.
	stillAbsent func(*absentKey) bool
	replyReads  int
	readOnly    bool // a View: reads only, on the read connections
	aside       bool // a closure that moves no money, beside the batches (aside.go)
	transfers   []*hebao.Transfer
	ids         map[string]bool // transfer ids buffered in this batch
	replies     map[replyKey]int
	replyRows   []replyRow
	events      []hebao.Event
	// Movements and limit counters are buffered like transfers and written at the
	// flush: a money-moving closure then needs no savepoint and no statement of its
	// own besides its reads.
	movements []hebao.Movement
	// notes and delivered are the dispatcher's writes, buffered the same way.
	notes     []noteRow
	delivered []deliveredRow
	usage     map[string]*usageState // by wallet id: read (and on PostgreSQL locked) once per batch
	// rows is the committer's cache of payers and payees, trusted while rowsOK;
	// rowsDirty says a closure wrote rows directly, so the cache starts over.
	rows      *rowCache
	rowsOK    bool
	rowsDirty bool
	// orders are the orders a closure of the batch changed, written at the flush
	// with a guard that they are still as loaded; merchants is the committer's cache
	// of merchants (their rows never change once committed).
	orders map[string]*orderState
	// read are orders read in the batch and not changed in it: an UpdateOrder
	// after an OrderByID needs no second read. Orders change only through
	// UpdateOrder (into orders), so these stay true for the batch.
	read      map[string]hebao.Order
	merchants *merchantCache
	// campaigns is the DB's campaign cache; newCampaign says a closure of this
	// batch created a campaign, so the cache is not used and is reset at the commit.
	campaigns   *campaignCache
	newCampaign bool
	// owners is the DB's cache of the operator's account ids, and seenOwners the
	// ids this batch read, remembered there once it commits.
	owners     *ownerCache
	seenOwners map[ownerKey]hebao.AccountID
	// ahead is what the batch read before its closures ran, of the rows they named
	// (hebao.ReadAhead): PostgreSQL only; nil elsewhere.
	ahead *readAhead
}

type orderState struct {
	o      hebao.Order // as the batch has it now
	loaded hebao.Order // as the database had it
}

type usageState struct {
	u     hebao.Usage
	dirty bool
}

type lockedAccount struct {
	hebao.Account       // Balance is the running balance within the batch
	loaded        int64 // the balance the batch started from; the flush writes the difference
	// minDelta is the lowest the running balance went below loaded, over the batch's
	// transfers in journal order. The flush's guard checks stored balance + minDelta,
	// so that no transfer in the journal ever takes an account below zero, even when
	// a later transfer of the same batch brings it back.
	minDelta int64
	fresh    bool // read from the database in this batch, not taken from the cache
}

type replyKey struct{ scope, key string }

// tx is the hebao.Tx of one closure. It remembers how to undo its effects on the
// batch so that a failing closure leaves no trace while the others commit.
type tx struct {
	b          *batchState
	absent     *absentKey // its caller's look-up of its idempotency key, if any
	inSP       bool       // a savepoint guards this closure's direct writes
	closed     bool
	deferred   bool
	undo       map[hebao.AccountID]*lockedAccount // state before this closure; nil = not loaded
	undoUsage  map[string]*usageState             // the same for limit counters
	undoOrders map[string]*orderState             // the same for orders
	undoMoves  map[int]hebao.Movement             // buffered movements of earlier closures this one finished
	nTransfer  int
	nReplies   int
	nEvents    int
	nMoves     int
	nNotes     int
	nDelivered int
}

var _ hebao.Tx = (*tx)(nil)

func (b *batchState) open() *tx {
	return &tx{b: b, nTransfer: len(b.transfers), nReplies: len(b.replyRows), nEvents: len(b.events), nMoves: len(b.movements), nNotes: len(b.notes), nDelivered: len(b.delivered)}
}

// finish keeps the closure's effects.
func (t *tx) finish() error {
	if t.inSP {
		if err := t.b.w.releaseSavepoint(t.b.ctx); err != nil {
			return err
		}
	}
	return nil
}

// abort undoes the closure's effects: its direct writes by rolling back to its
// savepoint, its buffered ones by forgetting them.
func (t *tx) abort() error {
	b := t.b
	if t.inSP {
		if err := b.w.rollbackToSavepoint(b.ctx); err != nil {
			return err
		}
	}
	for id, prev := range t.undo {
		if prev == nil {
			delete(b.accounts, id)
		} else {
			b.accounts[id] = prev
		}
	}
	for _, tr := range b.transfers[t.nTransfer:] {
		delete(b.ids, tr.ID)
	}
	for _, r := range b.replyRows[t.nReplies:] {
		delete(b.replies, replyKey{r.scope, r.key})
	}
	for i, prev := range t.undoMoves {
		b.movements[i] = prev
	}
	for id, prev := range t.undoOrders {
		if prev == nil {
			delete(b.orders, id)
		} else {
			b.orders[id] = prev
		}
	}
	for id, prev := range t.undoUsage {
		if prev == nil {
			delete(b.usage, id)
		} else {
			b.usage[id] = prev
		}
	}
	b.transfers = b.transfers[:t.nTransfer]
	b.replyRows = b.replyRows[:t.nReplies]
	b.events = b.events[:t.nEvents]
	b.movements = b.movements[:t.nMoves]
	b.notes = b.notes[:t.nNotes]
	b.delivered = b.delivered[:t.nDelivered]
	return nil
}

var errTxDone = errors.New("sqldb: Tx used after its Transact closure returned")

func (t *tx) check() error {
	if t.closed {
		return errTxDone
	}
	return nil
}

// errViewWrite is returned by the write methods of a View's Tx.
var errViewWrite = errors.New("sqldb: write inside View; use Transact")

// checkWrite is check for the methods that write.
func (t *tx) checkWrite() error {
	if t.b.readOnly {
		return errViewWrite
	}
	return t.check()
}

// fail records a database error. Outside a savepoint the transaction is unusable
// (PostgreSQL aborts it), so the whole batch is retried.
func (t *tx) fail(err error) error {
	if !t.inSP && t.b.err == nil {
		t.b.err = err
	}
	return err
}

// direct makes sure a savepoint guards the closure's direct writes. A direct write
// may change what the row cache holds, so the batch stops trusting it.
func (t *tx) direct() error {
	t.b.rowsOK, t.b.rowsDirty = false, true
	return t.guard()
}

// guard makes sure the closure's direct writes can be undone alone: a savepoint,
// taken once. A closure beside the batches (aside) is alone in its transaction,
// which is rolled back whole when the closure fails, and needs none: that saves two
// round trips (SAVEPOINT, RELEASE) for every order created on PostgreSQL.
func (t *tx) guard() error {
	if t.inSP || t.b.aside {
		return nil
	}
	if err := t.b.w.savepoint(t.b.ctx); err != nil {
		return t.fail(err)
	}
	t.inSP = true
	return nil
}

// exec runs a direct write inside the closure's savepoint.
func (t *tx) exec(q string, args ...any) (int64, error) {
	if err := t.checkWrite(); err != nil {
		return 0, err
	}
	if err := t.direct(); err != nil {
		return 0, err
	}
	return t.b.w.exec(t.b.ctx, q, args...)
}

// execOwn runs a direct write to a table the row cache does not hold (merchants,
// orders, webhook deliveries): inside the closure's savepoint like exec, but the
// batch keeps trusting the cache.
func (t *tx) execOwn(q string, args ...any) (int64, error) {
	if err := t.checkWrite(); err != nil {
		return 0, err
	}
	if err := t.guard(); err != nil {
		return 0, err
	}
	return t.b.w.exec(t.b.ctx, q, args...)
}

// queryRow reads one row. A read error outside a savepoint loses the batch (it is
// retried), since PostgreSQL aborts the transaction on any error.
func (t *tx) queryRow(q string, args ...any) scanner {
	return failingRow{t, t.b.w.queryRow(t.b.ctx, q, args...)}
}

// query reads rows; the caller closes them.
func (t *tx) query(q string, args ...any) (closingRows, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.b.w.query(t.b.ctx, q, args...)
	if err != nil {
		return nil, t.fail(err)
	}
	return rs, nil
}

type failingRow struct {
	t *tx
	r scanner
}

// Scan treats "no rows" as an answer, and any other error as a lost batch.
func (f failingRow) Scan(dest ...any) error {
	err := f.r.Scan(dest...)
	if err != nil && !isNoRows(err) {
		var he *hebao.Error
		if !errors.As(err, &he) {
			return f.t.fail(err)
		}
	}
	return err
}

// Now implements hebao.Tx.
func (t *tx) Now() time.Time { return t.b.now }

// CreateAccount implements hebao.Tx.
func (t *tx) CreateAccount(_ context.Context, a hebao.Account) (hebao.Account, error) {
	if err := t.checkWrite(); err != nil {
		return hebao.Account{}, err
	}
	if !a.Unit.Valid() || a.Kind == "" {
		return hebao.Account{}, hebao.Errorf(hebao.CodeInvalidRequest, "account needs a kind and a unit")
	}
	if err := t.direct(); err != nil {
		return hebao.Account{}, err
	}
	a.Balance = 0
	a.CreatedAt = t.b.now
	id, err := t.b.w.createAccount(t.b.ctx, a, t.b.now.UnixMicro())
	if err != nil {
		return hebao.Account{}, fmt.Errorf("create account: %w", err)
	}
	a.ID = id
	return a, nil
}

// Accounts implements hebao.Tx. It always reads the database (locking the rows on
// PostgreSQL), never the committer's cache, so a business rule that looks at a
// balance — a balance cap, say — sees the committed truth even with several processes.
func (t *tx) Accounts(_ context.Context, ids ...hebao.AccountID) (map[hebao.AccountID]hebao.Account, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if err := t.load(ids, true); err != nil {
		return nil, err
	}
	out := make(map[hebao.AccountID]hebao.Account, len(ids))
	for _, id := range ids {
		a, ok := t.b.accounts[id]
		if !ok {
			return nil, hebao.Errorf(hebao.CodeNotFound, "account %d not found", id)
		}
		out[id] = a.Account
	}
	return out, nil
}

// load brings accounts into the batch. With fresh, accounts not yet read from the
// database in this batch are read (and locked) now, in ascending id order; without it
// the committer's cache may answer. A cached balance is only a hint: Post refreshes it
// before refusing a transfer, and the guarded update at the flush refuses to commit
// on a balance that was too high.
func (t *tx) load(ids []hebao.AccountID, fresh bool) error {
	if t.b.aside {
		// It holds no chain head, so it may not lock accounts: the batches lock the
		// head first, and an account locked without it could deadlock them.
		return errAside
	}
	fresh = fresh || t.b.lockAll
	var missing []hebao.AccountID
	for _, id := range ids {
		a, ok := t.b.accounts[id]
		switch {
		case ok && (a.fresh || !fresh):
			continue
		case !ok && !fresh:
			if c, hit := t.b.cache.get(id); hit {
				t.remember(id)
				t.b.accounts[id] = &lockedAccount{Account: c, loaded: c.Balance}
				continue
			}
		}
		missing = append(missing, id)
	}
	if len(missing) == 0 {
		return nil
	}
	slices.Sort(missing)
	missing = slices.Compact(missing)
	var (
		got []hebao.Account
		err error
	)
	t.b.reads += len(missing)
	if fresh && !t.b.readOnly {
		got, err = t.b.w.lockAccounts(t.b.ctx, missing)
	} else {
		got, err = t.b.w.readAccounts(t.b.ctx, missing)
	}
	if err != nil {
		return t.fail(fmt.Errorf("read accounts: %w", err))
	}
	for _, a := range got {
		t.adopt(a)
	}
	return nil
}

// adopt takes a, just read from the database (and locked, outside a View), as the
// truth about the account for the rest of the batch.
func (t *tx) adopt(a hebao.Account) {
	t.remember(a.ID)
	la := &lockedAccount{Account: a, loaded: a.Balance, fresh: true}
	if cur, ok := t.b.accounts[a.ID]; ok {
		// Keep what earlier closures of this batch did, on top of the truth.
		la.Balance += cur.Balance - cur.loaded
		la.minDelta = cur.minDelta
	}
	t.b.accounts[a.ID] = la
}

// remember notes the state of an account before this closure first changes it.
func (t *tx) remember(id hebao.AccountID) {
	if t.undo == nil {
		t.undo = map[hebao.AccountID]*lockedAccount{}
	}
	if _, ok := t.undo[id]; ok {
		return
	}
	if a, ok := t.b.accounts[id]; ok {
		c := *a
		t.undo[id] = &c
	} else {
		t.undo[id] = nil
	}
}

// Post implements hebao.Tx.
func (t *tx) Post(_ context.Context, tr *hebao.Transfer) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if err := tr.Validate(); err != nil {
		return err
	}
	if t.b.ids[tr.ID] {
		return hebao.Errorf(hebao.CodeConflict, "transfer id %s used twice", tr.ID)
	}
	ids := tr.SortedAccounts()
	if err := t.load(ids, false); err != nil {
		return err
	}
	next, err := t.decide(tr, ids)
	if errors.Is(err, hebao.ErrInsufficientFunds) || hebao.ErrorCode(err) == hebao.CodeNotFound {
		// Never refuse on the cache's word: read the accounts and decide again.
		if err := t.load(ids, true); err != nil {
			return err
		}
		next, err = t.decide(tr, ids)
	}
	if err != nil {
		return err
	}
	for id, bal := range next {
		t.remember(id)
		a := t.b.accounts[id]
		a.Balance = bal
		a.minDelta = min(a.minDelta, bal-a.loaded)
	}
	tr.Balances = next
	t.b.transfers = append(t.b.transfers, tr)
	t.b.ids[tr.ID] = true
	return nil
}

// decide applies the ledger's rule to the batch's running balances.
func (t *tx) decide(tr *hebao.Transfer, ids []hebao.AccountID) (map[hebao.AccountID]int64, error) {
	current := make(map[hebao.AccountID]hebao.Account, len(ids))
	for _, id := range ids {
		if a, ok := t.b.accounts[id]; ok {
			current[id] = a.Account
		}
	}
	return hebao.ApplyPostings(tr, current)
}

// Reply implements hebao.Tx. A key saved by an earlier closure of the same batch is
// not committed yet; the closure is then run again in the next batch, where it finds
// the committed reply, so concurrent retries all get the first reply.
func (t *tx) Reply(_ context.Context, k hebao.IdempotencyKey) (*hebao.Reply, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	if i, ok := t.b.replies[replyKey{k.Scope, k.Key}]; ok {
		if i >= t.nReplies { // saved by this very closure
			r := t.b.replyRows[i]
			return matchReply(k, storedReply{requestHash: r.requestHash[:], status: r.status, body: r.body})
		}
		t.deferred = true
		return nil, hebao.ErrIdempotencyKeyInUse
	}
	r, found, asked := t.b.ahead.reply(k)
	if !asked && t.absent != nil && t.absent.k == (replyKey{k.Scope, k.Key}) && t.b.stillAbsent != nil && t.b.stillAbsent(t.absent) {
		return nil, nil // looked up by the caller, and nothing can have stored it since
	}
	var err error
	if !asked {
		t.b.replyReads++
		r, found, err = t.b.w.reply(t.b.ctx, k.Scope, k.Key)
	}
	if err != nil {
		return nil, t.fail(fmt.Errorf("read idempotency key: %w", err))
	}
	if !found {
		return nil, nil
	}
	return matchReply(k, r)
}

func matchReply(k hebao.IdempotencyKey, r storedReply) (*hebao.Reply, error) {
	if !bytes.Equal(r.requestHash, k.RequestHash[:]) {
		return nil, hebao.ErrIdempotencyKeyReused
	}
	if r.status == 0 {
		return nil, hebao.ErrIdempotencyKeyInUse
	}
	return &hebao.Reply{Status: r.status, Body: r.body}, nil
}

// SaveReply implements hebao.Tx.
func (t *tx) SaveReply(_ context.Context, k hebao.IdempotencyKey, r hebao.Reply) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if k.Scope == "" || k.Key == "" || len(k.Key) > 255 || len(k.Scope) > 255 {
		return hebao.Errorf(hebao.CodeInvalidRequest, "Idempotency-Key must be 1 to 255 characters")
	}
	rk := replyKey{k.Scope, k.Key}
	if i, ok := t.b.replies[rk]; ok && i < t.nReplies {
		t.deferred = true
		return hebao.ErrIdempotencyKeyInUse
	}
	row := replyRow{scope: k.Scope, key: k.Key, requestHash: k.RequestHash, status: r.Status, body: r.Body, createdAt: t.b.now.UnixMicro()}
	if i, ok := t.b.replies[rk]; ok {
		t.b.replyRows[i] = row
		return nil
	}
	t.b.replies[rk] = len(t.b.replyRows)
	t.b.replyRows = append(t.b.replyRows, row)
	return nil
}

// Emit implements hebao.Tx.
func (t *tx) Emit(_ context.Context, e hebao.Event) error {
	if err := t.checkWrite(); err != nil {
		return err
	}
	if e.ID == "" {
		e.ID = hebao.NewID("evt")
	}
	if e.Kind == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "event needs a kind")
	}
	if len(e.Payload) == 0 {
		e.Payload = []byte("{}")
	}
	e.CreatedAt = t.b.now
	t.b.events = append(t.b.events, e)
	return nil
}

// BalanceHint returns the account's balance as the batch or the committer's cache
// knows it, reading the database only when neither does: a hint for deciding how to
// split a payment (hebao's balanceHinter); the ledger's own checks stay exact.
func (t *tx) BalanceHint(_ context.Context, id hebao.AccountID) (int64, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	// The committer's cache is only trusted while no other process can have written:
	// on SQLite while the row cache is (data_version unchanged, no direct write in the
	// batch); on PostgreSQL, where several servers share the database, never.
	_, pg := t.b.w.(*pgTx)
	if err := t.load([]hebao.AccountID{id}, pg || !t.b.rowsOK); err != nil {
		return 0, err
	}
	a, ok := t.b.accounts[id]
	if !ok {
		return 0, hebao.Errorf(hebao.CodeNotFound, "account %d not found", id)
	}
	return a.Balance, nil
}
