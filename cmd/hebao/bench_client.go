package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// benchClient sends the bench's requests over one pool of keep-alive connections,
// spreading them round-robin over the servers.
type benchClient struct {
	urls []string
	next atomic.Uint64
	tr   *http.Transport
	hc   *http.Client
}

// newBenchClient keeps up to conns idle connections to each server, so that every
// worker keeps its own connection alive.
func newBenchClient(urls []string, conns int, timeout time.Duration) *benchClient {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 10 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        conns * len(urls),
		MaxIdleConnsPerHost: conns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &benchClient{urls: urls, tr: tr, hc: &http.Client{Transport: tr, Timeout: timeout}}
}

func (c *benchClient) close() { c.tr.CloseIdleConnections() }

// server returns the next server, round-robin.
func (c *benchClient) server() string {
	return c.urls[int(c.next.Add(1)%uint64(len(c.urls)))]
}

// benchCall is one request of the bench.
type benchCall struct {
	server string // "" for the next one round-robin
	method string
	path   string
	token  string // Authorization: Bearer
	key    string // Idempotency-Key
	body   any    // sent as JSON unless nil
	want   int    // the status of success
	// replay is another status of success: a merchant's request sent again with
	// the same out_trade_no answers 200 with what the first did.
	replay int
	out    any // where a successful answer is decoded, if not nil
	// retry says that sending the request again cannot do anything twice: a GET, or
	// a request whose Idempotency-Key or out_trade_no makes the server answer a
	// repeat with the first answer.
	retry bool
}

// benchError is a request that did not get its answer of success.
type benchError struct {
	code   string // the problem document's code, http_<status>, transport or bad_response
	status int
	detail string
	// unknown is set when the request may have taken effect: it was sent, and no
	// answer came back.
	unknown bool
}

func (e *benchError) Error() string {
	if e.status != 0 {
		return fmt.Sprintf("%d %s: %s", e.status, e.code, e.detail)
	}
	return e.code + ": " + e.detail
}

// errorCode is the code the report counts err under.
func errorCode(err error) string {
	var be *benchError
	if errors.As(err, &be) {
		return be.code
	}
	return "transport"
}

// do sends the call, again (up to three times in all) after a transport failure if
// the call may be retried, and after 409 idempotency_key_in_use.
func (c *benchClient) do(ctx context.Context, call benchCall) error {
	var body []byte
	if call.body != nil {
		var err error
		if body, err = json.Marshal(call.body); err != nil {
			return err
		}
	}
	server := call.server
	if server == "" {
		server = c.server()
	}
	var err error
	for attempt := 0; attempt < 3; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return err
			case <-time.After(time.Duration(attempt) * 100 * time.Millisecond):
			}
		}
		err = c.once(ctx, server, call, body)
		var be *benchError
		if !errors.As(err, &be) || !(be.unknown && call.retry || be.code == "idempotency_key_in_use") {
			return err
		}
	}
	return err
}

func (c *benchClient) once(ctx context.Context, server string, call benchCall, body []byte) error {
	req, err := http.NewRequestWithContext(ctx, call.method, server+call.path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if call.token != "" {
		req.Header.Set("Authorization", "Bearer "+call.token)
	}
	if call.key != "" {
		req.Header.Set("Idempotency-Key", call.key)
	}
	req.Header.Set("User-Agent", "hebao-bench")
	resp, err := c.hc.Do(req)
	if err != nil {
		return &benchError{code: "transport", detail: err.Error(), unknown: true}
	}
	b, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	resp.Body.Close()
	if err != nil {
		return &benchError{code: "transport", detail: err.Error(), unknown: true}
	}
	if resp.StatusCode != call.want && (call.replay == 0 || resp.StatusCode != call.replay) {
		var p struct {
			Code   string `json:"code"`
			Detail string `json:"detail"`
		}
		if json.Unmarshal(b, &p) != nil || p.Code == "" {
			p.Code = "http_" + strconv.Itoa(resp.StatusCode)
			p.Detail = string(b)
		}
		// A 5xx may come after the work was done (a time-out at the database, say).
		return &benchError{code: p.Code, status: resp.StatusCode, detail: p.Detail, unknown: resp.StatusCode >= 500}
	}
	if call.out != nil {
		if err := json.Unmarshal(b, call.out); err != nil {
			return &benchError{code: "bad_response", status: resp.StatusCode, detail: fmt.Sprintf("%s %s: %v", call.method, call.path, err)}
		}
	}
	return nil
}
