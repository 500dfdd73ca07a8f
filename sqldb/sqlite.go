package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"time"

	"github.com/hebaopay/hebao"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver
)

// sqliteDB keeps one connection for writes, on which every batch runs as BEGIN
// IMMEDIATE, and a pool of read-only connections that WAL lets read beside it.
type sqliteDB struct {
	w, r   *sql.DB
	stmts  map[string]*sql.Stmt // prepared once on the write connection
	rstmts map[string]*sql.Stmt // the reads among them, prepared on the read pool

	// The checkpointer copies the WAL back into the database file in the background,
	// so commits do not pay for it; the write connection only checkpoints itself if
	// the WAL grows past walFallbackPages.
	ckpt     *sql.DB
	stopCkpt chan struct{}
	ckptDone chan struct{}

	// unprepared records the statements run without a prepared form (parsed each
	// time); tests look, so that a hot statement missing from sqliteHot shows.
	unprepared sync.Map
}

const (
	checkpointEvery  = 200 * time.Millisecond
	walFallbackPages = 16384 // 64 MiB of 4 KiB pages
)

var _ backend = (*sqliteDB)(nil)

// The write statements of a batch, prepared once.
const (
	sqliteInsertTransfer = `INSERT INTO transfers (seq, id, kind, ref, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`
	sqliteInsertPosting  = `INSERT INTO postings (transfer_seq, idx, account_id, unit, amount) VALUES (?, ?, ?, ?, ?)`
	// The same inserts for sqliteChunk rows at once: SQLite binds no arrays, and one
	// statement per row would spend a third of a batch on statement overhead.
	sqliteInsertTransfers = `INSERT INTO transfers (seq, id, kind, ref, created_at, prev_hash, hash) VALUES
(?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?),
(?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?), (?, ?, ?, ?, ?, ?, ?)`
	sqliteInsertPostings = `INSERT INTO postings (transfer_seq, idx, account_id, unit, amount) VALUES
(?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?),
(?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?), (?, ?, ?, ?, ?)`
	sqliteChunk = 8
	// The guard: a constrained account is never written below zero, whatever the Go
	// code decided; the CHECK constraint stands behind it.
	sqliteUpdateBalance = `UPDATE accounts SET balance = balance + ?1 WHERE id = ?2 AND (may_go_negative = 1 OR balance + ?3 >= 0)`
	sqliteUpdateHead    = `UPDATE ledger_head SET seq = ?, hash = ?, mac = ? WHERE id = 1`
	sqliteInsertReply   = `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at) VALUES (?, ?, ?, ?, ?, ?)`
	sqliteInsertEvent   = `INSERT INTO outbox (id, kind, payload, created_at) VALUES (?, ?, ?, ?)`
	sqliteLockAccounts  = `SELECT id, kind, unit, owner, may_go_negative, balance, created_at FROM accounts WHERE id IN (SELECT value FROM json_each(?)) ORDER BY id`
	// The common cases, one or two accounts, skip json_each.
	sqliteLockAccount1  = `SELECT id, kind, unit, owner, may_go_negative, balance, created_at FROM accounts WHERE id = ?`
	sqliteLockAccount2  = `SELECT id, kind, unit, owner, may_go_negative, balance, created_at FROM accounts WHERE id IN (?, ?) ORDER BY id`
	sqliteSelectReply   = `SELECT request_hash, status, body FROM idempotency_keys WHERE scope = ? AND key = ?`
	sqliteInsertAccount = `INSERT INTO accounts (kind, unit, owner, may_go_negative, balance, created_at) VALUES (?, ?, ?, ?, 0, ?) RETURNING id`
)

func openSQLite(ctx context.Context, dir string, readOnly bool) (*sqliteDB, error) {
	if dir == "" {
		dir = "hebao-data"
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("sqldb: create data dir: %w", err)
	}
	path := filepath.Join(dir, "hebao.db")
	// Create the file ourselves so that it is private to its owner from the start.
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, fmt.Errorf("sqldb: %w", err)
	}
	f.Close()
	q := url.Values{}
	q.Add("_pragma", "busy_timeout(10000)")
	q.Add("_pragma", "journal_mode(WAL)")
	q.Add("_pragma", "synchronous(FULL)")
	q.Add("_pragma", "foreign_keys(1)")
	// 16 MiB of page cache (the default is 2 MiB): the hot pages of the indexes the
	// money services touch stay in memory instead of costing a read(2) each. Not
	// more: at the end of every write transaction SQLite scans the cache's whole
	// hash table, which with 64 MiB cost the committer 5%.
	q.Add("_pragma", "cache_size(-16384)")
	// Statement journals (which let one statement of a batch fail alone) in memory:
	// on disk, every multi-row insert of a flush would also write its pages to a
	// temporary file.
	q.Add("_pragma", "temp_store(2)")
	q.Add("_pragma", fmt.Sprintf("wal_autocheckpoint(%d)", walFallbackPages))
	q.Set("_txlock", "immediate")
	// The log's writes are gathered until each commit syncs it (walvfs.go), which
	// relies on synchronous(FULL) above.
	if err := registerWALVFS(); err != nil {
		return nil, err
	}
	q.Set("vfs", walVFSName)
	w, err := sql.Open("sqlite", "file:"+path+"?"+q.Encode())
	if err != nil {
		return nil, fmt.Errorf("sqldb: open %s: %w", path, err)
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	if err := w.PingContext(ctx); err != nil {
		w.Close()
		return nil, fmt.Errorf("sqldb: open %s: %w", path, err)
	}
	s := &sqliteDB{w: w, stmts: map[string]*sql.Stmt{}, rstmts: map[string]*sql.Stmt{}}
	if err := migrate(ctx, s, readOnly); err != nil {
		w.Close()
		return nil, err
	}
	rq := url.Values{}
	rq.Add("_pragma", "busy_timeout(10000)")
	rq.Add("_pragma", "query_only(1)")
	rq.Add("_pragma", "cache_size(-16384)")
	r, err := sql.Open("sqlite", "file:"+path+"?"+rq.Encode())
	if err != nil {
		w.Close()
		return nil, err
	}
	readers := max(4, runtime.NumCPU())
	r.SetMaxOpenConns(readers)
	// Keep every reader open: database/sql keeps 2 idle by default, so under load
	// it closed the others after each read and opened them again (parsing the
	// connection's pragmas and preparing its statements anew) — in a profile under
	// hebao bench, half the cost of every request's authentication.
	r.SetMaxIdleConns(readers)
	s.r = r
	if !readOnly {
		cq := url.Values{}
		cq.Add("_pragma", "busy_timeout(10000)")
		if s.ckpt, err = sql.Open("sqlite", "file:"+path+"?"+cq.Encode()); err != nil {
			s.close()
			return nil, err
		}
		s.ckpt.SetMaxOpenConns(1)
		s.stopCkpt, s.ckptDone = make(chan struct{}), make(chan struct{})
		go s.checkpointer()
	}
	for _, q := range []string{sqliteInsertTransfer, sqliteInsertPosting, sqliteInsertTransfers, sqliteInsertPostings, sqliteUpdateBalance, sqliteUpdateHead,
		sqliteInsertReply, sqliteInsertEvent, sqliteLockAccounts, sqliteLockAccount1, sqliteLockAccount2,
		sqliteSelectReply, sqliteInsertAccount, sqliteInsertReplies, sqliteInsertEvents, sqliteInsertMovement, sqliteInsertMovements} {
		st, err := w.PrepareContext(ctx, q)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("sqldb: prepare: %w", err)
		}
		s.stmts[q] = st
	}
	for _, q := range []string{sqliteLockAccounts, sqliteLockAccount1, sqliteLockAccount2, sqliteSelectReply} {
		st, err := r.PrepareContext(ctx, q)
		if err != nil {
			s.close()
			return nil, fmt.Errorf("sqldb: prepare: %w", err)
		}
		s.rstmts[q] = st
	}
	// The business statements run most often are prepared too; one that does not
	// prepare (a table of a later migration, on a read-only old database) is simply
	// run unprepared.
	for _, q := range sqliteHot {
		if st, err := w.PrepareContext(ctx, q); err == nil {
			s.stmts[q] = st
		}
		if strings.HasPrefix(q, "SELECT") {
			if st, err := r.PrepareContext(ctx, q); err == nil {
				s.rstmts[q] = st
			}
		}
	}
	return s, nil
}

// sqliteHot are the business statements prepared once at open: parsing SQL costs
// more than running these small statements.
var sqliteHot = []string{
	sqliteSavepoint, sqliteRelease, sqliteRollbackTo,
	walletByCustomer, walletByID, customerByID, customerByPhone, deviceByID,
	payPasswordByWallet, payPasswordUpsert, cardsByCustomer, sessionByToken, sessionTouch,
	movementInsert, movementByID, sqliteMovementsNewest, sqliteMovementsByWallet, movementFinish,
	usageRead, usageUpsert, orderInsert, orderUpdate, orderByID, orderByNo, merchantByID, merchantByKey, deliveriesDue, accountByOwner,
	payerQuery, payeeByID, payeeByPhone,
	sqliteInsertNotification, sqliteInsertNotifications, sqliteOutboxDelete, sqliteOutboxPending, walletSettingsBy,
	relayInsert, relayDelete, relayClaim,
}

const (
	sqliteSavepoint  = `SAVEPOINT closure`
	sqliteRelease    = `RELEASE SAVEPOINT closure`
	sqliteRollbackTo = `ROLLBACK TO SAVEPOINT closure`
)

// The multi-row forms of the buffered business inserts.
var (
	sqliteInsertReplies   = chunkOf(sqliteInsertReply)
	sqliteInsertEvents    = chunkOf(sqliteInsertEvent)
	sqliteInsertMovement  = `INSERT INTO movements (` + movementColumns + `) VALUES (?` + strings.Repeat(", ?", 17) + `)`
	sqliteInsertMovements = chunkOf(sqliteInsertMovement)
)

// chunkOf turns a one-row INSERT … VALUES (?, …) into the same for sqliteChunk rows.
func chunkOf(one string) string {
	i := strings.LastIndex(one, "(")
	row := one[i:]
	return one[:i] + strings.Repeat(row+", ", sqliteChunk-1) + row
}

// quiet returns ctx without its deadline or cancellation, for the statements of a
// SQLite transaction. The driver watches a cancellable context with a goroutine and
// a progress handler for every statement, which cost the committer more than many of
// its statements do; a SQLite statement runs on local files and ends by itself (a
// busy database is bounded by busy_timeout), and the transaction as a whole is still
// begun under the batch's deadline.
func quiet(ctx context.Context) context.Context { return context.WithoutCancel(ctx) }

// prepared returns the statement q prepared at open, bound to this transaction.
func (t *sqliteTx) prepared(ctx context.Context, q string) (*sql.Stmt, bool) {
	m := t.s.stmts
	if t.read {
		m = t.s.rstmts
	}
	if st, ok := t.bound[q]; ok {
		return st, true
	}
	st, ok := m[q]
	if !ok {
		t.s.unprepared.Store(q, true)
		return nil, false
	}
	if t.bound == nil {
		t.bound = make(map[string]*sql.Stmt, 32)
	}
	b := t.tx.StmtContext(t.quiet(ctx), st)
	t.bound[q] = b
	return b, true
}

func (s *sqliteDB) dialect() string { return "sqlite" }

func (s *sqliteDB) ping(ctx context.Context) error { return s.r.PingContext(ctx) }

// checkpointer runs a PASSIVE checkpoint every checkpointEvery: it never blocks the
// writer or readers, and copies back whatever the WAL holds that no reader needs.
func (s *sqliteDB) checkpointer() {
	defer close(s.ckptDone)
	t := time.NewTicker(checkpointEvery)
	defer t.Stop()
	for {
		select {
		case <-s.stopCkpt:
			return
		case <-t.C:
			s.ckpt.Exec(`PRAGMA wal_checkpoint(PASSIVE)`)
		}
	}
}

func (s *sqliteDB) close() error {
	if s.stopCkpt != nil {
		close(s.stopCkpt)
		<-s.ckptDone
		s.ckpt.Close()
	}
	for _, st := range s.stmts {
		st.Close()
	}
	for _, st := range s.rstmts {
		st.Close()
	}
	if s.r != nil {
		s.r.Close()
	}
	return s.w.Close()
}

// migrations are applied on the write connection.
func (s *sqliteDB) migrationDialect() string { return "sqlite" }

func (s *sqliteDB) applyMigrations(ctx context.Context, pending func(current int) ([]migration, error)) error {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT NULL)`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	ms, err := pending(current)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %d: %w", m.version, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, applied_at) VALUES (?, strftime('%s','now'))`, m.version); err != nil {
			return err
		}
	}
	return tx.Commit()
}

func (s *sqliteDB) initHead(ctx context.Context, mac []byte) error {
	_, err := s.w.ExecContext(ctx, `INSERT INTO ledger_head (id, seq, hash, mac) VALUES (1, 0, ?, ?) ON CONFLICT (id) DO NOTHING`, make([]byte, 32), mac)
	return err
}

func (s *sqliteDB) snapshot(ctx context.Context, fn func(hebao.Journal) error) error {
	// In WAL mode a read transaction sees the database as of its first read.
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(sqliteJournal{tx})
}

type sqliteJournal struct{ tx *sql.Tx }

func (j sqliteJournal) PostingCount(ctx context.Context) (int64, error) {
	var n int64
	err := j.tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM postings`).Scan(&n)
	return n, err
}

func (j sqliteJournal) Head(ctx context.Context) (hebao.ChainHead, [32]byte, error) {
	return scanHead(j.tx.QueryRowContext(ctx, `SELECT seq, hash, mac FROM ledger_head WHERE id = 1`))
}

func (j sqliteJournal) EachAccount(ctx context.Context, fn func(hebao.Account) error) error {
	rows, err := j.tx.QueryContext(ctx, `SELECT id, kind, unit, owner, may_go_negative, balance, created_at FROM accounts ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	return eachAccountRow(rows, fn)
}

func (j sqliteJournal) EachTransfer(ctx context.Context, fn func(*hebao.Transfer) error) error {
	rows, err := j.tx.QueryContext(ctx, journalQuery)
	if err != nil {
		return err
	}
	defer rows.Close()
	return eachTransferRow(rows, fn)
}

func (s *sqliteDB) balances(ctx context.Context, ids []hebao.AccountID) (map[hebao.AccountID]int64, error) {
	arg, _ := json.Marshal(ids)
	rows, err := s.r.QueryContext(ctx, `SELECT id, balance FROM accounts WHERE id IN (SELECT value FROM json_each(?))`, string(arg))
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	return scanBalances(rows)
}

func (s *sqliteDB) begin(ctx context.Context) (wtx, error) {
	tx, err := s.w.BeginTx(ctx, nil)
	if err != nil {
		return nil, translate(err)
	}
	return &sqliteTx{s: s, tx: tx}, nil
}

func (s *sqliteDB) beginRead(ctx context.Context) (wtx, error) {
	tx, err := s.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return nil, err
	}
	return &sqliteTx{s: s, tx: tx, read: true}, nil
}

func (s *sqliteDB) readRow(ctx context.Context, q string, args ...any) scanner {
	ctx = quiet(ctx)
	if st, ok := s.rstmts[q]; ok {
		return translatingRow{st.QueryRowContext(ctx, args...)}
	}
	s.unprepared.Store(q, true)
	return translatingRow{s.r.QueryRowContext(ctx, q, args...)}
}

type sqliteTx struct {
	s    *sqliteDB
	tx   *sql.Tx
	read bool // on the read pool: only the read statements exist there

	// quietCtx is the context its statements run under (see quiet), made once; bound
	// are the statements prepared at open, bound to tx once each: both used to be
	// made again for every statement, which cost the committer an allocation or
	// three each time.
	quietCtx context.Context
	bound    map[string]*sql.Stmt
}

// quiet returns the transaction's statement context: ctx without its deadline.
func (t *sqliteTx) quiet(ctx context.Context) context.Context {
	if t.quietCtx == nil {
		t.quietCtx = quiet(ctx)
	}
	return t.quietCtx
}

func (t *sqliteTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	ctx = t.quiet(ctx)
	var (
		res sql.Result
		err error
	)
	if st, ok := t.prepared(ctx, q); ok {
		res, err = st.ExecContext(ctx, args...)
	} else {
		res, err = t.tx.ExecContext(ctx, q, args...)
	}
	if err != nil {
		return 0, translate(err)
	}
	return res.RowsAffected()
}

func (t *sqliteTx) query(ctx context.Context, q string, args ...any) (closingRows, error) {
	ctx = t.quiet(ctx)
	var (
		rs  *sql.Rows
		err error
	)
	if st, ok := t.prepared(ctx, q); ok {
		rs, err = st.QueryContext(ctx, args...)
	} else {
		rs, err = t.tx.QueryContext(ctx, q, args...)
	}
	if err != nil {
		return nil, translate(err)
	}
	return sqlRows{rs}, nil
}

func (t *sqliteTx) queryRow(ctx context.Context, q string, args ...any) scanner {
	ctx = t.quiet(ctx)
	if st, ok := t.prepared(ctx, q); ok {
		return translatingRow{st.QueryRowContext(ctx, args...)}
	}
	return translatingRow{t.tx.QueryRowContext(ctx, q, args...)}
}

// sqlRows adapts database/sql's rows to closingRows.
type sqlRows struct{ *sql.Rows }

func (r sqlRows) Close() { r.Rows.Close() }

// translatingRow translates constraint errors that surface at Scan.
type translatingRow struct{ r scanner }

func (t translatingRow) Scan(dest ...any) error { return translate(t.r.Scan(dest...)) }

func (t *sqliteTx) stmt(ctx context.Context, q string) *sql.Stmt {
	st, _ := t.prepared(ctx, q)
	return st
}

func (t *sqliteTx) savepoint(ctx context.Context) error {
	_, err := t.exec(ctx, sqliteSavepoint)
	return translate(err)
}

func (t *sqliteTx) rollbackToSavepoint(ctx context.Context) error {
	if _, err := t.exec(ctx, sqliteRollbackTo); err != nil {
		return translate(err)
	}
	return t.releaseSavepoint(ctx)
}

func (t *sqliteTx) releaseSavepoint(ctx context.Context) error {
	_, err := t.exec(ctx, sqliteRelease)
	return translate(err)
}

func (t *sqliteTx) createAccount(ctx context.Context, a hebao.Account, createdAt int64) (hebao.AccountID, error) {
	ctx = t.quiet(ctx)
	var id hebao.AccountID
	err := t.stmt(ctx, sqliteInsertAccount).QueryRowContext(ctx, a.Kind, a.Unit, a.Owner, a.MayGoNegative, createdAt).Scan(&id)
	return id, translate(err)
}

func (t *sqliteTx) lockAccounts(ctx context.Context, ids []hebao.AccountID) ([]hebao.Account, error) {
	ctx = t.quiet(ctx)
	// BEGIN IMMEDIATE already holds the database's one write lock: reading is locking.
	var (
		rows *sql.Rows
		err  error
	)
	switch len(ids) {
	case 1:
		rows, err = t.stmt(ctx, sqliteLockAccount1).QueryContext(ctx, int64(ids[0]))
	case 2:
		rows, err = t.stmt(ctx, sqliteLockAccount2).QueryContext(ctx, int64(ids[0]), int64(ids[1]))
	default:
		arg, _ := json.Marshal(ids)
		rows, err = t.stmt(ctx, sqliteLockAccounts).QueryContext(ctx, string(arg))
	}
	if err != nil {
		return nil, translate(err)
	}
	defer rows.Close()
	var out []hebao.Account
	err = eachAccountRow(rows, func(a hebao.Account) error {
		out = append(out, a)
		return nil
	})
	return out, err
}

// readAccounts is lockAccounts: on SQLite the batch's write lock already keeps every
// other writer out.
func (t *sqliteTx) readAccounts(ctx context.Context, ids []hebao.AccountID) ([]hebao.Account, error) {
	return t.lockAccounts(ctx, ids)
}

func (t *sqliteTx) reply(ctx context.Context, scope, key string) (storedReply, bool, error) {
	ctx = t.quiet(ctx)
	var r storedReply
	err := t.stmt(ctx, sqliteSelectReply).QueryRowContext(ctx, scope, key).Scan(&r.requestHash, &r.status, &r.body)
	if err == sql.ErrNoRows {
		return r, false, nil
	}
	return r, err == nil, translate(err)
}

func (t *sqliteTx) dataVersion(ctx context.Context) (int64, bool, error) {
	ctx = t.quiet(ctx)
	var v int64
	err := t.tx.QueryRowContext(ctx, `PRAGMA data_version`).Scan(&v)
	return v, err == nil, translate(err)
}

func (t *sqliteTx) lockHead(ctx context.Context) (hebao.ChainHead, error) {
	ctx = t.quiet(ctx)
	h, _, err := scanHead(t.tx.QueryRowContext(ctx, `SELECT seq, hash, mac FROM ledger_head WHERE id = 1`))
	return h, err
}

func (t *sqliteTx) flush(ctx context.Context, w *writes) error {
	ctx = t.quiet(ctx)
	if len(w.transfers) > 0 {
		trs := make([]any, 0, 7*len(w.transfers))
		posts := make([]any, 0, 10*len(w.transfers))
		for _, tr := range w.transfers {
			trs = append(trs, tr.Seq, tr.ID, string(tr.Kind), tr.Ref, tr.CreatedAt.UnixMicro(), tr.PrevHash[:], tr.Hash[:])
			for i, p := range tr.Postings {
				posts = append(posts, tr.Seq, i, int64(p.Account), string(p.Unit), p.Amount)
			}
		}
		if err := t.insertRows(ctx, sqliteInsertTransfers, sqliteInsertTransfer, 7, trs); err != nil {
			return err
		}
		if err := t.insertRows(ctx, sqliteInsertPostings, sqliteInsertPosting, 5, posts); err != nil {
			return err
		}
		upd := t.stmt(ctx, sqliteUpdateBalance)
		for _, b := range w.balances {
			res, err := upd.ExecContext(ctx, b.delta, int64(b.id), b.min)
			if err != nil {
				return translate(err)
			}
			if n, _ := res.RowsAffected(); n != 1 {
				// The guard refused: the batch decided on a balance that was too high,
				// which only a cache made stale by another process can cause.
				return fmt.Errorf("%w: balance guard refused account %d", errRetry, b.id)
			}
		}
		// w.newBalances stays nil: the committer takes loaded+delta as its hint, which
		// is exact unless another process wrote the account, and then still safe.
		if _, err := t.stmt(ctx, sqliteUpdateHead).ExecContext(ctx, w.head.Seq, w.head.Hash[:], w.headMAC[:]); err != nil {
			return translate(err)
		}
	}
	if len(w.replies) > 0 {
		args := make([]any, 0, 6*len(w.replies))
		for _, r := range w.replies {
			args = append(args, r.scope, r.key, r.requestHash[:], r.status, r.body, r.createdAt)
		}
		if err := t.insertRows(ctx, sqliteInsertReplies, sqliteInsertReply, 6, args); err != nil {
			return err
		}
	}
	if len(w.movements) > 0 {
		args := make([]any, 0, 18*len(w.movements))
		for _, m := range w.movements {
			args = append(args, movementArgs(m)...)
		}
		if err := t.insertRows(ctx, sqliteInsertMovements, sqliteInsertMovement, 18, args); err != nil {
			return err
		}
	}
	for _, u := range w.usage {
		if _, err := t.exec(ctx, usageUpsert, usageArgs(u)...); err != nil {
			return err
		}
	}
	for _, ow := range w.orders {
		n, err := t.exec(ctx, orderUpdate, orderWriteArgs(ow)...)
		if err != nil {
			return err
		}
		if n != 1 {
			return fmt.Errorf("%w: order %s changed meanwhile", errRetry, ow.o.ID)
		}
	}
	if len(w.notes) > 0 {
		args := make([]any, 0, 9*len(w.notes))
		for _, r := range w.notes {
			args = append(args, noteArgs(r.n)...)
		}
		if err := t.insertRows(ctx, sqliteInsertNotifications, sqliteInsertNotification, 9, args); err != nil {
			return err
		}
	}
	for _, d := range w.delivered {
		if _, err := t.exec(ctx, sqliteOutboxDelete, d.id); err != nil {
			return err
		}
	}
	if len(w.events) > 0 {
		args := make([]any, 0, 4*len(w.events))
		for _, e := range w.events {
			args = append(args, e.ID, e.Kind, e.Payload, e.CreatedAt.UnixMicro())
		}
		if err := t.insertRows(ctx, sqliteInsertEvents, sqliteInsertEvent, 4, args); err != nil {
			return err
		}
	}
	return nil
}

// insertRows inserts rows of width columns laid end to end in args: sqliteChunk rows
// per statement while there are that many, then one by one.
func (t *sqliteTx) insertRows(ctx context.Context, chunkQ, oneQ string, width int, args []any) error {
	ctx = t.quiet(ctx)
	chunk, one := t.stmt(ctx, chunkQ), t.stmt(ctx, oneQ)
	for len(args) > 0 {
		st, n := one, width
		if len(args) >= sqliteChunk*width {
			st, n = chunk, sqliteChunk*width
		}
		if _, err := st.ExecContext(ctx, args[:n]...); err != nil {
			return translate(err)
		}
		args = args[n:]
	}
	return nil
}

func (t *sqliteTx) commit(ctx context.Context) error { return translate(t.tx.Commit()) }

func (t *sqliteTx) rollback() error { return t.tx.Rollback() }
