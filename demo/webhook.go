package demo

import (
	"encoding/json"
	"io"
	"net/http"

	"github.com/hebaopay/hebao/webhook"
)

// event is the body of every webhook (docs/webhooks.md).
type event struct {
	ID   string          `json:"id"`
	Type string          `json:"type"`
	Data json.RawMessage `json:"data"`
}

// webhook is POST /demo/shop/webhook: Hebao's signed events about the shop's
// orders. A request whose Hebao-Signature does not sign its body with the webhook
// secret, or was signed more than 5 minutes from now, is answered 400 and changes
// nothing. A verified event is applied once (deduplicated on its id) and answered
// 204, as is a duplicate.
func (s *Shop) webhook(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the body could not be read")
		return
	}
	// The raw body, byte for byte, before any parsing: re-encoded JSON would not match.
	if err := webhook.Verify([]byte(s.WebhookSecret), r.Header.Get(webhook.SignatureHeader), body, s.now(), webhook.DefaultTolerance); err != nil {
		s.log.Warn("demo: webhook refused", "err", err)
		writeProblem(w, http.StatusBadRequest, "bad_signature", "the Hebao-Signature does not verify")
		return
	}
	var e event
	if err := json.Unmarshal(body, &e); err != nil || e.ID == "" {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the body is not a Hebao event")
		return
	}
	var o apiOrder
	switch e.Type {
	case "order.paid", "order.closed":
		err = json.Unmarshal(e.Data, &o)
	case "refund.succeeded":
		var rf struct {
			Order apiOrder `json:"order"`
		}
		err = json.Unmarshal(e.Data, &rf)
		o = rf.Order
	default:
		// A kind of event this shop does not know: acknowledged, ignored.
		w.WriteHeader(http.StatusNoContent)
		return
	}
	if err != nil || o.OutTradeNo == "" {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "the event's data is not an order or a refund")
		return
	}
	s.apply(e, o)
	w.WriteHeader(http.StatusNoContent)
}

// apply records a verified event about the order o, once per event id.
func (s *Shop) apply(e event, o apiOrder) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.events[e.ID] {
		return
	}
	if len(s.events) >= 10*maxKept {
		clear(s.events) // memory stays bounded; an event this old will not come again
	}
	s.events[e.ID] = true
	so, ok := s.orders[o.OutTradeNo]
	if !ok {
		// An order the shop forgot (it keeps them in memory only) or made before a
		// restart: Hebao signed it, so keep what it says.
		so = &order{OutTradeNo: o.OutTradeNo, OrderID: o.ID, Subject: o.Subject, Amount: o.Amount, State: stateUnpaid,
			Events: []string{}, ExpiresAt: o.ExpiresAt}
		s.orders[o.OutTradeNo] = so
		s.remember(o.OutTradeNo)
	}
	so.Events = append(so.Events, e.Type+" "+e.ID)
	// The state follows the order in the event, not the event's type, and only ever
	// moves forward: a late order.paid does not undo a refund.
	state := map[string]string{"SUCCESS": statePaid, "REFUND": stateRefunded, "CLOSED": stateClosed}[o.Status]
	if e.Type == "refund.succeeded" {
		state = stateRefunded
	}
	if state != "" && rank[state] > rank[so.State] {
		so.State = state
	}
	so.Refunded = max(so.Refunded, o.Refunded)
	so.HebaoStatus = o.Status
}
