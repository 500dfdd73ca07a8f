package sqldb

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"
)

func newRand(seed uint64) *rand.Rand { return rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)) }

// rawExec runs a statement written with ? placeholders straight on the database,
// bypassing the store: tests use it to tamper with what the store wrote.
func rawExec(t testing.TB, db *DB, q string, args ...any) (int64, error) {
	t.Helper()
	ctx := context.Background()
	switch b := db.b.(type) {
	case *sqliteDB:
		res, err := b.w.ExecContext(ctx, q, args...)
		if err != nil {
			return 0, err
		}
		return res.RowsAffected()
	case *pgDB:
		tag, err := b.pool.Exec(ctx, rebind(q), args...)
		return tag.RowsAffected(), err
	}
	t.Fatalf("unknown backend %T", db.b)
	return 0, nil
}

// rawInt reads one integer with a ? query.
func rawInt(t testing.TB, db *DB, q string, args ...any) int64 {
	t.Helper()
	ctx := context.Background()
	var n int64
	var err error
	switch b := db.b.(type) {
	case *sqliteDB:
		err = b.r.QueryRowContext(ctx, q, args...).Scan(&n)
	case *pgDB:
		err = b.pool.QueryRow(ctx, rebind(q), args...).Scan(&n)
	}
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	return n
}

func rebind(q string) string {
	var b strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			b.WriteString("$" + strconv.Itoa(n))
			continue
		}
		b.WriteRune(c)
	}
	return b.String()
}

func countOutbox(t testing.TB, db *DB) int {
	return int(rawInt(t, db, `SELECT COUNT(*) FROM outbox`))
}
