package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"

	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/demo"
	hebaohttp "github.com/hebaopay/hebao/http"
	"github.com/hebaopay/hebao/natsrelay"
	"github.com/hebaopay/hebao/notify"
	"github.com/hebaopay/hebao/sandbox"
	"github.com/hebaopay/hebao/web"
	"github.com/hebaopay/hebao/webhook"
)

// shutdownTimeout is how long requests in flight get to finish after a stop signal.
const shutdownTimeout = 20 * time.Second

// serve serves the API until ctx ends (SIGINT or SIGTERM), then stops taking
// requests, lets those in flight finish, and closes the database last.
func (m *Main) serve(ctx context.Context, args []string) error {
	var (
		f            storeFlags
		sf           smsFlags
		ff           faceFlags
		addr         string
		dev          bool
		minVersion   string
		cardKeys     string
		bankWait     time.Duration
		publicURL    string
		interestRate int64
		pprofAddr    string
		natsURL      string
		webhookLease time.Duration
	)
	flags := flag.NewFlagSet("serve", flag.ContinueOnError)
	f.register(flags, m.Getenv)
	flags.StringVar(&addr, "addr", envOr(m.Getenv, "HEBAO_ADDR", "127.0.0.1:8080"), "the address to listen on")
	flags.BoolVar(&dev, "dev", false, "development mode: never with real money")
	flags.StringVar(&minVersion, "min-client-version", m.Getenv("HEBAO_MIN_CLIENT_VERSION"), "answer 426 to clients whose X-Client-Version is older")
	flags.StringVar(&cardKeys, "card-key-file", m.Getenv("HEBAO_CARD_KEY_FILE"), cardKeyFlagHelp)
	flags.StringVar(&publicURL, "public-url", m.Getenv("HEBAO_PUBLIC_URL"), "where customers and shops reach this server (orders' QR codes link to it); default http:// and --addr")
	flags.Int64Var(&interestRate, "interest-rate-ppm", 3500, "yearly interest rate on real-named wallets, in parts per million (3500 = 0.35%); 0 turns interest off")
	flags.StringVar(&pprofAddr, "pprof-addr", m.Getenv("HEBAO_PPROF_ADDR"), "serve Go's profiles (/debug/pprof/) on this loopback address, for profiling a load (e.g. 127.0.0.1:6060); off when empty")
	// Not defaulted from the environment here: -h would print a password in the URL.
	flags.StringVar(&natsURL, "nats", "", "also publish every outbox event to NATS JetStream at this URL, e.g. nats://127.0.0.1:4222 (stream HEBAO, subjects hebao.<kind>: docs/events.md); default $HEBAO_NATS, off when empty")
	flags.DurationVar(&bankWait, "bank-timeout", hebao.DefaultBankTimeout, "how long the bank has to answer a top-up or withdrawal before it is cancelled and fails with bank_timeout")
	flags.DurationVar(&webhookLease, "webhook-lease", webhook.DefaultLease, "how long a webhook delivery being sent is kept from the other servers on the database: one that dies mid-attempt leaves it to them after this; an attempt gets at most half of it")
	sf.register(flags, m.Getenv)
	ff.register(flags, m.Getenv)
	if help, err := m.parse(flags, args); help || err != nil {
		return err
	}
	if bankWait <= 0 {
		return usageError{"--bank-timeout must be positive"}
	}
	if webhookLease < time.Second {
		return usageError{"--webhook-lease must be at least 1s"}
	}
	if pprofAddr != "" {
		at, stop, err := servePprof(pprofAddr)
		if err != nil {
			return err
		}
		defer stop()
		fmt.Fprintf(m.Stderr, "profiles: http://%s/debug/pprof/ (loopback only)\n", at)
	}
	smsOut, err := m.smsGateway(sf, dev, m.Stdout)
	if err != nil {
		return err
	}
	verifier, faceText, err := m.faceVerifier(ff, dev)
	if err != nil {
		return err
	}
	keyring, keyringPath, err := loadCardKeyring(cardKeys, dev, f.dataDir)
	if err != nil {
		return err
	}
	if w := keyFileWarning(keyringPath); w != "" {
		fmt.Fprintln(m.Stderr, w)
	}

	log := newLogger(m.Stderr, dev)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics, err := hebaohttp.NewMetrics(reg)
	if err != nil {
		return err
	}

	db, k, err := m.openStore(ctx, f, true, log, metrics.ObserveCommit)
	if err != nil {
		return err
	}
	defer db.Close()
	if smsOut.inbox != nil {
		// Kept in the database, so development servers sharing it read each
		// other's codes.
		smsOut.inbox.KeepIn(db, keyring)
	}

	// The sandbox bank is the only bank for now, with --dev and without: it moves
	// test money only, and says so wherever it shows.
	bank, err := sandbox.Open(f.dataDir)
	if err != nil {
		return fmt.Errorf("open the sandbox bank: %w", err)
	}
	defer bank.Close() // after the bank service has stopped (below)
	log.Info("bank", slog.String("bank", bank.Label()))

	otp := &hebao.OTPService{Store: db, SMS: smsOut.gateway, Key: otpKey(k.Ledger)}
	staff := &hebao.StaffService{Store: db}
	hub := notify.NewHub()
	// On SQLite every transaction runs in the one committer: the dispatcher decodes
	// its events beside it. On PostgreSQL its transaction runs beside the batches
	// already, and a second read of the outbox would only add work there.
	dispatcher := &notify.Dispatcher{Store: db, Hub: hub, SMS: smsOut.gateway, Log: log, PreDecode: db.Dialect() == "sqlite"}
	// With --nats every event the dispatcher delivers is queued in the same
	// transaction, and the relay publishes it to JetStream (docs/events.md).
	var relay *natsrelay.Publisher
	if natsURL == "" {
		natsURL = m.Getenv("HEBAO_NATS")
	}
	if natsURL != "" {
		nc, js, err := natsrelay.Connect(natsURL, log)
		if err != nil {
			return err
		}
		defer nc.Close() // after the workers have stopped (deferred below)
		relay = &natsrelay.Publisher{Store: db, JS: js, Log: log}
		dispatcher.Relay = relay.Wake
		log.Info("publishing events to NATS JetStream", slog.String("servers", natsrelay.Redact(natsURL)), slog.String("stream", natsrelay.DefaultStream))
	}
	// An agent's start of a payment-password reset emits the customer's notice.
	payPasswords := &hebao.PaymentPasswordService{Store: db, Keys: keyring, OTP: otp, Committed: dispatcher.Wake}
	bankService := &hebao.BankService{Store: db, Bank: bank, Keys: keyring, Tiers: hebao.DefaultTierLimits(),
		Passwords: payPasswords, OTP: otp, Timeout: bankWait, Log: log, Committed: dispatcher.Wake}
	transfers := &hebao.TransferService{Store: db, Tiers: hebao.DefaultTierLimits(), Passwords: payPasswords, OTP: otp,
		Committed: dispatcher.Wake}
	// Webhooks: https to public addresses only; --dev also allows http and loopback,
	// so that a shop on the same machine can be tried (SPEC §8).
	policy := webhook.Policy{AllowHTTP: dev, AllowLoopback: dev}
	merchants := &hebao.MerchantService{Store: db, Keys: keyring}
	campaigns := &hebao.CampaignService{Store: db, Keys: keyring}
	points := &hebao.PointsService{Store: db, Tiers: hebao.DefaultTierLimits(), Committed: dispatcher.Wake}
	tickets := &hebao.TicketService{Store: db, Committed: dispatcher.Wake}
	sender := &webhook.Sender{Store: db, Secret: merchants.WebhookSecretOf, Policy: policy, Log: log, Lease: webhookLease}
	// Listen before anything is built from the address, so that --addr with port 0
	// gives orders' links the port the system chose.
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	defer ln.Close() // Serve closes it too; this covers the returns before serving
	if publicURL == "" {
		publicURL = defaultPublicURL(ln.Addr().String())
	}
	orders := &hebao.OrderService{Store: db, Tiers: hebao.DefaultTierLimits(), Passwords: payPasswords, OTP: otp,
		CheckURL:  policy.CheckURL,
		Codes:     &hebao.PaymentCodeService{Store: db, Keys: keyring},
		Bank:      bankService,
		Committed: func() { dispatcher.Wake(); sender.Wake() }}
	cfg := hebaohttp.Config{
		Store:            db,
		Logger:           log,
		Metrics:          metrics,
		Dev:              dev,
		MinClientVersion: minVersion,
		OTP:              otp,
		Customers:        &hebao.CustomerService{Store: db, OTP: otp, Gifts: keyring},
		Wallets:          &hebao.WalletService{Store: db, Tiers: hebao.DefaultTierLimits()},
		Identity:         &hebao.IdentityService{Store: db, Keys: keyring},
		Cards:            &hebao.CardService{Store: db, Keys: keyring, OTP: otp},
		Face:             &hebao.FaceService{Store: db, Keys: keyring, Verifier: verifier},
		PaymentPasswords: payPasswords,
		WalletStatus:     &hebao.WalletStatusService{Store: db, Keys: keyring, OTP: otp},
		Tickets:          tickets,
		Staff:            staff,
		Audit:            &hebao.AuditService{Store: db},
		Ledger:           db,
		Transfers:        transfers,
		Bank:             bankService,
		Hub:              hub,
		Merchants:        merchants,
		Orders:           orders,
		Webhooks:         &hebao.WebhookService{Store: db, Committed: sender.Wake},
		Campaigns:        campaigns,
		Points:           points,
		Stats:            &hebao.StatsService{Store: db},
		PublicURL:        publicURL,
		Web:              web.Handler(web.Options{Dev: dev}),
		WebPatterns:      web.Patterns,
	}
	var devCredentials string // dev.json, under --dev
	var shop *demo.Shop       // the demo shop and till, under --dev
	if dev {
		if devCredentials, err = seedDev(ctx, db, keyring, staff, merchants, campaigns, f.dataDir); err != nil {
			return err
		}
		if shop, err = devShop(devCredentials, log); err != nil {
			return err
		}
		withDemo(&cfg, shop)
	}
	if smsOut.inbox != nil {
		cfg.DevSMS = smsOut.inbox
	}
	api, err := hebaohttp.NewServer(cfg)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           api.Handler(),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		// Long-lived responses (Server-Sent Events) lift this per request with
		// http.ResponseController.
		WriteTimeout: 60 * time.Second,
		IdleTimeout:  2 * time.Minute,
		ErrorLog:     slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}
	// Event streams never end by themselves: a shutdown ends them.
	srv.RegisterOnShutdown(api.StopStreams)

	// The background work lives as long as the server: bank calls left pending by a
	// restart, and the outbox that sends notifications.
	work, stopWork := context.WithCancel(context.Background())
	var workers sync.WaitGroup
	defer func() {
		stopWork()
		workers.Wait() // before the deferred bank.Close and db.Close
	}()
	workers.Go(func() { bankService.Run(work, 10*time.Second) })
	workers.Go(func() {
		orders.RunExpiry(work, 10*time.Second, func(err error) { log.Error("closing expired orders", "err", err) })
	})
	workers.Go(func() { sender.Run(work) })
	if interestRate > 0 {
		interest := &hebao.InterestService{Store: db, AnnualRatePPM: interestRate}
		workers.Go(func() { interest.Run(work, func(err error) { log.Error("accruing interest", "err", err) }) })
	}
	workers.Go(func() {
		campaigns.RunExpiry(work, time.Minute, func(err error) { log.Error("sweeping ended campaigns", "err", err) })
	})
	workers.Go(func() {
		points.RunExpiry(work, time.Hour, func(err error) { log.Error("expiring points", "err", err) })
	})
	if db.Dialect() == "postgres" {
		// Several servers may share a PostgreSQL database, and any of them may
		// dispatch a customer's notification: each hears every server's (announced
		// at commit) and pushes them to the event streams open on it. Its own
		// dispatcher then leaves the Hub alone, or local streams would get each twice.
		dispatcher.Hub = nil
		workers.Go(func() {
			err := db.ListenNotifications(work, func(n hebao.Notification) { hub.Publish(n) }, nil)
			if work.Err() == nil {
				log.Error("notification listener stopped", "err", err)
			}
		})
	}
	if relay != nil {
		workers.Go(func() {
			if err := relay.Run(work); err != nil {
				log.Error("NATS relay stopped", "err", err)
			}
		})
	}
	workers.Go(func() {
		if err := dispatcher.Run(work); err != nil {
			log.Error("notification dispatcher stopped", "err", err)
		}
	})

	if shop != nil {
		shop.API = demoAPI(ln.Addr()) // set before serving, which starts below
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	m.greet(ln.Addr().String(), f, greeting{cardKeys: keyringPath, face: faceText, bank: bank.Label(), devCredentials: devCredentials}, smsOut)
	log.Info("serving", slog.String("addr", ln.Addr().String()), slog.Bool("dev", dev))
	if m.Listening != nil {
		select {
		case m.Listening <- ln.Addr().String():
		case <-ctx.Done():
		}
	}

	select {
	case err := <-served:
		return fmt.Errorf("serve: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down: finishing requests in flight")
	shutdownCtx, cancel := context.WithTimeout(context.Background(), shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		srv.Close()
		return fmt.Errorf("shutdown: %w", err)
	}
	if err := <-served; !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("serve: %w", err)
	}
	// The deferred db.Close runs now, after the last request is done.
	log.Info("stopped")
	return nil
}

// greeting is what the startup text says beside the flags: the card keyring's file,
// the face verifier, and dev.json in development mode ("" otherwise).
type greeting struct {
	cardKeys, face, bank, devCredentials string
}

// greet tells the person who started the server where to find it.
func (m *Main) greet(addr string, f storeFlags, g greeting, sms smsSetup) {
	base := "http://" + browsable(addr)
	w := m.Stdout
	fmt.Fprintf(w, "Hebao is running at %s\n\n", base)
	fmt.Fprintf(w, "  wallet app       %s/\n", base)
	fmt.Fprintf(w, "  merchant portal  %s/merchant\n", base)
	fmt.Fprintf(w, "  staff console    %s/staff\n", base)
	if g.devCredentials != "" {
		fmt.Fprintf(w, "  demo shop, till  %s/demo/shop  %s/demo/till\n", base, base)
	}
	fmt.Fprintf(w, "  API description  %s/openapi.json\n", base)
	fmt.Fprintf(w, "  health           %s/healthz  %s/readyz\n", base, base)
	fmt.Fprintf(w, "  metrics          %s/metrics\n", base)
	fmt.Fprintf(w, "  database         %s\n", f.describe())
	fmt.Fprintf(w, "  key file         %s (back it up: without it `hebao verify` cannot prove the ledger)\n", f.keyPath())
	fmt.Fprintf(w, "  card keyring     %s (back it up: without it no card or ID number can be read)\n", g.cardKeys)
	fmt.Fprintf(w, "  %s\n", sms.describe(base))
	fmt.Fprintf(w, "  face check       %s\n", g.face)
	fmt.Fprintf(w, "  bank             %s: every top-up and withdrawal moves test money; cards ending 0002, 0051, 0119, 0259 fail on purpose (docs/money.md)\n", g.bank)
	if g.devCredentials != "" {
		fmt.Fprintf(w, "  dev credentials  %s (the seeded admin and agent — sign in with POST %s/v1/staff/sessions — and the demo merchant's API key for %s/v1/merchant/…)\n", g.devCredentials, base, base)
		fmt.Fprintf(w, "\nDevelopment mode is on: for trying Hebao out, never for real money.\n")
	}
	fmt.Fprintf(w, "\nPress Ctrl+C to stop.\n")
}

// browsable turns a listening address into one a browser can open: a server
// listening on all interfaces is reached at localhost.
func browsable(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return addr
	}
	if ip := net.ParseIP(host); host == "" || ip != nil && ip.IsUnspecified() {
		host = "localhost"
	}
	return net.JoinHostPort(host, port)
}

// newLogger logs JSON for machines, or text for a person in development mode.
func newLogger(w io.Writer, dev bool) *slog.Logger {
	if dev {
		return slog.New(slog.NewTextHandler(w, nil))
	}
	return slog.New(slog.NewJSONHandler(w, nil))
}

// defaultPublicURL is http:// and the listening address, with a name a browser on
// this machine can open when the address leaves the host out or is a wildcard.
func defaultPublicURL(addr string) string {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "http://" + addr
	}
	if host == "" || host == "0.0.0.0" || host == "::" {
		host = "localhost"
	}
	return "http://" + net.JoinHostPort(host, port)
}
