// Package sqldbtest opens real, throw-away Hebao databases for tests: SQLite in a
// temporary directory, and PostgreSQL in a schema of its own that is dropped when the
// test ends, so test packages can run in parallel against one server.
package sqldbtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
)

// PostgresEnv names the variable holding the PostgreSQL server URL for tests, e.g.
// postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable.
const PostgresEnv = "HEBAO_TEST_POSTGRES"

// Backends returns the backends to test: "sqlite" always, and "postgres" when
// HEBAO_TEST_POSTGRES is set. With CI=true a missing PostgreSQL fails the test rather
// than skipping it.
func Backends(t testing.TB) []string {
	if os.Getenv(PostgresEnv) != "" {
		return []string{"sqlite", "postgres"}
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("CI=true but %s is not set: PostgreSQL tests may not be skipped in CI", PostgresEnv)
	}
	return []string{"sqlite"}
}

// URL returns the database URL to give sqldb.Open for a backend: "" for SQLite, or a
// URL whose search_path is a new schema, dropped at the end of the test.
func URL(t testing.TB, backend string) string {
	t.Helper()
	if backend == "sqlite" {
		return ""
	}
	return PostgresSchema(t)
}

// PostgresSchema creates a fresh schema on the HEBAO_TEST_POSTGRES server and returns
// a URL that uses it. It fails the test if the server cannot be reached.
func PostgresSchema(t testing.TB) string {
	t.Helper()
	base := os.Getenv(PostgresEnv)
	if base == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("CI=true but %s is not set", PostgresEnv)
		}
		t.Skipf("%s not set: skipping a PostgreSQL test", PostgresEnv)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "hebao_test_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connect to PostgreSQL at %s: %v", redact(base), err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("create schema: %v", err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
			return
		}
		defer conn.Close(ctx)
		if _, err := conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatalf("%s: %v", PostgresEnv, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func redact(s string) string {
	if u, err := url.Parse(s); err == nil {
		return u.Redacted()
	}
	return strings.SplitN(s, "@", 2)[0]
}
