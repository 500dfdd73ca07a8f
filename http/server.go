// Package http is Hebao's JSON API: routes on a standard ServeMux, handlers that return
// errors, one table from error kind to status, and RFC 9457 problem documents. It
// imports the domain package and never a storage package.
package http

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/notify"
)

// maxBody is the largest request body any route accepts (SPEC §10).
const maxBody = 64 << 10

// Config is everything a Server needs; there are no globals to set instead.
type Config struct {
	// Store is the database; the server uses it for readiness and, later, the use cases.
	Store hebao.Store
	// Logger receives one access line per request and every internal error, once.
	// Nil discards.
	Logger *slog.Logger
	// Metrics holds the Prometheus series and the registry served at /metrics. Nil
	// gives a fresh private registry.
	Metrics *Metrics
	// Dev turns on development mode (SPEC §11).
	Dev bool
	// MinClientVersion, if set, is the lowest X-Client-Version answered; older
	// clients get 426 client_upgrade_required. A dotted version such as "2.4.0".
	MinClientVersion string
	// OTP sends SMS codes for POST /v1/otp; nil answers it 503 unavailable.
	OTP *hebao.OTPService
	// DevSMS is the development SMS gateway's inbox, served at GET /v1/dev/sms.
	// It needs Dev: without it the route does not exist.
	DevSMS SMSInbox
	// Customers registers customers and signs them in and out; nil answers those
	// routes, and every customer route, 503 unavailable.
	Customers *hebao.CustomerService
	// Wallets shows wallets (GET /v1/wallet); nil answers 503.
	Wallets *hebao.WalletService
	// Identity records real names (POST /v1/wallet/real-name); nil answers 503.
	Identity *hebao.IdentityService
	// Cards binds, lists, orders and removes bank cards (/v1/cards); nil answers 503.
	Cards *hebao.CardService
	// Face runs the face check (POST /v1/wallet/face-verification); nil, or one
	// without a verifier, answers 503.
	Face *hebao.FaceService
	// PaymentPasswords sets and resets payment passwords, and starts resets for
	// agents (POST /v1/agent/wallets/{id}/payment-password/reset); nil answers 503.
	PaymentPasswords *hebao.PaymentPasswordService
	// WalletStatus freezes, unfreezes and closes wallets and sets tiers, and looks
	// customers up for agents; nil answers those routes 503.
	WalletStatus *hebao.WalletStatusService
	// Tickets is customer service: tickets for customers and agents, and the
	// diagnosis of a failed payment (/v1/tickets, /v1/agent/tickets,
	// /v1/help/diagnosis); nil answers those routes 503.
	Tickets *hebao.TicketService
	// Staff signs staff in; nil answers staff sign-in and every staff route 503.
	Staff *hebao.StaffService
	// Audit reads the audit log (GET /v1/admin/audit); nil answers 503.
	Audit *hebao.AuditService
	// Ledger proves the ledger (GET /v1/admin/ledger/verify); nil answers 503.
	Ledger hebao.LedgerVerifier
	// Transfers sends money between wallets (POST /v1/transfers); nil answers 503.
	Transfers *hebao.TransferService
	// Bank tops up and withdraws through the bank (/v1/topups, /v1/withdrawals);
	// nil answers 503.
	Bank *hebao.BankService
	// Hub pushes notifications to open apps (GET /v1/events); nil answers 503.
	Hub *notify.Hub
	// Merchants creates merchants and recognises their API keys; nil answers every
	// merchant route 503.
	Merchants *hebao.MerchantService
	// Orders keeps merchant orders (/v1/merchant/orders, /v1/orders); nil answers 503.
	Orders *hebao.OrderService
	// Webhooks lists and replays webhook deliveries; nil answers 503.
	Webhooks *hebao.WebhookService
	// Campaigns creates and shows promotions (/v1/admin/campaigns); nil answers 503.
	Campaigns *hebao.CampaignService
	// Points shows customers' points and redeems them (/v1/points); nil answers
	// 503.
	Points *hebao.PointsService
	// Stats gives admins the dashboard's figures (/v1/admin/stats); nil answers 503.
	Stats *hebao.StatsService
	// Web serves the web app (package web) on the patterns WebPatterns names; nil
	// serves no pages.
	Web         http.Handler
	WebPatterns []string
	// PublicURL is where customers and shops reach this server, without a trailing
	// slash ("https://pay.example.com"): orders' QR codes link to it.
	PublicURL string
}

// Server is the HTTP API. Build it with NewServer and serve Handler.
type Server struct {
	store        hebao.Store
	log          *slog.Logger
	metrics      *Metrics
	dev          bool
	minVersion   version // nil: every client version is answered
	otp          *hebao.OTPService
	devSMS       SMSInbox // nil unless in development mode
	customers    *hebao.CustomerService
	wallets      *hebao.WalletService
	identity     *hebao.IdentityService
	cards        *hebao.CardService
	face         *hebao.FaceService
	payPasswords *hebao.PaymentPasswordService
	staff        *hebao.StaffService
	audit        *hebao.AuditService
	ledger       hebao.LedgerVerifier
	walletStatus *hebao.WalletStatusService
	tickets      *hebao.TicketService
	auth         *hebao.Authenticator
	transfers    *hebao.TransferService
	bank         *hebao.BankService
	hub          *notify.Hub
	merchants    *hebao.MerchantService
	orders       *hebao.OrderService
	webhooks     *hebao.WebhookService
	publicURL    string
	campaigns    *hebao.CampaignService
	points       *hebao.PointsService
	stats        *hebao.StatsService
	streams      context.Context // ended by StopStreams
	stopStreams  context.CancelFunc

	mux     *http.ServeMux
	routes  []string // every pattern registered, in order; the OpenAPI test walks them
	handler http.Handler
}

// NewServer returns a Server with every route registered. It fails when the
// configuration is unusable: no Store, a MinClientVersion that is not a version, or
// a DevSMS inbox outside development mode.
func NewServer(cfg Config) (*Server, error) {
	if cfg.Store == nil {
		return nil, errors.New("http: Config.Store is nil")
	}
	if cfg.DevSMS != nil && !cfg.Dev {
		return nil, errors.New("http: Config.DevSMS is set without Dev: the development SMS inbox would show customers' codes")
	}
	s := &Server{
		store:        cfg.Store,
		log:          cfg.Logger,
		metrics:      cfg.Metrics,
		dev:          cfg.Dev,
		otp:          cfg.OTP,
		devSMS:       cfg.DevSMS,
		customers:    cfg.Customers,
		wallets:      cfg.Wallets,
		identity:     cfg.Identity,
		cards:        cfg.Cards,
		face:         cfg.Face,
		payPasswords: cfg.PaymentPasswords,
		staff:        cfg.Staff,
		audit:        cfg.Audit,
		ledger:       cfg.Ledger,
		walletStatus: cfg.WalletStatus,
		tickets:      cfg.Tickets,
		auth:         &hebao.Authenticator{Customers: cfg.Customers, Staff: cfg.Staff},
		transfers:    cfg.Transfers,
		bank:         cfg.Bank,
		hub:          cfg.Hub,
		merchants:    cfg.Merchants,
		orders:       cfg.Orders,
		webhooks:     cfg.Webhooks,
		publicURL:    strings.TrimRight(cfg.PublicURL, "/"),
		campaigns:    cfg.Campaigns,
		points:       cfg.Points,
		stats:        cfg.Stats,
		mux:          http.NewServeMux(),
	}
	s.streams, s.stopStreams = context.WithCancel(context.Background())
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.metrics == nil {
		m, err := NewMetrics(nil)
		if err != nil {
			return nil, err
		}
		s.metrics = m
	}
	if cfg.MinClientVersion != "" {
		v, ok := parseVersion(cfg.MinClientVersion)
		if !ok {
			return nil, fmt.Errorf("http: MinClientVersion %q is not a dotted version such as 2.4.0", cfg.MinClientVersion)
		}
		s.minVersion = v
	}
	s.registerRoutes()
	if cfg.Web != nil {
		for _, p := range cfg.WebPatterns {
			s.mux.Handle(p, cfg.Web) // pages, not API routes: not in openapi.json
		}
	}
	s.handler = http.HandlerFunc(s.serve)
	return s, nil
}

// Handler returns the handler that serves every route, with request ids, access
// logs, metrics, panic recovery, the client version check and the body limit.
func (s *Server) Handler() http.Handler { return s.handler }

// registerRoutes is the table of contents of the API. Every pattern here must be in
// openapi.json; a test checks it.
func (s *Server) registerRoutes() {
	s.handle("GET /healthz", s.healthz)
	s.handle("GET /readyz", s.readyz)
	s.handle("GET /metrics", s.serveMetrics)
	s.handle("GET /openapi.json", s.openapi)
	s.handle("POST /v1/otp", s.sendOTP)
	if s.devSMS != nil {
		s.handle("GET /v1/dev/sms", s.listDevSMS)
	}
	s.handle("POST /v1/customers", s.register)
	s.handle("POST /v1/sessions", s.login)
	s.handle("DELETE /v1/sessions/current", s.asCustomer(s.logout))
	s.handle("DELETE /v1/sessions", s.asCustomer(s.logoutAll))
	s.handle("GET /v1/wallet", s.asCustomer(s.getWallet))
	s.handle("POST /v1/wallet/real-name", s.asCustomer(s.setRealName))
	s.handle("POST /v1/wallet/face-verification", s.asCustomer(s.verifyFace))
	s.handle("PUT /v1/wallet/payment-password", s.asCustomer(s.setPaymentPassword))
	s.handle("POST /v1/wallet/payment-password/reset", s.asCustomer(s.resetPaymentPassword))
	s.handle("POST /v1/wallet/freeze", s.freezeWallet)
	s.handle("POST /v1/wallet/unfreeze", s.asCustomer(s.unfreezeWallet))
	s.handle("POST /v1/wallet/close", s.asCustomer(s.closeWallet))
	s.handle("POST /v1/cards", s.asCustomer(s.bindCard))
	s.handle("GET /v1/cards", s.asCustomer(s.listCards))
	s.handle("DELETE /v1/cards/{id}", s.asCustomer(s.removeCard))
	s.handle("PUT /v1/cards/order", s.asCustomer(s.orderCards))
	s.handle("GET /v1/wallet/settings", s.asCustomer(s.getSettings))
	s.handle("PUT /v1/wallet/settings", s.asCustomer(s.putSettings))
	s.handle("POST /v1/transfers", s.asCustomer(s.transfer))
	s.handle("POST /v1/topups", s.asCustomer(s.topup))
	s.handle("GET /v1/topups/{id}", s.asCustomer(s.getTopup))
	s.handle("POST /v1/withdrawals", s.asCustomer(s.withdraw))
	s.handle("GET /v1/withdrawals/{id}", s.asCustomer(s.getWithdrawal))
	s.handle("GET /v1/transactions", s.asCustomer(s.listTransactions))
	s.handle("GET /v1/transactions/{id}", s.asCustomer(s.getTransaction))
	s.handle("GET /v1/notifications", s.asCustomer(s.listNotifications))
	s.handle("GET /v1/events", s.asCustomer(s.events))
	s.handle("POST /v1/staff/sessions", s.staffLogin)
	s.handle("DELETE /v1/staff/sessions/current", s.staffLogout)
	s.handle("GET /v1/admin/ledger/verify", s.asStaff(hebao.RoleAdmin, s.verifyLedger))
	s.handle("GET /v1/admin/audit", s.asStaff(hebao.RoleAdmin, s.listAudit))
	s.handle("GET /v1/agent/customers", s.asStaff(hebao.RoleAgent, s.agentFindCustomer))
	s.handle("GET /v1/agent/customers/{id}", s.asStaff(hebao.RoleAgent, s.agentGetCustomer))
	s.handle("POST /v1/agent/wallets/{id}/freeze", s.asStaff(hebao.RoleAgent, s.agentFreeze))
	s.handle("POST /v1/agent/wallets/{id}/unfreeze", s.asStaff(hebao.RoleAgent, s.agentUnfreeze))
	s.handle("GET /v1/agent/wallets/{id}/transactions", s.asStaff(hebao.RoleAgent, s.agentWalletHistory))
	s.handle("POST /v1/agent/wallets/{id}/payment-password/reset", s.asStaff(hebao.RoleAgent, s.agentStartReset))
	s.handle("POST /v1/tickets", s.asCustomer(s.openTicket))
	s.handle("GET /v1/tickets", s.asCustomer(s.listTickets))
	s.handle("GET /v1/tickets/{id}", s.asCustomer(s.getTicket))
	s.handle("POST /v1/tickets/{id}/messages", s.asCustomer(s.writeTicket))
	s.handle("GET /v1/help/diagnosis", s.asCustomer(s.diagnosis))
	s.handle("GET /v1/agent/tickets", s.asStaff(hebao.RoleAgent, s.agentListTickets))
	s.handle("GET /v1/agent/tickets/{id}", s.asStaff(hebao.RoleAgent, s.agentGetTicket))
	s.handle("POST /v1/agent/tickets/{id}/messages", s.asStaff(hebao.RoleAgent, s.agentReplyTicket))
	s.handle("POST /v1/agent/tickets/{id}/assign", s.asStaff(hebao.RoleAgent, s.agentAssignTicket))
	s.handle("POST /v1/agent/tickets/{id}/resolve", s.asStaff(hebao.RoleAgent, s.agentResolveTicket))
	s.handle("POST /v1/admin/wallets/{id}/tier", s.asStaff(hebao.RoleAdmin, s.adminSetTier))
	s.handle("POST /v1/admin/merchants", s.asStaff(hebao.RoleAdmin, s.createMerchant))
	s.handle("GET /v1/admin/merchants", s.asStaff(hebao.RoleAdmin, s.listMerchants))
	s.handle("POST /v1/merchant/orders", s.asMerchant(s.createOrder))
	s.handle("GET /v1/merchant/orders", s.asMerchant(s.listOrders))
	s.handle("GET /v1/merchant/orders/{out_trade_no}", s.asMerchant(s.getOrder))
	s.handle("POST /v1/merchant/orders/{out_trade_no}/close", s.asMerchant(s.closeOrder))
	s.handle("GET /v1/merchant/balance", s.asMerchant(s.merchantBalance))
	s.handle("GET /v1/merchant/webhook-deliveries", s.asMerchant(s.listDeliveries))
	s.handle("POST /v1/merchant/webhook-deliveries/{id}/replay", s.asMerchant(s.replayDelivery))
	s.handle("GET /v1/orders/{id}", s.asCustomer(s.getCustomerOrder))
	s.handle("POST /v1/orders/{id}/pay", s.asCustomer(s.payOrder))
	s.handle("POST /v1/merchant/refunds", s.asMerchant(s.createRefund))
	s.handle("GET /v1/merchant/refunds/{out_refund_no}", s.asMerchant(s.getRefund))
	s.handle("POST /v1/merchant/code-payments", s.asMerchant(s.codePayment))
	s.handle("POST /v1/payment-codes", s.asCustomer(s.issuePaymentCode))
	s.handle("POST /v1/payment-codes/confirm", s.asCustomer(s.confirmCodePayment))
	s.handle("GET /v1/merchant/bills/{date}", s.asMerchant(s.merchantBill))
	s.handle("GET /v1/qr/{file}", s.orderQR)
	s.handle("GET /pay/{id}", s.orderPage)
	s.handle("POST /v1/admin/campaigns", s.asStaff(hebao.RoleAdmin, s.createCampaign))
	s.handle("GET /v1/admin/campaigns", s.asStaff(hebao.RoleAdmin, s.listCampaigns))
	s.handle("GET /v1/admin/campaigns/{id}", s.asStaff(hebao.RoleAdmin, s.getCampaign))
	s.handle("GET /v1/coupons", s.asCustomer(s.listCoupons))
	s.handle("GET /v1/points", s.asCustomer(s.getPoints))
	s.handle("POST /v1/points/redeem", s.asCustomer(s.redeemPoints))
	s.handle("GET /v1/admin/stats", s.asStaff(hebao.RoleAdmin, s.adminStats))
}

// handlerFunc is the shape of every handler: it writes a success itself and returns
// any failure for the edge to render as a problem document.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle registers h for pattern, which must name a method ("GET /v1/wallet").
func (s *Server) handle(pattern string, h handlerFunc) {
	if _, _, ok := strings.Cut(pattern, " "); !ok {
		panic("http: route pattern without a method: " + pattern)
	}
	s.routes = append(s.routes, pattern)
	s.mux.HandleFunc(pattern, func(w http.ResponseWriter, r *http.Request) {
		if ex := exchangeOf(r.Context()); ex != nil {
			ex.route = pattern
		}
		if err := h(w, r); err != nil {
			s.writeError(w, r, err)
		}
	})
}

// exchange is what the edge learns about one request while it is served, for the
// access log and the metrics.
type exchange struct {
	id    string
	route string // the matched pattern; "" when no route matched
	code  string // the problem code answered, if any
}

type exchangeKey struct{}

func exchangeOf(ctx context.Context) *exchange {
	ex, _ := ctx.Value(exchangeKey{}).(*exchange)
	return ex
}

// RequestID returns the id of the request being served with ctx, or "" outside one.
// Audit records and logs below the edge carry it.
func RequestID(ctx context.Context) string {
	if ex := exchangeOf(ctx); ex != nil {
		return ex.id
	}
	return ""
}

// serve is the edge: everything every request goes through, in order.
func (s *Server) serve(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	ex := &exchange{id: requestID(r.Header.Get("X-Request-Id"))}
	w.Header().Set("X-Request-Id", ex.id)
	w.Header().Set("X-Content-Type-Options", "nosniff")
	// The domain gets the request id too, for the audit records it writes.
	r = r.WithContext(hebao.WithRequestID(context.WithValue(r.Context(), exchangeKey{}, ex), ex.id))
	sw := &statusWriter{ResponseWriter: w}

	defer func() {
		p := recover()
		if p != nil && p != http.ErrAbortHandler {
			partial := sw.status != 0
			// writeError logs the cause with the stack, and answers 500 if it still can.
			s.writeError(sw, r, fmt.Errorf("panic: %v\n%s", p, debug.Stack()))
			p = nil
			if partial {
				// Part of a response is out: cut the connection so the client cannot
				// take it for a whole one.
				p = http.ErrAbortHandler
			}
		}
		s.observe(r, ex, sw.code(), time.Since(start))
		if p != nil {
			panic(p) // http.ErrAbortHandler: net/http drops the connection quietly
		}
	}()

	if err := s.checkClientVersion(r); err != nil {
		s.writeError(sw, r, err)
		return
	}
	// The unwrapped w lets net/http close the connection after an oversize body.
	r.Body = http.MaxBytesReader(w, r.Body, maxBody)
	s.route(sw, r)
}

// route dispatches to the mux, answering with a problem document where the mux
// would answer 404 or 405 in plain text.
func (s *Server) route(w http.ResponseWriter, r *http.Request) {
	h, pattern := s.mux.Handler(r)
	if pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// No pattern matched: h is the mux's 404 or 405 answer, or a redirect to the
	// cleaned path. Run it on the side to learn which.
	rec := &recorder{header: http.Header{}}
	h.ServeHTTP(rec, r)
	switch rec.status {
	case http.StatusNotFound:
		s.writeError(w, r, hebao.Errorf(hebao.CodeNotFound, "there is no route %s %s", r.Method, truncate(r.URL.Path, 200)))
	case http.StatusMethodNotAllowed:
		w.Header().Set("Allow", rec.header.Get("Allow"))
		s.writeError(w, r, &statusError{
			status: http.StatusMethodNotAllowed,
			err:    hebao.Errorf(hebao.CodeInvalidRequest, "method %s is not allowed here; allowed: %s", truncate(r.Method, 20), rec.header.Get("Allow")),
		})
	default:
		for k, v := range rec.header {
			w.Header()[k] = v
		}
		w.WriteHeader(rec.status)
		w.Write(rec.body)
	}
}

// requestID returns the incoming id if it is safe to log and echo, else a new one.
func requestID(in string) string {
	if len(in) == 0 || len(in) > 64 {
		return hebao.NewID("req")
	}
	for _, c := range []byte(in) {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return hebao.NewID("req")
		}
	}
	return in
}

// observe writes the access log line and the request metrics. The route is the
// pattern, never the raw path: paths hold ids and queries hold phone numbers.
func (s *Server) observe(r *http.Request, ex *exchange, status int, elapsed time.Duration) {
	route := "unmatched"
	if _, path, ok := strings.Cut(ex.route, " "); ok {
		route = path
	}
	attrs := []slog.Attr{
		slog.String("method", r.Method),
		slog.String("route", route),
		slog.Int("status", status),
		slog.Duration("duration", elapsed),
		slog.String("request_id", ex.id),
	}
	if ex.code != "" {
		attrs = append(attrs, slog.String("code", ex.code))
	}
	s.log.LogAttrs(r.Context(), slog.LevelInfo, "http request", attrs...)
	s.metrics.observeRequest(route, r.Method, status, elapsed)
}

// statusWriter remembers the status written, so the edge can log it and knows
// whether a problem document can still be sent.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(status int) {
	if w.status == 0 {
		w.status = status
	}
	w.ResponseWriter.WriteHeader(status)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection (flushing, deadlines).
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// code is the status the client saw; a handler that wrote nothing sent 200.
func (w *statusWriter) code() int {
	if w.status == 0 {
		return http.StatusOK
	}
	return w.status
}

// recorder captures the mux's own answer for a request no route matched.
type recorder struct {
	header http.Header
	status int
	body   []byte
}

func (r *recorder) Header() http.Header { return r.header }

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
}

func (r *recorder) Write(b []byte) (int, error) {
	r.WriteHeader(http.StatusOK)
	r.body = append(r.body, b...)
	return len(b), nil
}

// truncate keeps s printable in a detail without echoing a huge input back.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
