package sqldb

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"sort"
	"strconv"
	"strings"
)

//go:embed migrations
var migrationFiles embed.FS

type migration struct {
	version int
	name    string
	sql     string
}

// migrator is the part of a backend that applies migrations: in one transaction,
// under whatever lock keeps two processes from migrating at once.
type migrator interface {
	migrationDialect() string
	applyMigrations(ctx context.Context, pending func(current int) ([]migration, error)) error
}

// migrations returns the numbered .sql files of a dialect, in order. A file is named
// NNN_what.sql; numbers start at 1 and have no gaps.
func migrations(dialect string) ([]migration, error) {
	dir := "migrations/" + dialect
	entries, err := fs.ReadDir(migrationFiles, dir)
	if err != nil {
		return nil, err
	}
	var ms []migration
	for _, e := range entries {
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || !strings.HasSuffix(e.Name(), ".sql") {
			return nil, fmt.Errorf("sqldb: migration file %s is not named NNN_name.sql", e.Name())
		}
		b, err := fs.ReadFile(migrationFiles, dir+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		ms = append(ms, migration{version: v, name: e.Name(), sql: string(b)})
	}
	sort.Slice(ms, func(i, j int) bool { return ms[i].version < ms[j].version })
	for i, m := range ms {
		if m.version != i+1 {
			return nil, fmt.Errorf("sqldb: migration %s: expected number %d", m.name, i+1)
		}
	}
	return ms, nil
}

// migrate brings the schema up to date. A database newer than this binary is an error:
// running old code on it could break rules the new schema relies on.
// With readOnly it changes nothing and fails unless the schema is exactly this
// program's.
func migrate(ctx context.Context, m migrator, readOnly bool) error {
	all, err := migrations(m.migrationDialect())
	if err != nil {
		return err
	}
	err = m.applyMigrations(ctx, func(current int) ([]migration, error) {
		if current > len(all) {
			return nil, fmt.Errorf("database schema version %d is newer than this program's %d", current, len(all))
		}
		if readOnly && current != len(all) {
			return nil, fmt.Errorf("database schema version %d, this program expects %d: run `hebao migrate` first", current, len(all))
		}
		return all[current:], nil
	})
	if err != nil {
		return fmt.Errorf("sqldb: migrate: %w", err)
	}
	return nil
}

// SchemaVersion is the number of migrations this program knows for a dialect.
func SchemaVersion(dialect string) int {
	ms, _ := migrations(dialect)
	return len(ms)
}
