package sqldb

import (
	"context"
	"slices"
	"testing"

	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// TestAnalyzeStale: a statement that a connection ran often while its table was
// empty finds rows by index once the table has grown and been analyzed by
// analyzeStale. PostgreSQL keeps the generic plan made at a statement's sixth
// execution until the table's statistics change: made on an empty table, it scans
// the table whole (on a machine whose autovacuum is off, for ever).
func TestAnalyzeStale(t *testing.T) {
	db := openTest(t, Config{URL: sqldbtest.PostgresSchema(t), DataDir: t.TempDir()})
	p := db.b.(*pgDB)
	ctx := context.Background()
	conn, err := p.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	lookup := func() {
		t.Helper()
		rows, err := conn.Query(ctx, pgReadAheadReplies, []string{"s", "s"}, []string{"k1", "k2"})
		if err != nil {
			t.Fatal(err)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			t.Fatal(err)
		}
	}
	for range 10 {
		lookup()
	}
	if _, err := conn.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at)
SELECT 's', 'k' || i, '\x00', 200, '\x00', i FROM generate_series(1, 20000) AS i`); err != nil {
		t.Fatal(err)
	}
	// The inserting session's counts reach the statistics now, not within a second.
	if _, err := conn.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
		t.Fatal(err)
	}
	seqScans := func() int64 {
		t.Helper()
		var n int64
		if _, err := conn.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
			t.Fatal(err)
		}
		if err := conn.QueryRow(ctx, `SELECT seq_scan FROM pg_stat_user_tables
WHERE relname = 'idempotency_keys' AND schemaname = current_schema()`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}

	// Another process analyzing: this one leaves it to them.
	other, err := p.pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Exec(ctx, `SELECT pg_advisory_lock($1)`, statsLock); err != nil {
		t.Fatal(err)
	}
	tables, err := p.analyzeStale(ctx)
	_, uerr := other.Exec(ctx, `SELECT pg_advisory_unlock($1)`, statsLock)
	other.Release()
	if uerr != nil {
		t.Fatal(uerr)
	}
	if err != nil || len(tables) != 0 {
		t.Fatalf("analyzeStale while another holds the lock: %v, %v", tables, err)
	}

	tables, err = p.analyzeStale(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(tables, "idempotency_keys") {
		t.Fatalf("analyzed %v, want idempotency_keys among them", tables)
	}
	before := seqScans()
	for range 10 {
		lookup()
	}
	if n := seqScans() - before; n != 0 {
		t.Errorf("%d of 10 lookups of 2 keys in 20,000 rows scanned the table whole", n)
	}
	// Analyzed, and unchanged since: nothing more to do.
	if tables, err := p.analyzeStale(ctx); err != nil || slices.Contains(tables, "idempotency_keys") {
		t.Errorf("analyzeStale again: %v, %v", tables, err)
	}
	// A table is analyzed again once it has changed by as many rows as it holds
	// (and 50): 15,000 new rows in 20,000 are not enough, 21,000 are.
	grow := func(from, to int) []string {
		t.Helper()
		if _, err := conn.Exec(ctx, `INSERT INTO idempotency_keys (scope, key, request_hash, status, body, created_at)
SELECT 's', 'k' || i, '\x00', 200, '\x00', i FROM generate_series($1::int, $2::int) AS i`, from, to); err != nil {
			t.Fatal(err)
		}
		if _, err := conn.Exec(ctx, `SELECT pg_stat_force_next_flush()`); err != nil {
			t.Fatal(err)
		}
		tables, err := p.analyzeStale(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return tables
	}
	if tables := grow(20_001, 35_000); slices.Contains(tables, "idempotency_keys") {
		t.Errorf("analyzed idempotency_keys again after 15,000 new rows in 20,000: %v", tables)
	}
	if tables := grow(35_001, 41_000); !slices.Contains(tables, "idempotency_keys") {
		t.Errorf("did not analyze idempotency_keys after 21,000 new rows in 20,000: %v", tables)
	}
}
