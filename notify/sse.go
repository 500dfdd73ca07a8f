package notify

import (
	"encoding/json"
	"fmt"
	"net/http"
	"time"
)

// KeepAlive is how often ServeEvents writes a comment to an idle stream, so that
// proxies and load balancers keep the connection open.
const KeepAlive = 15 * time.Second

// ServeEvents streams the customer's notifications to w as Server-Sent Events until
// the client goes away: an event "notification" per notification, with its id and
// its View as JSON data. The caller has authenticated the customer.
func ServeEvents(w http.ResponseWriter, r *http.Request, hub *Hub, customerID string) {
	serveEvents(w, r, hub, customerID, KeepAlive)
}

func serveEvents(w http.ResponseWriter, r *http.Request, hub *Hub, customerID string, keepAlive time.Duration) {
	// Subscribe before answering, so that nothing published after the client saw
	// the first line is missed.
	ch, cancel := hub.Subscribe(customerID)
	defer cancel()
	rc := http.NewResponseController(w)
	_ = rc.SetWriteDeadline(time.Time{}) // a stream outlives the server's write timeout
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no") // nginx: pass events on at once
	w.WriteHeader(http.StatusOK)
	if _, err := fmt.Fprint(w, ": connected\n\n"); err != nil || rc.Flush() != nil {
		return
	}
	tick := time.NewTicker(keepAlive)
	defer tick.Stop()
	for {
		select {
		case <-r.Context().Done():
			return
		case <-tick.C:
			if _, err := fmt.Fprint(w, ": keep-alive\n\n"); err != nil || rc.Flush() != nil {
				return
			}
		case n, ok := <-ch:
			if !ok {
				return
			}
			data, err := json.Marshal(NewView(n))
			if err != nil {
				return
			}
			if _, err := fmt.Fprintf(w, "id: %s\nevent: notification\ndata: %s\n\n", n.ID, data); err != nil || rc.Flush() != nil {
				return
			}
		}
	}
}
