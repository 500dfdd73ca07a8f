// Command hebao runs the Hebao wallet platform: `hebao serve` serves the API,
// `hebao migrate` brings a database's schema up to date, `hebao verify` proves
// the ledger, `hebao staff add` creates staff accounts, and `hebao bench` loads a
// running server through its HTTP API.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	m := &Main{Stdin: os.Stdin, Stdout: os.Stdout, Stderr: os.Stderr, Getenv: os.Getenv}
	if err := m.Run(ctx, os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "hebao:", err)
		if errors.As(err, new(usageError)) {
			os.Exit(2)
		}
		os.Exit(1)
	}
}

// Main is the program, apart from the process: an end-to-end test runs it with its
// own output, environment and context, and cancels the context to stop it.
type Main struct {
	// Stdin is where `staff add` reads the new password; nil reads nothing.
	Stdin  io.Reader
	Stdout io.Writer
	Stderr io.Writer
	// Getenv reads the environment; nil reads none.
	Getenv func(string) string
	// Listening, if set, is sent the address `serve` listens on once it accepts
	// connections, so a test can serve on 127.0.0.1:0 and find the port.
	Listening chan<- string
}

const usage = `Hebao is an open-source digital wallet platform.

Usage:

	hebao <command> [flags]

Commands:

	serve     serve the JSON API
	migrate   create the database or bring its schema up to date, then exit
	verify    prove the ledger: every transfer balances, the hash chain is unbroken,
	          every balance matches its postings; exits 1 naming the first bad transfer
	staff     staff add --username NAME --role agent|admin: create a staff account,
	          the password read from standard input
	interest  interest accrue [--date YYYY-MM-DD]: accrue a day's interest (and credit
	          it on the 20th of March, June, September and December)
	bench     load a running server (serve --dev) through its HTTP API, report
	          throughput and latency, then check the ledger and the balances

Flags of every command:

	--data-dir DIR   where the SQLite database and the key file live
	                 (default ./hebao-data, or $HEBAO_DATA_DIR)
	--db URL         postgres://… to use PostgreSQL; empty for SQLite in the data dir
	                 (default $HEBAO_DB)
	--key-file FILE  the secret keys, kept outside the database
	                 (default <data-dir>/keys.json, or $HEBAO_KEY_FILE)

Run 'hebao <command> -h' for the flags of one command.
`

// usageError is a mistake in the command line; main exits 2 for it.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// Run runs the command that args name, until it is done or ctx ends.
func (m *Main) Run(ctx context.Context, args []string) error {
	if m.Stdout == nil {
		m.Stdout = io.Discard
	}
	if m.Stderr == nil {
		m.Stderr = io.Discard
	}
	if m.Stdin == nil {
		m.Stdin = strings.NewReader("")
	}
	if m.Getenv == nil {
		m.Getenv = func(string) string { return "" }
	}
	if len(args) == 0 {
		fmt.Fprint(m.Stderr, usage)
		return usageError{"no command given"}
	}
	cmd, args := args[0], args[1:]
	switch cmd {
	case "serve":
		return m.serve(ctx, args)
	case "migrate":
		return m.migrate(ctx, args)
	case "verify":
		return m.verify(ctx, args)
	case "staff":
		return m.staff(ctx, args)
	case "interest":
		return m.interest(ctx, args)
	case "bench":
		return m.bench(ctx, args)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(m.Stdout, usage)
		return nil
	}
	fmt.Fprint(m.Stderr, usage)
	return usageError{fmt.Sprintf("unknown command %q", cmd)}
}

// storeFlags are the flags every command has: where the data and the keys are.
type storeFlags struct {
	dataDir string
	db      string
	keyFile string
}

// register adds the flags to fs, with defaults from the environment.
func (f *storeFlags) register(fs *flag.FlagSet, getenv func(string) string) {
	fs.StringVar(&f.dataDir, "data-dir", envOr(getenv, "HEBAO_DATA_DIR", "./hebao-data"), "where the SQLite database and the key file live")
	fs.StringVar(&f.db, "db", getenv("HEBAO_DB"), "postgres://… to use PostgreSQL; empty for SQLite in the data dir")
	fs.StringVar(&f.keyFile, "key-file", getenv("HEBAO_KEY_FILE"), "the key file (default <data-dir>/keys.json)")
}

// keyPath is the key file, by default in the data dir.
func (f *storeFlags) keyPath() string {
	if f.keyFile != "" {
		return f.keyFile
	}
	return filepath.Join(f.dataDir, "keys.json")
}

// parse parses a command's flags. -h prints the command's flags and is not an error.
func (m *Main) parse(fs *flag.FlagSet, args []string) (help bool, err error) {
	fs.SetOutput(m.Stderr)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return true, nil
		}
		return false, usageError{err.Error()}
	}
	if fs.NArg() > 0 {
		return false, usageError{fmt.Sprintf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))}
	}
	return false, nil
}

func envOr(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
