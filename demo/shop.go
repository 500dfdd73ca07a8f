// Package demo is the pretend shop and till that `hebao serve --dev` serves at
// /demo/shop and /demo/till. It integrates with Hebao the way a real shop would: its
// server side holds the merchant API key and the webhook secret, calls the public
// merchant API over HTTP, and believes a payment only when a webhook with a valid
// Hebao-Signature says so. The pages (package web) talk to this server side only
// and never see either secret.
//
// It uses nothing of Hebao but the API and the webhook package, as a shop written
// in Go would.
package demo

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"
)

// Patterns are the request patterns the demo answers; the HTTP server mounts
// Handler on each, beside the pages that package web serves.
var Patterns = []string{
	"GET /demo/shop/api/",
	"POST /demo/shop/api/",
	"POST /demo/shop/webhook",
	"GET /demo/till/api/",
	"POST /demo/till/api/",
}

// Shop is the demo shop and till of one merchant.
type Shop struct {
	// API is the base URL of the Hebao server, without a trailing slash
	// ("http://127.0.0.1:8080"). The webhook URL the shop registers is API +
	// "/demo/shop/webhook", so the server must accept loopback http notify_urls
	// (--dev). Set it before serving.
	API string
	// APIKey is the merchant's API key (mk_…); WebhookSecret its webhook secret
	// (whsec_…). Neither is ever logged or sent to a browser.
	APIKey        string
	WebhookSecret string
	// Client calls the API; nil uses a client with a 15-second time-out and no proxy.
	Client *http.Client
	// Now is the clock the webhook signatures are checked against; nil is time.Now.
	Now func() time.Time
	// Log receives the webhooks refused and the API calls that failed; nil discards.
	Log *slog.Logger

	once   sync.Once
	client *http.Client
	log    *slog.Logger

	mu      sync.Mutex
	orders  map[string]*order // by out_trade_no: the shop's orders
	charges map[string]bool   // out_trade_nos the till made
	events  map[string]bool   // webhook event ids processed
	recent  []string          // out_trade_nos, oldest first, to forget the oldest
}

// maxKept is how many orders and charges the shop remembers: it keeps them in memory
// only, and a long-running server should not grow without end.
const maxKept = 1000

func (s *Shop) init() {
	s.once.Do(func() {
		s.client = s.Client
		if s.client == nil {
			s.client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{Proxy: nil}}
		}
		s.log = s.Log
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		s.orders = map[string]*order{}
		s.charges = map[string]bool{}
		s.events = map[string]bool{}
	})
}

// base is the API's base URL without a trailing slash.
func (s *Shop) base() string { return strings.TrimRight(s.API, "/") }

func (s *Shop) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Handler serves the shop's and the till's JSON under /demo/shop/api/ and
// /demo/till/api/, and the webhook at /demo/shop/webhook.
func (s *Shop) Handler() http.Handler {
	s.init()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /demo/shop/api/products", s.listProducts)
	mux.HandleFunc("POST /demo/shop/api/orders", s.createOrder)
	mux.HandleFunc("GET /demo/shop/api/orders/{no}", s.getOrder)
	mux.HandleFunc("POST /demo/shop/webhook", s.webhook)
	mux.HandleFunc("POST /demo/till/api/charges", s.charge)
	mux.HandleFunc("GET /demo/till/api/charges/{no}", s.getCharge)
	mux.HandleFunc("POST /demo/till/api/charges/{no}/close", s.closeCharge)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		if _, pattern := mux.Handler(r); pattern == "" {
			writeProblem(w, http.StatusNotFound, "not_found", "the demo has no "+r.Method+" "+r.URL.Path)
			return
		}
		mux.ServeHTTP(w, r)
	})
}

// apiOrder is an order as the merchant API (and its webhooks) show it: the fields
// the shop uses.
type apiOrder struct {
	ID         string     `json:"id"`
	OutTradeNo string     `json:"out_trade_no"`
	Status     string     `json:"status"`
	Amount     int64      `json:"amount"`
	Subject    string     `json:"subject"`
	Refunded   int64      `json:"refunded"`
	PaidAt     *time.Time `json:"paid_at,omitempty"`
	ExpiresAt  time.Time  `json:"expires_at"`
	QRPayload  string     `json:"qr_payload,omitempty"`
	QRURL      string     `json:"qr_url,omitempty"`
}

// apiError is an answer of the merchant API that is not 2xx, or no answer at all
// (Status 0).
type apiError struct {
	Status int
	Code   string
	Detail string
}

func (e *apiError) Error() string {
	if e.Status == 0 {
		return "hebao unreachable: " + e.Detail
	}
	return fmt.Sprintf("hebao answered %d %s: %s", e.Status, e.Code, e.Detail)
}

// call sends a request to the merchant API with the shop's key and decodes a 2xx
// answer into out. Any other answer is an *apiError.
func (s *Shop) call(ctx context.Context, method, path string, in, out any) error {
	var body io.Reader
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(ctx, method, s.base()+path, body)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+s.APIKey)
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := s.client.Do(req)
	if err != nil {
		// The error names the URL, never the key.
		return &apiError{Detail: err.Error()}
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return &apiError{Detail: err.Error()}
	}
	if resp.StatusCode/100 != 2 {
		var p struct {
			Code   string `json:"code"`
			Detail string `json:"detail"`
		}
		json.Unmarshal(b, &p)
		return &apiError{Status: resp.StatusCode, Code: p.Code, Detail: p.Detail}
	}
	if out == nil {
		return nil
	}
	return json.Unmarshal(b, out)
}

// fail answers the browser for a failed call to the API. The API's own refusals
// (4xx: a wrong payment code, a closed order…) are passed on with their code and
// detail; a refused key, a fault or no answer is the shop's problem, 502.
func (s *Shop) fail(w http.ResponseWriter, r *http.Request, err error) {
	var ae *apiError
	if errors.As(err, &ae) && ae.Status >= 400 && ae.Status < 500 && ae.Status != http.StatusUnauthorized {
		writeProblem(w, ae.Status, ae.Code, ae.Detail)
		return
	}
	s.log.Warn("demo: the merchant API call failed", "method", r.Method, "path", r.URL.Path, "err", err)
	writeProblem(w, http.StatusBadGateway, "hebao_unavailable", "the shop could not reach Hebao's merchant API; see the server log")
}

// writeProblem answers an RFC 9457 problem document, the same shape as the API's, so
// that the pages show every error the same way.
func writeProblem(w http.ResponseWriter, status int, code, detail string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(struct {
		Title  string `json:"title"`
		Status int    `json:"status"`
		Code   string `json:"code"`
		Detail string `json:"detail"`
	}{http.StatusText(status), status, code, detail})
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(v)
}

// decode reads a small JSON body into v, refusing unknown fields.
func decode(r *http.Request, v any) error {
	d := json.NewDecoder(io.LimitReader(r.Body, 16<<10))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return errors.New("the body is not the JSON expected: " + err.Error())
	}
	return nil
}

// newNumber returns a fresh out_trade_no such as DEMO-20261126-K3Q9ZT7M: the prefix,
// the China date, and 8 random letters and digits.
func newNumber(prefix string, now time.Time) string {
	const alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"
	b := make([]byte, 8)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return prefix + "-" + now.In(chinaTime).Format("20060102") + "-" + string(b)
}

var chinaTime = time.FixedZone("CST", 8*3600)

// remember keeps no in the list of recent numbers and forgets the oldest order or
// charge past maxKept. The caller holds s.mu.
func (s *Shop) remember(no string) {
	s.recent = append(s.recent, no)
	for len(s.recent) > maxKept {
		delete(s.orders, s.recent[0])
		delete(s.charges, s.recent[0])
		s.recent = s.recent[1:]
	}
}
