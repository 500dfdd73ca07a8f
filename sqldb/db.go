// Package sqldb is Hebao's one storage adapter: the same schema and the same code on
// SQLite (the embedded default) and PostgreSQL, in plain SQL, with every write going
// through a group-committing Transact.
package sqldb

import (
	"context"
	"crypto/hmac"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hebaopay/hebao"
)

// Config says which database to open and how.
type Config struct {
	// URL is "" for SQLite in DataDir/hebao.db, or a postgres:// URL.
	URL     string
	DataDir string
	// LedgerKey is the HMAC key for chain-head checkpoints. It must live outside the
	// database, and must be the same every time the same database is opened.
	LedgerKey []byte
	// MaxBatch caps how many Transact closures share one database commit.
	MaxBatch int
	Logger   *slog.Logger
	// OnCommit, if set, is told the size and duration of every committed batch.
	OnCommit func(batchSize int, elapsed time.Duration)
	// Now is the clock (time.Now when nil); tests pass a fake one.
	Now func() time.Time
	// ReadOnly opens for Verify alone: no migrations, no writes, and a chain head that
	// does not verify is reported by Verify instead of refusing to open.
	ReadOnly bool
}

// DefaultMaxBatch is the batch cap when Config.MaxBatch is 0.
const DefaultMaxBatch = 128

// maxCachedRows bounds the committer's cache of payers and payees (a few hundred
// bytes each).
const maxCachedRows = 100_000

// maxCachedAccounts bounds the committer's account cache (about 100 bytes each).
const maxCachedAccounts = 1 << 20

// maxRetries bounds how often one batch is retried after a serialization failure,
// deadlock or lost race before its closures are run one by one.
const maxRetries = 8

// DB is an open Hebao database. It implements hebao.Store and hebao.Journal.
type DB struct {
	cfg     Config
	b       backend
	log     *slog.Logger
	queue   chan *call
	stop    chan struct{}
	stopped chan struct{}
	once    sync.Once
	now     func() time.Time
	cache   *accountCache // the committer's; see cache.go
	// cacheSeq is the chain head's seq when cache was last made right: after this
	// process's last commit. Every balance change is a transfer, which moves the
	// head, so a head found elsewhere at the next batch means another process (or
	// command) changed balances and the cache is dropped. Only the committer uses it.
	cacheSeq int64
	rows     *rowCache // the committer's; see cache.go
	// merchants are shared by the committer and Views: a committed merchant row
	// never changes.
	merchants merchantCache
	// owners are the ids of the operator's committed accounts (see SystemAccount).
	owners    ownerCache
	campaigns campaignCache // see ActiveCampaigns
	// readAheads counts the batches that read ahead (readahead.go); tests look.
	readAheads atomic.Int64
	// lateJoins counts the calls that joined a batch while it waited for the
	// chain head (runOnce); tests look.
	lateJoins atomic.Int64
	// accountReads counts the accounts that batches' closures read from the
	// database for themselves, not from the cache or a read-ahead; tests look.
	accountReads atomic.Int64
	// On SQLite: the batches this committer committed, the keys its last ones
	// claimed, and when another connection was last seen to write (absent.go).
	// commits is read by callers; the rest only by the committer.
	commits    atomic.Int64
	claimLog   []claimEntry
	externalAt int64
	lastDV     int64
	haveDV     bool
	// replyReads counts the idempotency keys closures looked up with a statement
	// of their own; tests look.
	replyReads atomic.Int64
	// bg runs the work beside the committer (keepStats on PostgreSQL) until
	// stopBG; Close waits for it.
	bg     sync.WaitGroup
	stopBG context.CancelFunc
}

var (
	_ hebao.Store          = (*DB)(nil)
	_ hebao.LedgerVerifier = (*DB)(nil)
)

// Open opens the database named by cfg, applies any migrations it lacks, checks that
// cfg.LedgerKey is this ledger's key, and starts the committer.
func Open(ctx context.Context, cfg Config) (*DB, error) {
	if len(cfg.LedgerKey) < 16 {
		return nil, errors.New("sqldb: the ledger key must be at least 16 bytes")
	}
	if cfg.MaxBatch <= 0 {
		cfg.MaxBatch = DefaultMaxBatch
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var (
		b   backend
		err error
	)
	switch {
	case cfg.URL == "":
		b, err = openSQLite(ctx, cfg.DataDir, cfg.ReadOnly)
	case strings.HasPrefix(cfg.URL, "postgres://"), strings.HasPrefix(cfg.URL, "postgresql://"):
		b, err = openPostgres(ctx, cfg.URL, cfg.ReadOnly)
	default:
		return nil, fmt.Errorf("sqldb: unsupported database URL (want postgres://… or none for SQLite)")
	}
	if err != nil {
		return nil, err
	}
	db := &DB{
		cfg:     cfg,
		b:       b,
		log:     cfg.Logger,
		queue:   make(chan *call, 4*cfg.MaxBatch),
		stop:    make(chan struct{}),
		stopped: make(chan struct{}),
		now:     cfg.Now,
		cache:   newAccountCache(maxCachedAccounts),
		rows:    newRowCache(maxCachedRows),
	}
	if db.now == nil {
		db.now = time.Now
	}
	if cfg.ReadOnly {
		close(db.stop)
		close(db.stopped)
		return db, nil
	}
	if err := db.init(ctx); err != nil {
		b.close()
		return nil, err
	}
	go db.loop()
	if p, ok := b.(*pgDB); ok {
		bg, cancel := context.WithCancel(context.Background())
		db.stopBG = cancel
		db.bg.Go(func() { p.keepStats(bg, StatsInterval, db.log) })
	}
	return db, nil
}

// init creates the chain head on a new ledger and checks the checkpoint of an old one.
func (db *DB) init(ctx context.Context) error {
	zero := hebao.ChainHead{}
	mac := zero.Checkpoint(db.cfg.LedgerKey)
	if err := db.b.initHead(ctx, mac[:]); err != nil {
		return fmt.Errorf("sqldb: create chain head: %w", err)
	}
	var (
		head   hebao.ChainHead
		stored [32]byte
	)
	err := db.b.snapshot(ctx, func(j hebao.Journal) (err error) {
		head, stored, err = j.Head(ctx)
		return err
	})
	if err != nil {
		return err
	}
	if want := head.Checkpoint(db.cfg.LedgerKey); !hmac.Equal(want[:], stored[:]) {
		return errors.New("sqldb: the chain head's checkpoint does not verify under this ledger key: wrong key file, or the head was tampered with (run `hebao verify`)")
	}
	return nil
}

// Dialect returns "sqlite" or "postgres".
func (db *DB) Dialect() string { return db.b.dialect() }

// Ping reports whether the database answers.
func (db *DB) Ping(ctx context.Context) error { return db.b.ping(ctx) }

// Close stops accepting work, lets queued closures finish, and closes the database.
// Calling it again does nothing.
func (db *DB) Close() error {
	var err error
	db.once.Do(func() {
		select {
		case <-db.stop: // read-only: never started
		default:
			close(db.stop)
		}
		<-db.stopped
		if db.stopBG != nil {
			db.stopBG()
			db.bg.Wait()
		}
		err = db.b.close()
	})
	return err
}

// Verify proves the whole ledger with hebao.Verify under the ledger key, reading one
// consistent snapshot while writers go on.
func (db *DB) Verify(ctx context.Context) (*hebao.VerifyReport, error) {
	var r *hebao.VerifyReport
	err := db.b.snapshot(ctx, func(j hebao.Journal) (err error) {
		r, err = hebao.Verify(ctx, j, db.cfg.LedgerKey)
		return err
	})
	return r, err
}

// Balances returns the committed balances of the given accounts, read together in one
// snapshot. Accounts that do not exist are absent from the map.
func (db *DB) Balances(ctx context.Context, ids ...hebao.AccountID) (map[hebao.AccountID]int64, error) {
	return db.b.balances(ctx, ids)
}

// soloBatch is the state of a transaction that runs one closure outside the
// committer (a View, or a closure beside the batches): it shares none of the
// committer's caches of accounts and rows, only those safe to share.
func (db *DB) soloBatch(ctx context.Context, w wtx) *batchState {
	return &batchState{
		ctx:       ctx,
		w:         w,
		now:       db.now().UTC().Truncate(time.Microsecond),
		accounts:  map[hebao.AccountID]*lockedAccount{},
		cache:     newAccountCache(0),
		rows:      newRowCache(0),
		merchants: &db.merchants,
		campaigns: &db.campaigns,
		replies:   map[replyKey]int{},
		ids:       map[string]bool{},
		usage:     map[string]*usageState{},
	}
}

// View runs fn on a read-only snapshot on the read connections, beside the committer
// rather than through it: for reads that must not wait for writes. fn's Tx refuses
// every write. Reads in a View do not lock anything.
func (db *DB) View(ctx context.Context, fn func(hebao.Tx) error) error {
	w, err := db.b.beginRead(ctx)
	if err != nil {
		return err
	}
	defer w.rollback()
	b := db.soloBatch(ctx, w)
	b.readOnly = true
	t := b.open()
	err = runClosure(fn, t)
	if err == nil && b.err != nil {
		err = b.err
	}
	return err
}
