package sqldb

import (
	"context"
	"testing"

	"github.com/hebaopay/hebao/sqldb/sqldbtest"
)

// TestPostgresCustomPlans: a statement that a connection ran often while its table
// was empty still finds rows by index once the table has grown. PostgreSQL keeps a
// generic plan made on a statement's sixth execution unless told to plan each time;
// made on an empty, never analyzed table (autovacuum off) it scans the table whole
// for ever after.
func TestPostgresCustomPlans(t *testing.T) {
	url := sqldbtest.PostgresSchema(t)
	db := openTest(t, Config{URL: url, DataDir: t.TempDir()})
	pool := db.b.(*pgDB).pool
	ctx := context.Background()
	conn, err := pool.Acquire(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Release()
	var mode string
	if err := conn.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "force_custom_plan" {
		t.Errorf("plan_cache_mode = %q, want force_custom_plan", mode)
	}
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
	before := seqScans()
	for range 10 {
		lookup()
	}
	if n := seqScans() - before; n != 0 {
		t.Errorf("%d lookups of 2 keys in 20,000 rows scanned the table whole", n)
	}

	// A url that chooses a mode keeps it.
	other := openTest(t, Config{URL: url + "&plan_cache_mode=auto", DataDir: t.TempDir()})
	if err := other.b.(*pgDB).pool.QueryRow(ctx, `SHOW plan_cache_mode`).Scan(&mode); err != nil {
		t.Fatal(err)
	}
	if mode != "auto" {
		t.Errorf("with plan_cache_mode=auto in the url: %q", mode)
	}
}

func TestCustomPlansParams(t *testing.T) {
	for _, tc := range []struct {
		in   map[string]string
		want string
	}{
		{map[string]string{}, "force_custom_plan"},
		{map[string]string{"plan_cache_mode": "auto"}, "auto"},
		{map[string]string{"options": "-c plan_cache_mode=auto"}, ""},
	} {
		customPlans(tc.in)
		if got := tc.in["plan_cache_mode"]; got != tc.want {
			t.Errorf("%v: plan_cache_mode %q, want %q", tc.in, got, tc.want)
		}
	}
}
