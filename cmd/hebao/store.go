package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"time"

	"github.com/hebaopay/hebao/sqldb"
)

// openStore opens the database the flags name with the keys from the key file, and
// returns the keys too.
// writable says whether it opens for writing: yes for serve and migrate, which may
// create a new ledger and its key file and apply migrations; no for verify, which
// must change nothing.
func (m *Main) openStore(ctx context.Context, f storeFlags, writable bool, log *slog.Logger, onCommit func(int, time.Duration)) (*sqldb.DB, *keys, error) {
	k, err := loadKeys(f.keyPath(), writable)
	if err != nil {
		return nil, nil, err
	}
	if w := keyFileWarning(f.keyPath()); w != "" {
		fmt.Fprintln(m.Stderr, w)
	}
	db, err := sqldb.Open(ctx, sqldb.Config{
		URL:       f.db,
		DataDir:   f.dataDir,
		LedgerKey: k.Ledger,
		Logger:    log,
		OnCommit:  onCommit,
		// verify must report a rewritten chain head, not refuse to open.
		ReadOnly: !writable,
	})
	return db, k, err
}

// describe names the database for people, without a password.
func (f storeFlags) describe() string {
	if f.db == "" {
		return fmt.Sprintf("SQLite in %s", filepath.Join(f.dataDir, "hebao.db"))
	}
	if u, err := url.Parse(f.db); err == nil {
		return "PostgreSQL at " + u.Redacted()
	}
	return "PostgreSQL"
}

// migrate opens the database, which applies the migrations it lacks, and closes it.
func (m *Main) migrate(ctx context.Context, args []string) error {
	var f storeFlags
	flags := flag.NewFlagSet("migrate", flag.ContinueOnError)
	f.register(flags, m.Getenv)
	if help, err := m.parse(flags, args); help || err != nil {
		return err
	}
	db, _, err := m.openStore(ctx, f, true, nil, nil)
	if err != nil {
		return err
	}
	dialect := db.Dialect()
	if err := db.Close(); err != nil {
		return err
	}
	fmt.Fprintf(m.Stdout, "migrated: %s, schema version %d\n", f.describe(), sqldb.SchemaVersion(dialect))
	return nil
}

// verify proves the ledger and prints the report. A ledger that does not verify is
// an error, so the exit status is 1, and the report names the first bad transfer.
func (m *Main) verify(ctx context.Context, args []string) error {
	var f storeFlags
	flags := flag.NewFlagSet("verify", flag.ContinueOnError)
	f.register(flags, m.Getenv)
	if help, err := m.parse(flags, args); help || err != nil {
		return err
	}
	// Opening SQLite creates the database: verifying a data dir that has none would
	// "prove" a new, empty ledger.
	if f.db == "" {
		if _, err := os.Stat(filepath.Join(f.dataDir, "hebao.db")); errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("verify: there is no database in %s (--data-dir)", f.dataDir)
		}
	}
	db, _, err := m.openStore(ctx, f, false, nil, nil)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	defer db.Close()
	report, err := db.Verify(ctx)
	if err != nil {
		return fmt.Errorf("verify: %w", err)
	}
	fmt.Fprint(m.Stdout, report.String())
	if !report.OK {
		if b := report.FirstBad; b != nil {
			return fmt.Errorf("the ledger does not verify: first bad transfer seq %d (%s): %s", b.Seq, b.ID, b.Reason)
		}
		return fmt.Errorf("the ledger does not verify: %d problems", len(report.Problems))
	}
	return nil
}
