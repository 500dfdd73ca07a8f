package demo

import (
	"net/http"
	"time"
)

// product is one thing the demo shop sells.
type product struct {
	ID     string `json:"id"`
	Name   string `json:"name"`    // Chinese
	NameEn string `json:"name_en"` // English
	Price  int64  `json:"price"`   // fen
}

// products is the shop's catalogue. The tote bag costs more than ¥30, so the demo
// campaign's "¥5 off ¥30" coupon applies to it.
var products = []product{
	{"latte", "拿铁咖啡", "Latte", 1800},
	{"croissant", "牛角包", "Croissant", 1250},
	{"tote", "荷包帆布袋", "Hebao tote bag", 3900},
	{"mooncakes", "月饼礼盒", "Box of mooncakes", 12800},
}

// orderExpiry is how long a shop order can be paid.
const orderExpiry = 15 * time.Minute

// The states of a shop order, as the shop knows them from verified webhooks.
const (
	stateUnpaid   = "unpaid"
	stateClosed   = "closed"
	statePaid     = "paid"
	stateRefunded = "refunded"
)

// rank orders the states so that an event arriving late cannot move an order back
// (Hebao does not promise to deliver events in order).
var rank = map[string]int{stateUnpaid: 0, stateClosed: 1, statePaid: 2, stateRefunded: 3}

// order is what the shop keeps about one of its orders.
type order struct {
	OutTradeNo string    `json:"out_trade_no"`
	OrderID    string    `json:"order_id"` // Hebao's ord_…
	Product    string    `json:"product,omitempty"`
	Subject    string    `json:"subject"`
	Amount     int64     `json:"amount"`
	State      string    `json:"state"`    // unpaid, paid, refunded, closed: from verified webhooks only
	Refunded   int64     `json:"refunded"` // fen, from verified webhooks
	Events     []string  `json:"events"`   // the verified events, "order.paid evt_…", oldest first
	QRURL      string    `json:"qr_url,omitempty"`
	PayURL     string    `json:"pay_url,omitempty"`
	ExpiresAt  time.Time `json:"expires_at"`
	// HebaoStatus is the order's status as the API says it now (SUCCESS, NOTPAY…),
	// shown beside the shop's own state; the shop does not act on it.
	HebaoStatus string `json:"hebao_status,omitempty"`
}

// listProducts is GET /demo/shop/api/products.
func (s *Shop) listProducts(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, struct {
		Items []product `json:"items"`
	}{products})
}

// createOrder is POST /demo/shop/api/orders {product_id} → 201 the shop's order, with
// the QR code and pay link Hebao gave for it: the shop's server creates the order
// through POST /v1/merchant/orders, asking for webhooks at /demo/shop/webhook.
func (s *Shop) createOrder(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ProductID string `json:"product_id"`
	}
	if err := decode(r, &req); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	var p *product
	for i := range products {
		if products[i].ID == req.ProductID {
			p = &products[i]
		}
	}
	if p == nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", "there is no product "+req.ProductID)
		return
	}
	no := newNumber("DEMO", s.now())
	var o apiOrder
	err := s.call(r.Context(), "POST", "/v1/merchant/orders", map[string]any{
		"out_trade_no": no, "amount": p.Price, "subject": p.Name + " " + p.NameEn,
		"expires_in": int(orderExpiry / time.Second), "notify_url": s.base() + "/demo/shop/webhook",
	}, &o)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	so := &order{OutTradeNo: o.OutTradeNo, OrderID: o.ID, Product: p.ID, Subject: o.Subject, Amount: o.Amount,
		State: stateUnpaid, Events: []string{}, QRURL: o.QRURL, PayURL: o.QRPayload, ExpiresAt: o.ExpiresAt, HebaoStatus: o.Status}
	s.mu.Lock()
	if prev, ok := s.orders[no]; ok { // a webhook came first (in theory)
		prev.OrderID, prev.Product, prev.QRURL, prev.PayURL = so.OrderID, so.Product, so.QRURL, so.PayURL
		so = prev
	} else {
		s.orders[no] = so
		s.remember(no)
	}
	out := *so
	out.Events = append([]string{}, so.Events...)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, out)
}

// getOrder is GET /demo/shop/api/orders/{no}: the shop's order, its state as the
// verified webhooks left it, and Hebao's status of it now.
func (s *Shop) getOrder(w http.ResponseWriter, r *http.Request) {
	no := r.PathValue("no")
	s.mu.Lock()
	so, ok := s.orders[no]
	s.mu.Unlock()
	if !ok {
		writeProblem(w, http.StatusNotFound, "not_found", "the shop has no order "+no)
		return
	}
	// Hebao's status is for show only: the shop acts on verified webhooks.
	var o apiOrder
	status := ""
	if err := s.call(r.Context(), "GET", "/v1/merchant/orders/"+no, nil, &o); err == nil {
		status = o.Status
	} else {
		s.log.Warn("demo: could not read an order from the merchant API", "out_trade_no", no, "err", err)
	}
	s.mu.Lock()
	if status != "" {
		so.HebaoStatus = status
	}
	out := *so
	out.Events = append([]string{}, so.Events...)
	s.mu.Unlock()
	writeJSON(w, http.StatusOK, out)
}
