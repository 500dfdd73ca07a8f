package webhook

import (
	"bytes"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"
)

// DeliveryTimeout bounds one delivery attempt, from dialing to reading the answer.
const DeliveryTimeout = 5 * time.Second

// The parts of an answer Deliver reads.
const (
	maxResponse = 64 << 10 // bytes of the body read at most
	maxSnippet  = 256      // bytes of the body kept in Result.ResponseSnippet
)

// Client returns an HTTP client for delivering webhooks under the policy. It checks
// every address it connects to with the policy's rules, after name resolution, so a
// host that resolves to a public address at CheckURL and to a private one at delivery
// (DNS rebinding) is still refused: the dial fails with an error matching ErrBadURL.
// It never follows redirects (Do returns the 3xx answer itself), ignores any proxy
// set in the environment, and gives up on an attempt after timeout (DeliveryTimeout
// when not positive). It resolves names with the policy's Resolver when that is a
// *net.Resolver, and with the system's otherwise.
func (p Policy) Client(timeout time.Duration) *http.Client {
	if timeout <= 0 {
		timeout = DeliveryTimeout
	}
	d := &net.Dialer{Timeout: timeout, Control: p.control}
	if r, ok := p.Resolver.(*net.Resolver); ok {
		d.Resolver = r
	}
	return &http.Client{
		Transport: &http.Transport{
			Proxy:                 nil, // a proxy would dial for us, unchecked
			DialContext:           d.DialContext,
			ForceAttemptHTTP2:     true,
			TLSHandshakeTimeout:   timeout,
			ResponseHeaderTimeout: timeout,
			MaxIdleConns:          100,
			MaxIdleConnsPerHost:   4,
			IdleConnTimeout:       90 * time.Second,
		},
		Timeout: timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// Result is the outcome of one delivery attempt.
type Result struct {
	StatusCode int   // the receiver's HTTP status; 0 if no answer came back
	Err        error // why no answer came back; nil when one did, whatever its status
	Duration   time.Duration
	// ResponseSnippet is the start of the answer's body, at most 256 bytes of it, made
	// valid UTF-8, for the merchant to see in the delivery log.
	ResponseSnippet string
}

// OK reports whether the receiver took the event: it answered 2xx.
func (r Result) OK() bool {
	return r.Err == nil && r.StatusCode >= 200 && r.StatusCode <= 299
}

// Deliver makes one attempt to POST the event's JSON body to url with client (nil:
// a client of the zero Policy), signed with secret at now and carrying eventID in
// the Hebao-Event-Id header. It reads at most 64 KiB of the answer. Every failure is
// reported in the Result; when to try again is for the caller to decide (NextAttempt).
func Deliver(ctx context.Context, client *http.Client, url string, secret []byte, eventID string, body []byte, now time.Time) Result {
	if client == nil {
		client = Policy{}.Client(DeliveryTimeout)
	}
	start := time.Now()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return Result{Err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", UserAgent)
	req.Header.Set(SignatureHeader, Sign(secret, now, body))
	req.Header.Set(EventIDHeader, eventID)
	resp, err := client.Do(req)
	if err != nil {
		return Result{Err: err, Duration: time.Since(start)}
	}
	defer resp.Body.Close()
	// A body that fails to read half-way still leaves the status, which decides.
	answer, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	return Result{
		StatusCode:      resp.StatusCode,
		Duration:        time.Since(start),
		ResponseSnippet: snippet(answer),
	}
}

// snippet returns the first maxSnippet bytes of b as valid UTF-8: a character cut at
// the end is dropped, and bytes that are not UTF-8 become U+FFFD.
func snippet(b []byte) string {
	if len(b) > maxSnippet {
		i := maxSnippet
		// Step back to the start of the character cut in two, if any.
		for j := 0; j < utf8.UTFMax-1 && i > 0 && !utf8.RuneStart(b[i]); j++ {
			i--
		}
		b = b[:i]
	}
	return strings.ToValidUTF8(string(b), "\uFFFD")
}
