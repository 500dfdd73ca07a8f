package sqldb

import (
	"context"
	"errors"

	"github.com/hebaopay/hebao"
)

// backend is what differs between SQLite and PostgreSQL: connections, SQL dialect and
// the bulk statements of a flush. Everything above it — batching, savepoints, balance
// checks, sealing the chain — is shared, so both databases obey the same rules.
type backend interface {
	dialect() string
	ping(ctx context.Context) error
	close() error
	initHead(ctx context.Context, mac []byte) error
	// snapshot calls fn with the whole journal as of one moment, while writers go on.
	snapshot(ctx context.Context, fn func(hebao.Journal) error) error
	// balances reads the current balances of some accounts in one statement.
	balances(ctx context.Context, ids []hebao.AccountID) (map[hebao.AccountID]int64, error)
	// begin starts the write transaction of one batch.
	begin(ctx context.Context) (wtx, error)
	// beginRead starts a read-only transaction on the read connections; its write
	// methods are never called (tx refuses first).
	beginRead(ctx context.Context) (wtx, error)
	// readRow runs one read statement on the read connections, outside any
	// transaction (the statement is its own snapshot).
	readRow(ctx context.Context, q string, args ...any) scanner
}

// wtx is one open write transaction.
type wtx interface {
	querier
	savepoint(ctx context.Context) error
	rollbackToSavepoint(ctx context.Context) error
	releaseSavepoint(ctx context.Context) error
	createAccount(ctx context.Context, a hebao.Account, createdAt int64) (hebao.AccountID, error)
	// lockAccounts reads the accounts with the given ids (ascending) and locks them
	// until the end of the transaction. Missing ids are simply absent from the result.
	lockAccounts(ctx context.Context, ids []hebao.AccountID) ([]hebao.Account, error)
	// readAccounts reads the accounts without locking them.
	readAccounts(ctx context.Context, ids []hebao.AccountID) ([]hebao.Account, error)
	reply(ctx context.Context, scope, key string) (r storedReply, found bool, err error)
	// dataVersion returns a number that changes whenever another connection commits
	// to the database; ok is false where the database has none (PostgreSQL).
	dataVersion(ctx context.Context) (v int64, ok bool, err error)
	// lockHead reads the chain head and locks it until the end of the transaction:
	// the one lock that orders all writers.
	lockHead(ctx context.Context) (hebao.ChainHead, error)
	// flush writes everything the batch buffered, and records in w.newBalances the
	// balances the guarded updates left.
	flush(ctx context.Context, w *writes) error
	commit(ctx context.Context) error
	rollback() error
}

// querier runs the plain SQL of business records. Statements are written once with
// $1, $2… placeholders, which both SQLite and PostgreSQL understand; only DDL differs
// between the dialects.
type querier interface {
	exec(ctx context.Context, q string, args ...any) (rowsAffected int64, err error)
	// query returns rows the caller must close.
	query(ctx context.Context, q string, args ...any) (closingRows, error)
	queryRow(ctx context.Context, q string, args ...any) scanner
}

// closingRows is a result set of either driver.
type closingRows interface {
	rows
	Close()
}

type storedReply struct {
	requestHash []byte
	status      int
	body        []byte
}

type replyRow struct {
	scope, key  string
	requestHash [32]byte
	status      int
	body        []byte
	createdAt   int64
}

type balanceDelta struct {
	id    hebao.AccountID
	delta int64
	// min is the lowest running change within the batch (≤ 0, ≤ delta): the guard
	// refuses unless the stored balance covers it.
	min int64
}

// writes is what one batch flushes at its end, in multi-row statements where the
// database has them.
type writes struct {
	transfers []*hebao.Transfer
	balances  []balanceDelta // ascending id
	head      hebao.ChainHead
	headMAC   [32]byte
	replies   []replyRow
	events    []hebao.Event
	movements []hebao.Movement
	usage     []hebao.Usage // ascending wallet id
	orders    []orderWrite  // ascending id
	notes     []noteRow
	delivered []deliveredRow

	newBalances map[hebao.AccountID]int64 // filled by flush
}

// orderWrite is an order changed in the batch: o over the row, if the row is still
// as loaded (else another process changed it meanwhile, and the batch is run again).
type orderWrite struct {
	o, loaded hebao.Order
}

// errRetry marks a batch that lost a race with another process (a key claimed or a
// balance moved between our read and our write); the batch is run again.
var errRetry = errors.New("sqldb: lost a race with a concurrent writer; retrying")
