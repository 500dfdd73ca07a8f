package sqldb

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5"
)

// StatsInterval is how often a PostgreSQL deployment looks for its tables that
// changed enough since they were last analyzed.
const StatsInterval = 5 * time.Second

// statsLock is the advisory lock key that lets one process at a time analyze.
const statsLock = 0x68656262 // "hebb"

// pgStale lists the tables of this deployment's schema that changed, since they were
// last analyzed, by more than 50 rows and as many rows as they held then: a table
// growing from nothing is analyzed each time it doubles, a number of times that
// grows with the log of its size. (Autovacuum's default is a tenth of the table,
// tried at most once a minute; every 5 s, that analyzed the bench's growing tables
// so often that ANALYZE, and the re-planning that follows it on every connection,
// cost more than the plans gained.)
const pgStale = `SELECT s.relname FROM pg_stat_user_tables s JOIN pg_class c ON c.oid = s.relid
WHERE s.schemaname = current_schema() AND s.n_mod_since_analyze > 50 + GREATEST(c.reltuples, 0)
ORDER BY s.relname`

// keepStats analyzes, every interval until ctx ends, the tables that changed enough
// (analyzeStale).
//
// Why: every connection prepares Hebao's statements once, and PostgreSQL keeps the
// generic plan it makes at a statement's sixth execution until the table's
// statistics change. A plan made while a table was small scans it whole, and goes on
// doing so as it grows, unless the table is analyzed again: autovacuum does that,
// but only every minute at best, and not at all where it is turned off. On a new
// database under load (hebao bench), such plans read the whole idempotency table
// under the chain head.
func (p *pgDB) keepStats(ctx context.Context, interval time.Duration, log *slog.Logger) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if _, err := p.analyzeStale(ctx); err != nil && ctx.Err() == nil {
			log.Warn("analyzing tables that changed", "err", err)
		}
	}
}

// analyzeStale analyzes the tables that changed by more than pgStale's threshold
// since they were last analyzed, and returns their names. It does
// nothing, and returns no error, while another process is doing the same.
func (p *pgDB) analyzeStale(ctx context.Context) ([]string, error) {
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Release()
	var got bool
	if err := conn.QueryRow(ctx, `SELECT pg_try_advisory_lock($1)`, statsLock).Scan(&got); err != nil {
		return nil, err
	}
	if !got {
		return nil, nil
	}
	defer conn.Exec(context.WithoutCancel(ctx), `SELECT pg_advisory_unlock($1)`, statsLock)
	rows, err := conn.Query(ctx, pgStale)
	if err != nil {
		return nil, err
	}
	tables, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, err
	}
	for _, name := range tables {
		if _, err := conn.Exec(ctx, "ANALYZE "+pgx.Identifier{name}.Sanitize()); err != nil {
			return nil, fmt.Errorf("analyze %s: %w", name, err)
		}
	}
	return tables, nil
}
