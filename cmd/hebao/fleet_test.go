package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"syscall"
	"time"
)

// fleet sends a load's requests to several servers sharing one database. A request
// that gets no answer — its server died, or is gone — is sent again, the same
// request with the same Idempotency-Key, out_trade_no or out_refund_no, to the next
// server, as a client behind a load balancer would; so is one answered with a 5xx,
// which is recorded for the test to fail on. A 409 that says to try again
// (idempotency_key_in_use, conflict) is tried again.
type fleet struct {
	urls []string
	hc   *http.Client

	mu        sync.Mutex
	killed    int       // the server the test killed, -1 while none
	killedAt  time.Time // when
	served    []int     // 2xx answers, per server
	afterKill int       // 2xx answers from the others to requests first sent after the kill
	cutOff    int       // requests sent again elsewhere after their server went away mid-request
	refused   int       // requests that found their server gone and went to the next
	faults    []string  // the 5xx answers
}

func newFleet(urls ...string) *fleet {
	tr := &http.Transport{MaxIdleConnsPerHost: 32, DisableCompression: true}
	return &fleet{urls: urls, hc: &http.Client{Transport: tr, Timeout: 30 * time.Second}, killed: -1, served: make([]int, len(urls))}
}

func (f *fleet) close() { f.hc.CloseIdleConnections() }

// kill records that the test killed server i.
func (f *fleet) kill(i int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.killed, f.killedAt = i, time.Now()
}

// fleetStats is what a fleet counted.
type fleetStats struct {
	served          []int
	afterKill       int
	cutOff, refused int
	faults          []string
}

// stats returns what the fleet counted so far.
func (f *fleet) stats() fleetStats {
	f.mu.Lock()
	defer f.mu.Unlock()
	return fleetStats{append([]int(nil), f.served...), f.afterKill, f.cutOff, f.refused, append([]string(nil), f.faults...)}
}

// call is one request of the load.
type call struct {
	method, path string
	token        string // Authorization: Bearer
	key          string // Idempotency-Key
	body         any    // sent as JSON unless nil
}

// answer is a server's answer to a call.
type answer struct {
	status int
	code   string // the problem document's code, when it is one
	body   []byte
	server int
}

func (a answer) String() string { return fmt.Sprintf("%d %s", a.status, bytes.TrimSpace(a.body)) }

// send sends c to server prefer (modulo the number of servers) until a server
// answers it with anything but a 5xx or a 409 to retry, moving to the next server
// when one gives no answer or a 5xx. It gives up with an error when ctx ends.
func (f *fleet) send(ctx context.Context, prefer int, c call) (answer, error) {
	var body []byte
	if c.body != nil {
		var err error
		if body, err = json.Marshal(c.body); err != nil {
			return answer{}, err
		}
	}
	first := time.Now()
	i := prefer % len(f.urls)
	var last string
	for attempt := 0; ; attempt++ {
		if attempt > 0 {
			select {
			case <-ctx.Done():
				return answer{}, fmt.Errorf("%s %s: no final answer in %d attempts (the last: %s): %w", c.method, c.path, attempt, last, ctx.Err())
			case <-time.After(min(time.Duration(attempt)*10*time.Millisecond, 200*time.Millisecond)):
			}
		}
		a, err := f.once(ctx, i, c, body)
		switch {
		case err != nil && ctx.Err() == nil:
			f.mu.Lock()
			if errors.Is(err, syscall.ECONNREFUSED) {
				f.refused++
			} else {
				f.cutOff++
			}
			f.mu.Unlock()
			last = err.Error()
			i = (i + 1) % len(f.urls)
			continue
		case err != nil:
			last = err.Error()
			continue // ends at the top
		case a.status >= 500:
			f.mu.Lock()
			f.faults = append(f.faults, fmt.Sprintf("server %d: %s %s: %s", i+1, c.method, c.path, a))
			f.mu.Unlock()
			last = a.String()
			i = (i + 1) % len(f.urls)
			continue
		case a.status == http.StatusConflict && (a.code == "idempotency_key_in_use" || a.code == "conflict"):
			last = a.String()
			continue
		}
		if a.status < 300 {
			f.mu.Lock()
			f.served[i]++
			if f.killed >= 0 && i != f.killed && first.After(f.killedAt) {
				f.afterKill++
			}
			f.mu.Unlock()
		}
		return a, nil
	}
}

// once sends c to server i once.
func (f *fleet) once(ctx context.Context, i int, c call, body []byte) (answer, error) {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, c.method, f.urls[i]+c.path, rd)
	if err != nil {
		return answer{}, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if c.key != "" {
		req.Header.Set("Idempotency-Key", c.key)
	}
	resp, err := f.hc.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return answer{}, err
	}
	a := answer{status: resp.StatusCode, body: b, server: i}
	if a.status >= 300 {
		var p struct {
			Code string `json:"code"`
		}
		if json.Unmarshal(b, &p) == nil {
			a.code = p.Code
		}
	}
	return a, nil
}

// get reads path from server i (or the next ones) into out, expecting 200.
func (f *fleet) get(ctx context.Context, i int, path, token string, out any) error {
	a, err := f.send(ctx, i, call{method: "GET", path: path, token: token})
	if err != nil {
		return err
	}
	if a.status != http.StatusOK {
		return fmt.Errorf("GET %s: %s", path, a)
	}
	return json.Unmarshal(a.body, out)
}

// pages reads every page of a list (?limit=100&cursor=) from server i, newest first.
func pages[T any](ctx context.Context, f *fleet, i int, path, token string) ([]T, error) {
	var all []T
	cursor := ""
	for {
		var page struct {
			Items      []T     `json:"items"`
			NextCursor *string `json:"next_cursor"`
		}
		p := path + "?limit=100"
		if cursor != "" {
			p += "&cursor=" + cursor
		}
		if err := f.get(ctx, i, p, token, &page); err != nil {
			return nil, err
		}
		all = append(all, page.Items...)
		if page.NextCursor == nil {
			return all, nil
		}
		cursor = *page.NextCursor
	}
}
