package notify

import (
	"sync"

	"github.com/hebaopay/hebao"
)

// SubscriberBuffer is how many notifications a subscriber may fall behind before
// the Hub drops the next ones for it.
const SubscriberBuffer = 32

// Hub passes notifications to the subscribers of their customer, in process: each
// open event stream is one subscriber. A subscriber that falls behind loses
// notifications rather than slowing the publisher; the inbox still has them. The
// zero Hub is ready; a Hub is safe for concurrent use.
type Hub struct {
	mu   sync.Mutex
	subs map[string]map[chan hebao.Notification]struct{} // by customer id
}

// NewHub returns an empty Hub.
func NewHub() *Hub { return &Hub{} }

// Subscribe returns a channel receiving the customer's notifications published from
// now on, and a function that ends the subscription and closes the channel; calling
// it again does nothing.
func (h *Hub) Subscribe(customerID string) (<-chan hebao.Notification, func()) {
	ch := make(chan hebao.Notification, SubscriberBuffer)
	h.mu.Lock()
	if h.subs == nil {
		h.subs = map[string]map[chan hebao.Notification]struct{}{}
	}
	if h.subs[customerID] == nil {
		h.subs[customerID] = map[chan hebao.Notification]struct{}{}
	}
	h.subs[customerID][ch] = struct{}{}
	h.mu.Unlock()
	var once sync.Once
	return ch, func() {
		once.Do(func() {
			h.mu.Lock()
			defer h.mu.Unlock()
			delete(h.subs[customerID], ch)
			if len(h.subs[customerID]) == 0 {
				delete(h.subs, customerID)
			}
			close(ch)
		})
	}
}

// Publish passes n to the subscribers of n.CustomerID without waiting for any, and
// returns how many it reached (not counting those too far behind to take it).
func (h *Hub) Publish(n hebao.Notification) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	sent := 0
	for ch := range h.subs[n.CustomerID] {
		select {
		case ch <- n:
			sent++
		default:
		}
	}
	return sent
}
