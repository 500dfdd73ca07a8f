package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hebaopay/hebao/webhook"
)

// hookReceiver is a merchant's webhook endpoint in the test process: it checks each
// delivery's signature and records, per event id, when it came and how it ended. On
// request it holds the deliveries that arrive, unanswered, until released, so that a
// server can be killed while it has some in flight.
type hookReceiver struct {
	secret []byte

	mu       sync.Mutex
	events   map[string]*hookEvent // by event id
	holding  chan struct{}         // while deliveries are held: closed to release them
	held     int                   // deliveries held since the last hold
	cut      int                   // held deliveries whose sender went away, in all
	problems []string
}

// hookEvent is what reached the receiver of one event.
type hookEvent struct {
	typ         string
	outTradeNo  string
	outRefundNo string
	arrivals    []time.Time // every delivery of it
	answered    int         // deliveries answered 200
	cutAt       []time.Time // held deliveries whose sender went away, and when
}

func (e hookEvent) String() string {
	var at []string
	for _, a := range e.arrivals {
		at = append(at, "+"+a.Sub(e.arrivals[0]).Round(time.Millisecond).String())
	}
	return fmt.Sprintf("%s %s%s: arrived at %s, answered %d, cut off %d", e.typ, e.outTradeNo, e.outRefundNo, strings.Join(at, " "), e.answered, len(e.cutAt))
}

func newHookReceiver(secret string) *hookReceiver {
	return &hookReceiver{secret: []byte(secret), events: map[string]*hookEvent{}}
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	now := time.Now()
	if err != nil {
		return
	}
	var e struct {
		ID   string `json:"id"`
		Type string `json:"type"`
		Data struct {
			OutTradeNo  string `json:"out_trade_no"`
			OutRefundNo string `json:"out_refund_no"`
		} `json:"data"`
	}
	h.mu.Lock()
	switch {
	case webhook.Verify(h.secret, r.Header.Get(webhook.SignatureHeader), body, now, 0) != nil:
		h.problems = append(h.problems, fmt.Sprintf("a delivery's signature does not verify: %s", body))
	case json.Unmarshal(body, &e) != nil || e.ID == "" || e.ID != r.Header.Get(webhook.EventIDHeader):
		h.problems = append(h.problems, fmt.Sprintf("a delivery with event id header %q: %s", r.Header.Get(webhook.EventIDHeader), body))
	}
	ev := h.events[e.ID]
	if ev == nil {
		ev = &hookEvent{typ: e.Type, outTradeNo: e.Data.OutTradeNo, outRefundNo: e.Data.OutRefundNo}
		h.events[e.ID] = ev
	}
	ev.arrivals = append(ev.arrivals, now)
	hold := h.holding
	if hold != nil {
		h.held++
	}
	h.mu.Unlock()
	if hold != nil {
		select {
		case <-hold:
		case <-r.Context().Done(): // the sender hung up: its process died
			h.mu.Lock()
			h.cut++
			ev.cutAt = append(ev.cutAt, time.Now())
			h.mu.Unlock()
			return
		}
	}
	w.WriteHeader(http.StatusOK)
	h.mu.Lock()
	ev.answered++
	h.mu.Unlock()
}

// hold makes the deliveries that arrive from now on wait for release, or for the
// next hold, which lets those held so far go.
func (h *hookReceiver) hold() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.holding != nil {
		close(h.holding)
	}
	h.holding, h.held = make(chan struct{}), 0
}

// release answers the held deliveries, and those that arrive later at once.
func (h *hookReceiver) release() {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.holding != nil {
		close(h.holding)
		h.holding = nil
	}
}

// counts returns how many deliveries were held since the last hold, and how many
// held deliveries in all their sender gave up by going away.
func (h *hookReceiver) counts() (held, cut int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.held, h.cut
}

// snapshot returns a copy of what reached the receiver, by event id.
func (h *hookReceiver) snapshot() (map[string]hookEvent, []string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make(map[string]hookEvent, len(h.events))
	for id, ev := range h.events {
		c := *ev
		c.arrivals = append([]time.Time(nil), ev.arrivals...)
		c.cutAt = append([]time.Time(nil), ev.cutAt...)
		out[id] = c
	}
	return out, append([]string(nil), h.problems...)
}
