package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"time"
)

const benchUsage = `Usage:

	hebao bench [--url URL]... [flags]

Loads a running Hebao server through its public HTTP API only, then checks that the
ledger verifies and that every fen the bench moved is where it should be.

 1. Set-up: opens --customers wallets (SMS codes read from the development inbox,
    so the server must run with --dev), each real-named with a test ID number, with a
    sandbox card bound, a payment password set and --topup fen topped up; creates a
    merchant of its own (or uses --merchant-key).
 2. Measured phase: --concurrency workers run the --mix of operations for --duration
    or --count operations, each money request with its own Idempotency-Key:
      transfer  POST /v1/transfers between two bench wallets
      pay       POST /v1/merchant/orders, then POST /v1/orders/{id}/pay
      code      POST /v1/payment-codes, POST /v1/merchant/code-payments, and
                POST /v1/payment-codes/confirm when the till order waits (USERPAYING)
      read      GET /v1/wallet, then GET /v1/transactions
 3. Report: throughput and p50/p90/p99/p99.9 latency per operation, errors by code.
 4. Check: GET /v1/admin/ledger/verify, and each wallet's balance (plus red packet)
    and the merchant's settlement balance against what the successful operations
    imply. A failed check exits 1.

The admin account (for the check, and for creating the merchant) comes from
--admin-user/--admin-password, or else from <data-dir>/dev.json, which serve --dev
writes: on the machine of a serve --dev, the defaults just work.

Flags:

	--url URL              a server; give it several times to spread requests
	                       round-robin (default $HEBAO_BENCH_URL or http://127.0.0.1:8080)
	--customers N          wallets to open (default 1000)
	--setup-concurrency N  wallets opened at once (default 16)
	--concurrency N        workers in the measured phase (default 64)
	--duration D           how long to measure (default 30s; unlimited when only
	                       --count is given)
	--count N              stop after N operations (default 0: no limit)
	--mix LIST             operation weights (default transfer=20,pay=60,code=10,read=10)
	--topup FEN            each wallet's top-up (default 100000, ¥1,000)
	--max-amount FEN       transfers and payments are 1 to FEN fen (default 100)
	--merchant-key KEY     an existing merchant's mk_… key instead of a new merchant
	--admin-user NAME      an admin staff account (default from dev.json)
	--admin-password PW    its password (default $HEBAO_ADMIN_PASSWORD, or dev.json)
	--data-dir DIR         where dev.json is (default $HEBAO_DATA_DIR or ./hebao-data)
	--timeout D            how long one request may take (default 30s)
	--json                 print one JSON object instead of the table
`

// benchConfig is what the command line of `hebao bench` asked for.
type benchConfig struct {
	urls             []string
	customers        int
	setupConcurrency int
	concurrency      int
	duration         time.Duration // 0: no limit
	count            int64         // 0: no limit
	mix              benchMix
	topup            int64
	maxAmount        int64
	merchantKey      string
	adminUser        string
	adminPassword    string
	timeout          time.Duration
	json             bool
}

// urlList is a flag that may be given several times.
type urlList []string

func (u *urlList) String() string { return strings.Join(*u, ",") }

func (u *urlList) Set(s string) error {
	s = strings.TrimRight(s, "/")
	if !strings.HasPrefix(s, "http://") && !strings.HasPrefix(s, "https://") {
		return fmt.Errorf("%q is not an http:// or https:// URL", s)
	}
	*u = append(*u, s)
	return nil
}

// parseBench reads the command line of `hebao bench`.
func (m *Main) parseBench(args []string) (cfg benchConfig, help bool, err error) {
	var (
		urls    urlList
		mix     string
		dataDir string
	)
	flags := flag.NewFlagSet("bench", flag.ContinueOnError)
	flags.Usage = func() { fmt.Fprint(m.Stderr, benchUsage) }
	flags.Var(&urls, "url", "a server to load (several: round-robin)")
	flags.IntVar(&cfg.customers, "customers", 1000, "wallets to open")
	flags.IntVar(&cfg.setupConcurrency, "setup-concurrency", 16, "wallets opened at once")
	flags.IntVar(&cfg.concurrency, "concurrency", 64, "workers in the measured phase")
	flags.DurationVar(&cfg.duration, "duration", 30*time.Second, "how long to measure")
	flags.Int64Var(&cfg.count, "count", 0, "stop after this many operations")
	flags.StringVar(&mix, "mix", defaultMix, "operation weights")
	flags.Int64Var(&cfg.topup, "topup", 100_000, "each wallet's top-up, in fen")
	flags.Int64Var(&cfg.maxAmount, "max-amount", 100, "the largest transfer or payment, in fen")
	flags.StringVar(&cfg.merchantKey, "merchant-key", "", "an existing merchant's API key")
	flags.StringVar(&cfg.adminUser, "admin-user", "", "an admin staff account")
	flags.StringVar(&cfg.adminPassword, "admin-password", m.Getenv("HEBAO_ADMIN_PASSWORD"), "its password")
	flags.StringVar(&dataDir, "data-dir", envOr(m.Getenv, "HEBAO_DATA_DIR", "./hebao-data"), "where dev.json is")
	flags.DurationVar(&cfg.timeout, "timeout", 30*time.Second, "how long one request may take")
	flags.BoolVar(&cfg.json, "json", false, "print one JSON object")
	if help, err := m.parse(flags, args); help || err != nil {
		return cfg, help, err
	}
	durationSet := false
	flags.Visit(func(f *flag.Flag) { durationSet = durationSet || f.Name == "duration" })
	if cfg.count > 0 && !durationSet {
		cfg.duration = 0
	}
	if cfg.mix, err = parseMix(mix); err != nil {
		return cfg, false, usageError{"bench: --mix: " + err.Error()}
	}
	switch {
	case cfg.customers < 1 || cfg.customers > 1_000_000:
		return cfg, false, usageError{"bench: --customers must be 1 to 1000000"}
	case cfg.customers < 2 && cfg.mix.weights[opTransfer] > 0:
		return cfg, false, usageError{"bench: transfers need at least 2 --customers"}
	case cfg.setupConcurrency < 1 || cfg.concurrency < 1:
		return cfg, false, usageError{"bench: --setup-concurrency and --concurrency must be at least 1"}
	case cfg.duration < 0 || cfg.count < 0 || (cfg.duration == 0 && cfg.count == 0):
		return cfg, false, usageError{"bench: give a positive --duration or --count"}
	case cfg.maxAmount < 1 || cfg.topup < 1:
		return cfg, false, usageError{"bench: --topup and --max-amount must be at least 1 fen"}
	case cfg.timeout <= 0:
		return cfg, false, usageError{"bench: --timeout must be positive"}
	}
	cfg.urls = urls
	if len(cfg.urls) == 0 {
		cfg.urls = []string{strings.TrimRight(envOr(m.Getenv, "HEBAO_BENCH_URL", "http://127.0.0.1:8080"), "/")}
	}
	if cfg.adminUser == "" || cfg.adminPassword == "" {
		dev, err := readDevFile(dataDir)
		if err != nil {
			return cfg, false, err
		}
		if dev.Admin == nil {
			return cfg, false, usageError{fmt.Sprintf("bench: the ledger check needs an admin staff account: give --admin-user and --admin-password, or --data-dir of a server run with --dev (%s has no admin)", filepath.Join(dataDir, "dev.json"))}
		}
		if cfg.adminUser == "" {
			cfg.adminUser = dev.Admin.Username
		}
		if cfg.adminPassword == "" {
			cfg.adminPassword = dev.Admin.Password
		}
	}
	return cfg, false, nil
}

// readDevFile reads the dev.json that serve --dev wrote in dir.
func readDevFile(dir string) (devFile, error) {
	path := filepath.Join(dir, "dev.json")
	var f devFile
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return f, usageError{fmt.Sprintf("bench: the ledger check needs an admin staff account: give --admin-user and --admin-password, or --data-dir of a server run with --dev (there is no %s)", path)}
	}
	if err != nil {
		return f, fmt.Errorf("bench: %w", err)
	}
	if err := json.Unmarshal(b, &f); err != nil {
		return f, fmt.Errorf("bench: %s is not valid: %w", path, err)
	}
	return f, nil
}

// bench runs `hebao bench`: set-up, measured phase, report, check. It returns an
// error when the check fails, after printing the report.
func (m *Main) bench(ctx context.Context, args []string) error {
	cfg, help, err := m.parseBench(args)
	if help || err != nil {
		return err
	}
	b := newBench(cfg, m.Stderr)
	defer b.client.close()

	admin, err := b.staffToken(ctx)
	if err != nil {
		return fmt.Errorf("bench: admin sign-in: %w", err)
	}
	if err := b.merchant(ctx, admin); err != nil {
		return fmt.Errorf("bench: merchant: %w", err)
	}
	if err := b.setup(ctx); err != nil {
		return fmt.Errorf("bench: set-up: %w", err)
	}
	if err := b.snapshot(ctx); err != nil {
		return fmt.Errorf("bench: set-up: %w", err)
	}
	res := b.measure(ctx)

	// The check runs even when an interrupt ended the measured phase early.
	checkCtx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Minute)
	defer cancel()
	verdict, err := b.check(checkCtx, admin)
	if err != nil {
		return fmt.Errorf("bench: check: %w", err)
	}
	rep := newBenchReport(res, verdict)
	if cfg.json {
		if err := rep.writeJSON(m.Stdout); err != nil {
			return err
		}
	} else {
		rep.writeTable(m.Stdout, cfg, b.uncertain.Load())
	}
	if verdict != "ok" {
		return fmt.Errorf("bench: the check failed: %s", verdict)
	}
	return nil
}
