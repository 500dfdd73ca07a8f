package sqldb

// Benchmarks of the ledger's write path, and beside them baselines that do the same
// SQL work by hand, so the ratios in docs/performance.md come from one run:
//
//	go test ./sqldb -run '^$' -bench . -benchtime 3s -count 3
//
// with HEBAO_TEST_POSTGRES set for the PostgreSQL ones.

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"fmt"
	"net/url"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

const benchAccounts = 10_000

// benchLedger is one database with benchAccounts funded accounts and a merchant,
// shared by the sub-benchmarks of a backend.
type benchLedger struct {
	db                *DB
	accounts          []hebao.AccountID
	merchant          hebao.AccountID
	batches, closures atomic.Int64
}

func newBenchLedger(b *testing.B, backend string) *benchLedger {
	b.Helper()
	l := &benchLedger{}
	db := openTest(b, Config{URL: sqldbtest.URL(b, backend), DataDir: b.TempDir(), OnCommit: func(n int, _ time.Duration) {
		l.batches.Add(1)
		l.closures.Add(int64(n))
	}})
	l.db = db
	ctx := context.Background()
	var src hebao.AccountID
	err := db.Transact(ctx, func(tx hebao.Tx) error {
		s, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, MayGoNegative: true})
		if err != nil {
			return err
		}
		m, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountMerchant, Unit: hebao.CNY})
		src, l.merchant = s.ID, m.ID
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	for len(l.accounts) < benchAccounts {
		var chunk []hebao.AccountID
		err := db.Transact(ctx, func(tx hebao.Tx) error {
			chunk = chunk[:0]
			for i := 0; i < hebao.MaxPostings-1; i++ {
				a, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountWallet, Unit: hebao.CNY})
				if err != nil {
					return err
				}
				chunk = append(chunk, a.ID)
			}
			ps := []hebao.Posting{{Account: src, Unit: hebao.CNY, Amount: -int64(len(chunk)) * 1e9}}
			for _, id := range chunk {
				ps = append(ps, hebao.Posting{Account: id, Unit: hebao.CNY, Amount: 1e9})
			}
			return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferFunding, Postings: ps})
		})
		if err != nil {
			b.Fatal(err)
		}
		l.accounts = append(l.accounts, chunk...)
	}
	return l
}

// parallel runs b.N operations spread over callers goroutines and reports throughput
// as transfers/s.
func parallel(b *testing.B, callers int, op func(r *randSource) error) {
	parallelAs(b, callers, "transfers/s", op)
}

// parallelAs is parallel reporting throughput in unit.
func parallelAs(b *testing.B, callers int, unit string, op func(r *randSource) error) {
	var next atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	start := time.Now()
	for c := 0; c < callers; c++ {
		wg.Add(1)
		go func(c int) {
			defer wg.Done()
			r := &randSource{newRand(uint64(c)*7919 + uint64(time.Now().UnixNano()))}
			for next.Add(1) <= int64(b.N) {
				if err := op(r); err != nil {
					b.Error(err)
					return
				}
			}
		}(c)
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), unit)
}

type randSource struct{ r interface{ IntN(int) int } }

func (l *benchLedger) pair(r *randSource, hot bool) (from, to hebao.AccountID) {
	from = l.accounts[r.r.IntN(len(l.accounts))]
	if hot {
		return from, l.merchant
	}
	for {
		to = l.accounts[r.r.IntN(len(l.accounts))]
		if to != from {
			return from, to
		}
	}
}

// BenchmarkTransact commits simple two-posting transfers through Transact.
func BenchmarkTransact(b *testing.B) {
	for _, backend := range sqldbtest.Backends(b) {
		b.Run(backend, func(parent *testing.B) {
			ctx := context.Background()
			for _, shape := range []string{"uniform", "hot"} {
				for _, callers := range []int{1, 16, 64} {
					// Each measurement starts from its own new ledger, so none pays for
					// the rows an earlier one wrote; the ledger lives as long as the
					// parent, across the calls that ramp b.N up.
					var l *benchLedger
					parent.Run(fmt.Sprintf("%s/callers=%d", shape, callers), func(b *testing.B) {
						if l == nil {
							l = newBenchLedger(parent, backend)
						}
						b0, c0 := l.batches.Load(), l.closures.Load()
						defer func() {
							if n := l.batches.Load() - b0; n > 0 {
								b.ReportMetric(float64(l.closures.Load()-c0)/float64(n), "closures/commit")
							}
						}()
						parallel(b, callers, func(r *randSource) error {
							from, to := l.pair(r, shape == "hot")
							tr := &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferPayment, Postings: hebao.Move(from, to, hebao.CNY, 1)}
							return l.db.Transact(ctx, func(tx hebao.Tx) error { return tx.Post(ctx, tr) })
						})
					})
					if l != nil {
						l.db.Close() // free its connections; the parent drops its schema
					}
				}
			}
		})
	}
}

// baselineSchema is the ledger's tables without the chain head: what a hand-written
// ledger would have.
func baselineTransfer(seq int64, from, to int64, prev [32]byte) (id string, hash [32]byte) {
	id = hebao.NewID("tr")
	t := &hebao.Transfer{ID: id, Kind: hebao.TransferPayment, Postings: hebao.Move(hebao.AccountID(from), hebao.AccountID(to), hebao.CNY, 1)}
	t.Seal(seq, time.Now(), prev)
	return id, t.Hash
}

// BenchmarkBaselineSQLite does the same SQL work by hand on SQLite with
// synchronous=FULL from one goroutine: read both balances, update both, insert the
// transfer and its two postings; either one commit per transfer or 100 per commit.
func BenchmarkBaselineSQLite(b *testing.B) {
	ctx := context.Background()
	for _, perCommit := range []int{1, 100} {
		var (
			l    *benchLedger
			raw  *sql.DB
			seq  int64
			prev [32]byte
		)
		b.Run(fmt.Sprintf("per-commit=%d", perCommit), func(sb *testing.B) {
			if l == nil {
				// A new ledger for each measurement, as in BenchmarkTransact, then
				// opened by hand with the same settings and no Hebao code.
				l = newBenchLedger(b, "sqlite")
				path := filepath.Join(l.db.cfg.DataDir, "hebao.db")
				l.db.Close()
				q := url.Values{}
				q.Add("_pragma", "busy_timeout(10000)")
				q.Add("_pragma", "journal_mode(WAL)")
				q.Add("_pragma", "synchronous(FULL)")
				q.Set("_txlock", "immediate")
				var err error
				if raw, err = sql.Open("sqlite", "file:"+path+"?"+q.Encode()); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(func() { raw.Close() })
				raw.SetMaxOpenConns(1)
				if err := raw.QueryRowContext(ctx, `SELECT COALESCE(MAX(seq), 0) FROM transfers`).Scan(&seq); err != nil {
					b.Fatal(err)
				}
			}
			b := sb
			r := &randSource{newRand(1)}
			b.ResetTimer()
			start := time.Now()
			for done := 0; done < b.N; {
				tx, err := raw.BeginTx(ctx, nil)
				if err != nil {
					b.Fatal(err)
				}
				for i := 0; i < perCommit && done < b.N; i, done = i+1, done+1 {
					from, to := l.pair(r, false)
					var fb, tb int64
					if err := tx.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = ?`, from).Scan(&fb); err != nil {
						b.Fatal(err)
					}
					if err := tx.QueryRowContext(ctx, `SELECT balance FROM accounts WHERE id = ?`, to).Scan(&tb); err != nil {
						b.Fatal(err)
					}
					if fb < 1 {
						b.Fatal("insufficient")
					}
					seq++
					id, hash := baselineTransfer(seq, int64(from), int64(to), prev)
					prev = hash
					if _, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = balance - 1 WHERE id = ?`, from); err != nil {
						b.Fatal(err)
					}
					if _, err := tx.ExecContext(ctx, `UPDATE accounts SET balance = balance + 1 WHERE id = ?`, to); err != nil {
						b.Fatal(err)
					}
					if _, err := tx.ExecContext(ctx, `INSERT INTO transfers (seq, id, kind, ref, created_at, prev_hash, hash) VALUES (?, ?, 'payment', '', ?, ?, ?)`, seq, id, time.Now().UnixMicro(), prev[:], hash[:]); err != nil {
						b.Fatal(err)
					}
					for i, p := range []struct {
						acct hebao.AccountID
						amt  int64
					}{{from, -1}, {to, 1}} {
						if _, err := tx.ExecContext(ctx, `INSERT INTO postings (transfer_seq, idx, account_id, unit, amount) VALUES (?, ?, ?, 'CNY', ?)`, seq, i, p.acct, p.amt); err != nil {
							b.Fatal(err)
						}
					}
				}
				if err := tx.Commit(); err != nil {
					b.Fatal(err)
				}
			}
			b.StopTimer()
			b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "transfers/s")
		})
	}
}

// BenchmarkBaselinePostgres does the same SQL work by hand on PostgreSQL the usual
// way: one transaction per transfer at 64 connections, locking both accounts with
// SELECT … FOR UPDATE in id order, updating them and inserting the transfer and its
// postings (no chain head: the baseline does not have to serialize on one).
func BenchmarkBaselinePostgres(b *testing.B) {
	if len(sqldbtest.Backends(b)) < 2 {
		b.Skip("no PostgreSQL")
	}
	ctx := context.Background()
	for _, shape := range []string{"uniform", "hot"} {
		var (
			l    *benchLedger
			pool *pgxpool.Pool
		)
		b.Run(shape+"/conns=64", func(sb *testing.B) {
			if l == nil {
				l = newBenchLedger(b, "postgres")
				cfg, err := pgxpool.ParseConfig(l.db.cfg.URL)
				if err != nil {
					b.Fatal(err)
				}
				cfg.MaxConns = 64
				if pool, err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
					b.Fatal(err)
				}
				b.Cleanup(pool.Close)
				if _, err := pool.Exec(ctx, `CREATE SEQUENCE IF NOT EXISTS baseline_seq START 1000000000`); err != nil {
					b.Fatal(err)
				}
			}
			b := sb
			parallel(b, 64, func(r *randSource) error {
				from, to := l.pair(r, shape == "hot")
				lo, hi := min(from, to), max(from, to)
				return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
					rows, err := tx.Query(ctx, `SELECT id, balance FROM accounts WHERE id IN ($1, $2) ORDER BY id FOR UPDATE`, int64(lo), int64(hi))
					if err != nil {
						return err
					}
					var fb int64
					for rows.Next() {
						var id, bal int64
						if err := rows.Scan(&id, &bal); err != nil {
							return err
						}
						if hebao.AccountID(id) == from {
							fb = bal
						}
					}
					rows.Close()
					if fb < 1 {
						return fmt.Errorf("insufficient")
					}
					var seq int64
					if err := tx.QueryRow(ctx, `SELECT nextval('baseline_seq')`).Scan(&seq); err != nil {
						return err
					}
					id, hash := baselineTransfer(seq, int64(from), int64(to), sha256.Sum256(nil))
					if _, err := tx.Exec(ctx, `UPDATE accounts SET balance = balance - 1 WHERE id = $1`, int64(from)); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, `UPDATE accounts SET balance = balance + 1 WHERE id = $1`, int64(to)); err != nil {
						return err
					}
					if _, err := tx.Exec(ctx, `INSERT INTO transfers (seq, id, kind, ref, created_at, prev_hash, hash) VALUES ($1, $2, 'payment', '', $3, $4, $5)`, seq, id, time.Now().UnixMicro(), hash[:], hash[:]); err != nil {
						return err
					}
					_, err = tx.Exec(ctx, `INSERT INTO postings (transfer_seq, idx, account_id, unit, amount) VALUES ($1, 0, $2, 'CNY', -1), ($1, 1, $3, 'CNY', 1)`, seq, int64(from), int64(to))
					return err
				})
			})
		})
		if pool != nil {
			pool.Close()
			l.db.Close()
		}
	}
}
