package sqldb

import (
	"context"
	"errors"
	"fmt"

	"github.com/hebaopay/hebao"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// pgDB runs batches on a pool shared with readers. Several processes may share the
// database: rows are locked with FOR UPDATE in ascending id order, the chain head is
// locked for the short flush at the end of a batch, and serialization failures,
// deadlocks and lost races are retried inside the store.
type pgDB struct {
	pool *pgxpool.Pool
	// channel is where this schema's notifications are announced (channelFor).
	channel string
}

var _ backend = (*pgDB)(nil)

// The flush statements: one multi-row statement per table, whatever the batch size.
const (
	pgInsertTransfers = `INSERT INTO transfers (seq, id, kind, ref, created_at, prev_hash, hash)
SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::bigint[], $6::bytea[], $7::bytea[])`
	pgInsertPostings = `INSERT INTO postings (transfer_seq, idx, account_id, unit, amount)
SELECT * FROM unnest($1::bigint[], $2::int[], $3::bigint[], $4::text[], $5::bigint[])`
	// The guard: a constrained account is never written below zero, whatever the Go
	// code decided; the CHECK constraint stands behind it.
	pgUpdateBalances = `UPDATE accounts a SET balance = a.balance + d.delta
FROM unnest($1::bigint[], $2::bigint[], $3::bigint[]) AS d(id, delta, low)
WHERE a.id = d.id AND (a.may_go_negative OR a.balance + d.low >= 0)
RETURNING a.id, a.balance`
	pgUpdateHead    = `UPDATE ledger_head SET seq = $1, hash = $2, mac = $3 WHERE id = 1`
	pgInsertReplies = `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::int[], $5::bytea[], $6::bigint[])
ON CONFLICT DO NOTHING`
	pgInsertEvents = `INSERT INTO outbox (id, kind, payload, created_at)
SELECT * FROM unnest($1::text[], $2::text[], $3::bytea[], $4::bigint[])`
	pgReadAccounts = `SELECT id, kind, unit, owner, may_go_negative, balance, created_at FROM accounts
WHERE id = ANY($1::bigint[]) ORDER BY id`
	pgLockAccounts  = pgReadAccounts + ` FOR UPDATE`
	pgSelectReply   = `SELECT request_hash, status, body FROM idempotency_keys WHERE scope = $1 AND key = $2`
	pgInsertAccount = `INSERT INTO accounts (kind, unit, owner, may_go_negative, balance, created_at) VALUES ($1, $2, $3, $4, 0, $5) RETURNING id`
	pgSelectHead    = `SELECT seq, hash, mac FROM ledger_head WHERE id = 1`

	// A batch's movements, counters and orders, one statement each, from one array
	// per column (columnsOf): arguments in the order of movementArgs, usageArgs and
	// orderWriteArgs.
	pgInsertMovements = `INSERT INTO movements (` + movementColumns + `)
SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::text[], $5::text[], $6::text[], $7::bigint[], $8::text[],
$9::text[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $15::text[], $16::text[], $17::bigint[], $18::bigint[])`
	pgUpsertUsage = `INSERT INTO wallet_usage (wallet_id, day, day_total, year, year_total, pending_in, pending_out)
SELECT * FROM unnest($1::text[], $2::bigint[], $3::bigint[], $4::bigint[], $5::bigint[], $6::bigint[], $7::bigint[])
ON CONFLICT (wallet_id) DO UPDATE SET day = excluded.day, day_total = excluded.day_total, year = excluded.year,
year_total = excluded.year_total, pending_in = excluded.pending_in, pending_out = excluded.pending_out`
	// Each order is updated only if it is still as the batch read it; the flush
	// counts the rows and retries the batch if one changed meanwhile.
	pgUpdateOrders = `UPDATE orders o SET status = d.status, customer_id = d.customer_id, wallet_id = d.wallet_id, method = d.method,
card_id = d.card_id, movement_id = d.movement_id, refunded = d.refunded, refunds = d.refunds, expires_at = d.expires_at,
paid_at = d.paid_at, closed_at = d.closed_at, updated_at = d.updated_at, promo_paid = d.promo_paid, coupon_id = d.coupon_id,
subsidy = d.subsidy, promo_refunded = d.promo_refunded, subsidy_refunded = d.subsidy_refunded,
points_earned = d.points_earned, points_reversed = d.points_reversed
FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[],
$9::bigint[], $10::bigint[], $11::bigint[], $12::bigint[], $13::bigint[], $14::bigint[], $15::bigint[], $16::bigint[],
$17::bigint[], $18::text[], $19::bigint[], $20::bigint[], $21::bigint[], $22::bigint[], $23::bigint[])
AS d(id, prev_status, status, customer_id, wallet_id, method, card_id, movement_id, refunded, refunds, expires_at,
paid_at, closed_at, updated_at, prev_refunded, prev_refunds, promo_paid, coupon_id, subsidy, promo_refunded,
subsidy_refunded, points_earned, points_reversed)
WHERE o.id = d.id AND o.status = d.prev_status AND o.refunded = d.prev_refunded AND o.refunds = d.prev_refunds`
)

// columnsFor is columnsOf the rows that args makes of items.
func columnsFor[T any](items []T, args func(T) []any) ([]any, error) {
	rows := make([][]any, len(items))
	for i, it := range items {
		rows[i] = args(it)
	}
	return columnsOf(rows)
}

// columnsOf turns rows of statement arguments into one array per column, for a
// statement that takes many rows at once through unnest. Every row has the same
// shape; a column holds strings or int64s.
func columnsOf(rows [][]any) ([]any, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	cols := make([]any, len(rows[0]))
	for j, v := range rows[0] {
		var err error
		switch v.(type) {
		case string:
			cols[j], err = column[string](rows, j)
		case int64:
			cols[j], err = column[int64](rows, j)
		default:
			err = fmt.Errorf("sqldb: column %d is %T: only strings and int64s go in columns", j, v)
		}
		if err != nil {
			return nil, err
		}
	}
	return cols, nil
}

// column is column j of rows, every value of which is a T.
func column[T any](rows [][]any, j int) ([]T, error) {
	col := make([]T, len(rows))
	for i, r := range rows {
		v, ok := r[j].(T)
		if !ok {
			return nil, fmt.Errorf("sqldb: row %d column %d is %T, not %T", i, j, r[j], v)
		}
		col[i] = v
	}
	return col, nil
}

// migrationLock is the advisory lock key that keeps two processes from migrating at once.
const migrationLock = 0x68656261 // "heba"

func openPostgres(ctx context.Context, url string, readOnly bool) (*pgDB, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("sqldb: postgres url: %w", err)
	}
	if cfg.MaxConns < 8 {
		cfg.MaxConns = 8
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("sqldb: connect: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqldb: connect: %w", err)
	}
	var schema *string
	if err := pool.QueryRow(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		pool.Close()
		return nil, fmt.Errorf("sqldb: connect: %w", err)
	}
	p := &pgDB{pool: pool, channel: channelFor(schema)}
	if err := migrate(ctx, p, readOnly); err != nil {
		pool.Close()
		return nil, err
	}
	return p, nil
}

func (p *pgDB) dialect() string                { return "postgres" }
func (p *pgDB) migrationDialect() string       { return "postgres" }
func (p *pgDB) ping(ctx context.Context) error { return p.pool.Ping(ctx) }
func (p *pgDB) close() error                   { p.pool.Close(); return nil }

func (p *pgDB) applyMigrations(ctx context.Context, pending func(current int) ([]migration, error)) error {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRow(ctx, `SELECT COALESCE(MAX(version), 0) FROM schema_migrations`).Scan(&current); err != nil {
		return err
	}
	ms, err := pending(current)
	if err != nil {
		return err
	}
	for _, m := range ms {
		if _, err := tx.Exec(ctx, m.sql); err != nil {
			return fmt.Errorf("migration %d: %w", m.version, err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO schema_migrations (version) VALUES ($1)`, m.version); err != nil {
			return err
		}
	}
	return tx.Commit(ctx)
}

func (p *pgDB) initHead(ctx context.Context, mac []byte) error {
	_, err := p.pool.Exec(ctx, `INSERT INTO ledger_head (id, seq, hash, mac) VALUES (1, 0, $1, $2) ON CONFLICT (id) DO NOTHING`, make([]byte, 32), mac)
	return err
}

func (p *pgDB) snapshot(ctx context.Context, fn func(hebao.Journal) error) error {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly})
	if err != nil {
		return err
	}
	defer tx.Rollback(ctx)
	return fn(pgJournal{tx})
}

type pgJournal struct{ tx pgx.Tx }

func (j pgJournal) PostingCount(ctx context.Context) (int64, error) {
	var n int64
	err := j.tx.QueryRow(ctx, `SELECT COUNT(*) FROM postings`).Scan(&n)
	return n, err
}

func (j pgJournal) Head(ctx context.Context) (hebao.ChainHead, [32]byte, error) {
	return scanHead(j.tx.QueryRow(ctx, pgSelectHead))
}

func (j pgJournal) EachAccount(ctx context.Context, fn func(hebao.Account) error) error {
	rs, err := j.tx.Query(ctx, `SELECT id, kind, unit, owner, may_go_negative, balance, created_at FROM accounts ORDER BY id`)
	if err != nil {
		return err
	}
	defer rs.Close()
	return eachAccountRow(rs, fn)
}

func (j pgJournal) EachTransfer(ctx context.Context, fn func(*hebao.Transfer) error) error {
	rs, err := j.tx.Query(ctx, journalQuery)
	if err != nil {
		return err
	}
	defer rs.Close()
	return eachTransferRow(rs, fn)
}

func (p *pgDB) balances(ctx context.Context, ids []hebao.AccountID) (map[hebao.AccountID]int64, error) {
	arg := make([]int64, len(ids))
	for i, id := range ids {
		arg[i] = int64(id)
	}
	rs, err := p.pool.Query(ctx, `SELECT id, balance FROM accounts WHERE id = ANY($1::bigint[])`, arg)
	if err != nil {
		return nil, err
	}
	defer rs.Close()
	return scanBalances(rs)
}

func (p *pgDB) begin(ctx context.Context) (wtx, error) {
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return &pgTx{tx: tx, channel: p.channel}, nil
}

func (p *pgDB) beginRead(ctx context.Context) (wtx, error) {
	tx, err := p.pool.BeginTx(ctx, pgx.TxOptions{AccessMode: pgx.ReadOnly})
	if err != nil {
		return nil, err
	}
	return &pgTx{tx: tx}, nil
}

func (p *pgDB) readRow(ctx context.Context, q string, args ...any) scanner {
	return translatingRow{p.pool.QueryRow(ctx, q, args...)}
}

type pgTx struct {
	tx      pgx.Tx
	channel string // the schema's notification channel
}

func (t *pgTx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := t.tx.Exec(ctx, q, args...)
	return tag.RowsAffected(), translate(err)
}

func (t *pgTx) query(ctx context.Context, q string, args ...any) (closingRows, error) {
	rs, err := t.tx.Query(ctx, q, args...)
	if err != nil {
		return nil, translate(err)
	}
	return rs, nil
}

func (t *pgTx) queryRow(ctx context.Context, q string, args ...any) scanner {
	return translatingRow{t.tx.QueryRow(ctx, q, args...)}
}

func (t *pgTx) savepoint(ctx context.Context) error {
	_, err := t.exec(ctx, `SAVEPOINT closure`)
	return err
}

func (t *pgTx) rollbackToSavepoint(ctx context.Context) error {
	if _, err := t.exec(ctx, `ROLLBACK TO SAVEPOINT closure`); err != nil {
		return err
	}
	return t.releaseSavepoint(ctx)
}

func (t *pgTx) releaseSavepoint(ctx context.Context) error {
	_, err := t.exec(ctx, `RELEASE SAVEPOINT closure`)
	return err
}

func (t *pgTx) createAccount(ctx context.Context, a hebao.Account, createdAt int64) (hebao.AccountID, error) {
	var id int64
	err := t.tx.QueryRow(ctx, pgInsertAccount, string(a.Kind), string(a.Unit), a.Owner, a.MayGoNegative, createdAt).Scan(&id)
	return hebao.AccountID(id), translate(err)
}

func (t *pgTx) lockAccounts(ctx context.Context, ids []hebao.AccountID) ([]hebao.Account, error) {
	return t.accounts(ctx, pgLockAccounts, ids)
}

func (t *pgTx) readAccounts(ctx context.Context, ids []hebao.AccountID) ([]hebao.Account, error) {
	return t.accounts(ctx, pgReadAccounts, ids)
}

func (t *pgTx) accounts(ctx context.Context, q string, ids []hebao.AccountID) ([]hebao.Account, error) {
	arg := make([]int64, len(ids))
	for i, id := range ids {
		arg[i] = int64(id)
	}
	rs, err := t.tx.Query(ctx, q, arg)
	if err != nil {
		return nil, translate(err)
	}
	defer rs.Close()
	var out []hebao.Account
	err = eachAccountRow(rs, func(a hebao.Account) error {
		out = append(out, a)
		return nil
	})
	return out, translate(err)
}

func (t *pgTx) reply(ctx context.Context, scope, key string) (storedReply, bool, error) {
	var r storedReply
	var status int32
	err := t.tx.QueryRow(ctx, pgSelectReply, scope, key).Scan(&r.requestHash, &status, &r.body)
	if errors.Is(err, pgx.ErrNoRows) {
		return r, false, nil
	}
	r.status = int(status)
	return r, err == nil, translate(err)
}

func (t *pgTx) dataVersion(context.Context) (int64, bool, error) { return 0, false, nil }

func (t *pgTx) lockHead(ctx context.Context) (hebao.ChainHead, error) {
	h, _, err := scanHead(t.tx.QueryRow(ctx, pgSelectHead+` FOR UPDATE`))
	return h, err
}

// flush sends every statement of the batch in one round trip (a pgx pipeline).
func (t *pgTx) flush(ctx context.Context, w *writes) error {
	var (
		b        pgx.Batch
		handlers []func(pgx.BatchResults) error
	)
	// queue adds a statement whose rows-affected count check verifies (nil: any).
	queue := func(check func(int64) error, q string, args ...any) {
		b.Queue(q, args...)
		handlers = append(handlers, func(br pgx.BatchResults) error {
			tag, err := br.Exec()
			if err == nil && check != nil {
				err = check(tag.RowsAffected())
			}
			return err
		})
	}
	if n := len(w.transfers); n > 0 {
		var (
			seqs, created     = make([]int64, n), make([]int64, n)
			ids, kinds, refs  = make([]string, n), make([]string, n), make([]string, n)
			prevs, hashes     = make([][]byte, n), make([][]byte, n)
			pSeq, pAcct, pAmt []int64
			pIdx              []int32
			pUnit             []string
		)
		for i, tr := range w.transfers {
			seqs[i], ids[i], kinds[i], refs[i], created[i] = tr.Seq, tr.ID, string(tr.Kind), tr.Ref, tr.CreatedAt.UnixMicro()
			prevs[i], hashes[i] = tr.PrevHash[:], tr.Hash[:]
			for j, p := range tr.Postings {
				pSeq, pIdx, pAcct = append(pSeq, tr.Seq), append(pIdx, int32(j)), append(pAcct, int64(p.Account))
				pUnit, pAmt = append(pUnit, string(p.Unit)), append(pAmt, p.Amount)
			}
		}
		queue(nil, pgInsertTransfers, seqs, ids, kinds, refs, created, prevs, hashes)
		queue(nil, pgInsertPostings, pSeq, pIdx, pAcct, pUnit, pAmt)
		if len(w.balances) > 0 {
			bIDs, bDelta, bLow := make([]int64, len(w.balances)), make([]int64, len(w.balances)), make([]int64, len(w.balances))
			for i, d := range w.balances {
				bIDs[i], bDelta[i], bLow[i] = int64(d.id), d.delta, d.min
			}
			b.Queue(pgUpdateBalances, bIDs, bDelta, bLow)
			handlers = append(handlers, func(br pgx.BatchResults) error {
				rs, err := br.Query()
				if err != nil {
					return err
				}
				defer rs.Close()
				w.newBalances = make(map[hebao.AccountID]int64, len(bIDs))
				for rs.Next() {
					var id, bal int64
					if err := rs.Scan(&id, &bal); err != nil {
						return err
					}
					w.newBalances[hebao.AccountID(id)] = bal
				}
				if err := rs.Err(); err != nil {
					return err
				}
				if len(w.newBalances) != len(bIDs) {
					// The guard refused: the batch decided on a balance another
					// process had already lowered. Run the batch again on fresh reads.
					return fmt.Errorf("%w: balance guard refused %d of %d accounts", errRetry, len(bIDs)-len(w.newBalances), len(bIDs))
				}
				return nil
			})
		}
		queue(nil, pgUpdateHead, w.head.Seq, w.head.Hash[:], w.headMAC[:])
	}
	if len(w.movements) > 0 {
		cols, err := columnsFor(w.movements, movementArgs)
		if err != nil {
			return err
		}
		queue(nil, pgInsertMovements, cols...)
	}
	if len(w.usage) > 0 {
		cols, err := columnsFor(w.usage, usageArgs)
		if err != nil {
			return err
		}
		queue(nil, pgUpsertUsage, cols...)
	}
	if n := len(w.orders); n > 0 {
		cols, err := columnsFor(w.orders, orderWriteArgs)
		if err != nil {
			return err
		}
		queue(func(got int64) error {
			if got != int64(n) {
				return fmt.Errorf("%w: %d of %d orders changed meanwhile", errRetry, int64(n)-got, n)
			}
			return nil
		}, pgUpdateOrders, cols...)
	}
	if n := len(w.replies); n > 0 {
		scopes, keys, hashes, bodies := make([]string, n), make([]string, n), make([][]byte, n), make([][]byte, n)
		statuses, created := make([]int32, n), make([]int64, n)
		for i, r := range w.replies {
			scopes[i], keys[i], hashes[i], statuses[i], bodies[i], created[i] = r.scope, r.key, r.requestHash[:], int32(r.status), r.body, r.createdAt
			if bodies[i] == nil {
				bodies[i] = []byte{}
			}
		}
		queue(func(got int64) error {
			if got != int64(n) {
				return fmt.Errorf("%w: an idempotency key was claimed by another process", errRetry)
			}
			return nil
		}, pgInsertReplies, scopes, keys, hashes, statuses, bodies, created)
	}
	if n := len(w.events); n > 0 {
		ids, kinds, payloads, created := make([]string, n), make([]string, n), make([][]byte, n), make([]int64, n)
		for i, e := range w.events {
			ids[i], kinds[i], payloads[i], created[i] = e.ID, e.Kind, e.Payload, e.CreatedAt.UnixMicro()
			if payloads[i] == nil {
				payloads[i] = []byte{}
			}
		}
		queue(nil, pgInsertEvents, ids, kinds, payloads, created)
	}
	if n := len(w.notes); n > 0 {
		var (
			ids, customers, kinds, titles = make([]string, n), make([]string, n), make([]string, n), make([]string, n)
			others, txns, payloads        = make([]string, n), make([]string, n), make([]string, n)
			amounts, after, created       = make([]int64, n), make([]int64, n), make([]int64, n)
		)
		for i, r := range w.notes {
			m := r.n
			ids[i], customers[i], kinds[i], titles[i], others[i], txns[i] = m.ID, m.CustomerID, m.Kind, m.Title, m.Counterparty, m.TransactionID
			amounts[i], after[i], created[i], payloads[i] = m.Amount, m.BalanceAfter, m.CreatedAt.UnixMicro(), r.payload
		}
		queue(nil, pgInsertNotifications, ids, customers, kinds, titles, amounts, others, after, txns, created, t.channel, payloads)
	}
	if n := len(w.delivered); n > 0 {
		ids, at := make([]string, n), make([]int64, n)
		for i, d := range w.delivered {
			ids[i], at[i] = d.id, d.at
		}
		queue(nil, pgOutboxDelivered, ids, at)
	}
	br := t.tx.SendBatch(ctx, &b)
	var firstErr error
	for _, h := range handlers {
		if err := h(br); err != nil && firstErr == nil {
			firstErr = err
		}
	}
	if err := br.Close(); err != nil && firstErr == nil {
		firstErr = err
	}
	return translate(firstErr)
}

func (t *pgTx) commit(ctx context.Context) error { return t.tx.Commit(ctx) }

func (t *pgTx) rollback() error { return t.tx.Rollback(context.Background()) }
