package http

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/qr"
)

// merchantHandler serves a merchant API route for the merchant m, and only ever
// shows or changes m's own things.
type merchantHandler func(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error

// asMerchant lets only a merchant, by its API key (Authorization: Bearer mk_…),
// through to h.
// Errors: unavailable (no merchants configured), unauthenticated.
func (s *Server) asMerchant(h merchantHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		if s.merchants == nil {
			return notConfigured("merchants")
		}
		tok, err := bearer(r)
		if err == nil {
			var m hebao.Merchant
			if m, err = s.merchants.Authenticate(r.Context(), tok); err == nil {
				return h(w, r, m)
			}
		}
		if hebao.ErrorCode(err) == hebao.CodeUnauthenticated {
			w.Header().Set("WWW-Authenticate", `Bearer realm="hebao-merchant"`)
		}
		return err
	}
}

// createMerchant is POST /v1/admin/merchants {name} → 201 {id, name, api_key,
// webhook_secret}: the secrets are shown this once.
// Errors: invalid_request, unavailable.
func (s *Server) createMerchant(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.merchants == nil {
		return notConfigured("merchants")
	}
	nm, err := s.merchants.Create(r.Context(), hebao.Actor{Kind: hebao.ActorStaff, ID: st.ID}, req.Name)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, struct {
		ID            string `json:"id"`
		Name          string `json:"name"`
		APIKey        string `json:"api_key"`
		WebhookSecret string `json:"webhook_secret"`
	}{nm.Merchant.ID, nm.Merchant.Name, nm.APIKey, nm.WebhookSecret})
}

// orderJSON is an order as the merchant API shows it: the domain's MerchantOrder
// (the same object webhooks carry) and, while it can be paid, its QR code.
type orderJSON struct {
	hebao.MerchantOrder
	QRPayload string `json:"qr_payload,omitempty"`
	QRURL     string `json:"qr_url,omitempty"`
}

func (s *Server) orderOut(o hebao.Order) orderJSON {
	out := orderJSON{MerchantOrder: o.MerchantView()}
	if o.Kind == hebao.OrderNative && o.Status.Open() {
		out.QRPayload = s.payLink(o.ID)
		out.QRURL = s.publicURL + "/v1/qr/" + o.ID + ".svg"
	}
	return out
}

// payLink is the URL a customer's phone opens from an order's QR code: the web app's
// page for paying it.
func (s *Server) payLink(orderID string) string { return s.publicURL + "/pay/" + orderID }

// createOrder is POST /v1/merchant/orders {out_trade_no, amount, subject,
// expires_in?, notify_url?} → 201 the new order, or 200 the order made before with
// the same out_trade_no and the same fields.
// Errors: invalid_request, idempotency_key_reused (the same out_trade_no with other
// fields), notify_url_forbidden, unavailable.
func (s *Server) createOrder(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	var req struct {
		OutTradeNo string `json:"out_trade_no"`
		Amount     int64  `json:"amount"`
		Subject    string `json:"subject"`
		ExpiresIn  int64  `json:"expires_in,omitempty"` // seconds
		NotifyURL  string `json:"notify_url,omitempty"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.ExpiresIn < 0 || req.ExpiresIn > int64(hebao.MaxOrderExpiry/time.Second) {
		return invalid("expires_in must be from 60 seconds to 7 days")
	}
	if s.orders == nil {
		return notConfigured("orders")
	}
	o, created, err := s.orders.Create(r.Context(), m, hebao.OrderRequest{OutTradeNo: req.OutTradeNo, Amount: req.Amount,
		Subject: req.Subject, ExpiresIn: time.Duration(req.ExpiresIn) * time.Second, NotifyURL: req.NotifyURL})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, status, s.orderOut(o))
}

// getOrder is GET /v1/merchant/orders/{out_trade_no}.
// Errors: not_found (none, or another merchant's), unavailable.
func (s *Server) getOrder(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	if s.orders == nil {
		return notConfigured("orders")
	}
	o, err := s.orders.Get(r.Context(), m, r.PathValue("out_trade_no"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, s.orderOut(o))
}

// listOrders is GET /v1/merchant/orders?limit=&cursor=&status=&date= → {items,
// next_cursor}: the calling merchant's orders, newest first, optionally only those
// with a status or created on a China day (YYYY-MM-DD); next_cursor is null on the
// last page.
// Errors: invalid_request (limit, cursor, status, date), unavailable.
func (s *Server) listOrders(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	q := r.URL.Query()
	limit, err := hebao.ParsePageSize(q.Get("limit"))
	if err != nil {
		return err
	}
	if s.orders == nil {
		return notConfigured("orders")
	}
	p, err := s.orders.List(r.Context(), m, hebao.OrderListRequest{Limit: limit, Cursor: q.Get("cursor"),
		Status: q.Get("status"), Date: q.Get("date")})
	if err != nil {
		return err
	}
	out := struct {
		Items      []orderJSON `json:"items"`
		NextCursor *string     `json:"next_cursor"`
	}{Items: []orderJSON{}}
	for _, o := range p.Orders {
		out.Items = append(out.Items, s.orderOut(o))
	}
	if p.Next != "" {
		out.NextCursor = &p.Next
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// listMerchants is GET /v1/admin/merchants?limit=&cursor= → {items, next_cursor}:
// each merchant's id, name, creation time and settlement balance, newest first;
// never its API key or webhook secret.
// Errors: invalid_request (limit, cursor), unavailable.
func (s *Server) listMerchants(w http.ResponseWriter, r *http.Request, _ hebao.Staff) error {
	limit, cursor, err := page(r, "mch")
	if err != nil {
		return err
	}
	if s.merchants == nil {
		return notConfigured("merchants")
	}
	ms, next, err := s.merchants.List(r.Context(), cursor, limit)
	if err != nil {
		return err
	}
	type merchantJSON struct {
		ID        string    `json:"id"`
		Name      string    `json:"name"`
		CreatedAt time.Time `json:"created_at"`
		Balance   int64     `json:"balance"`
		Currency  string    `json:"currency"`
	}
	out := struct {
		Items      []merchantJSON `json:"items"`
		NextCursor *string        `json:"next_cursor"`
	}{Items: []merchantJSON{}}
	for _, m := range ms {
		out.Items = append(out.Items, merchantJSON{m.Merchant.ID, m.Merchant.Name, m.Merchant.CreatedAt.UTC(), m.Balance, string(hebao.CNY)})
	}
	if next != "" {
		out.NextCursor = &next
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// closeOrder is POST /v1/merchant/orders/{out_trade_no}/close → 200 the closed order.
// Errors: not_found, order_already_paid, unavailable.
func (s *Server) closeOrder(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	if s.orders == nil {
		return notConfigured("orders")
	}
	o, err := s.orders.Close(r.Context(), m, r.PathValue("out_trade_no"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, s.orderOut(o))
}

// merchantBalance is GET /v1/merchant/balance → {balance, currency}: the settlement
// account's balance.
func (s *Server) merchantBalance(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	bal, err := s.merchants.Balance(r.Context(), m)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, struct {
		MerchantID string `json:"merchant_id"`
		Name       string `json:"name"`
		Balance    int64  `json:"balance"`
		Currency   string `json:"currency"`
	}{m.ID, m.Name, bal, string(hebao.CNY)})
}

// deliveryJSON is one webhook delivery as the merchant sees it.
type deliveryJSON struct {
	ID            string          `json:"id"`
	EventID       string          `json:"event_id"`
	EventType     string          `json:"event_type"`
	URL           string          `json:"url"`
	Status        string          `json:"status"` // delivered, pending, failed
	Attempts      int             `json:"attempts"`
	NextAttemptAt *time.Time      `json:"next_attempt_at,omitempty"`
	LastStatus    int             `json:"last_status,omitempty"`
	LastError     string          `json:"last_error,omitempty"`
	Payload       json.RawMessage `json:"payload"`
	CreatedAt     time.Time       `json:"created_at"`
	UpdatedAt     time.Time       `json:"updated_at"`
}

func deliveryOut(d hebao.WebhookDelivery) deliveryJSON {
	out := deliveryJSON{ID: d.ID, EventID: d.EventID, EventType: d.EventType, URL: d.URL, Attempts: d.Attempts,
		LastStatus: d.LastStatus, LastError: d.LastError, Payload: json.RawMessage(d.Payload),
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC()}
	switch {
	case d.Delivered:
		out.Status = "delivered"
	case d.NextAttemptAt.IsZero():
		out.Status = "failed"
	default:
		out.Status = "pending"
		t := d.NextAttemptAt.UTC()
		out.NextAttemptAt = &t
	}
	return out
}

// listDeliveries is GET /v1/merchant/webhook-deliveries?limit=&cursor=, newest first.
// Errors: invalid_request, unavailable.
func (s *Server) listDeliveries(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	limit, cursor, err := page(r, "whd")
	if err != nil {
		return err
	}
	if s.webhooks == nil {
		return notConfigured("webhooks")
	}
	ds, err := s.webhooks.Deliveries(r.Context(), m, cursor, limit+1)
	if err != nil {
		return err
	}
	out := struct {
		Items      []deliveryJSON `json:"items"`
		NextCursor *string        `json:"next_cursor"`
	}{Items: []deliveryJSON{}}
	if len(ds) > limit {
		ds = ds[:limit]
		out.NextCursor = &ds[limit-1].ID
	}
	for _, d := range ds {
		out.Items = append(out.Items, deliveryOut(d))
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// replayDelivery is POST /v1/merchant/webhook-deliveries/{id}/replay → 202 the
// delivery, scheduled to be sent again at once.
// Errors: not_found, unavailable.
func (s *Server) replayDelivery(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	if s.webhooks == nil {
		return notConfigured("webhooks")
	}
	d, err := s.webhooks.Replay(r.Context(), m, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusAccepted, deliveryOut(d))
}

// customerOrderJSON is what a customer who opened an order sees before paying it.
type customerOrderJSON struct {
	ID        string               `json:"id"`
	Merchant  customerMerchantJSON `json:"merchant"`
	Amount    int64                `json:"amount"`
	Currency  string               `json:"currency"`
	Subject   string               `json:"subject"`
	Status    string               `json:"status"`
	ExpiresAt time.Time            `json:"expires_at"`
	// PaidByYou is set when the caller paid it; TransactionID is then the payment
	// in their history.
	PaidByYou     bool   `json:"paid_by_you"`
	TransactionID string `json:"transaction_id,omitempty"`
}

type customerMerchantJSON struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

func customerOrderOut(co hebao.CustomerOrder) customerOrderJSON {
	o := co.Order
	out := customerOrderJSON{ID: o.ID, Merchant: customerMerchantJSON{co.Merchant.ID, co.Merchant.Name}, Amount: o.Amount,
		Currency: string(hebao.CNY), Subject: o.Subject, Status: string(o.Status), ExpiresAt: o.ExpiresAt.UTC(), PaidByYou: co.Yours}
	if co.Theirs {
		out.TransactionID = o.MovementID
	}
	return out
}

// getCustomerOrder is GET /v1/orders/{id}: the order a customer scanned.
// Errors: not_found, unavailable.
func (s *Server) getCustomerOrder(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if s.orders == nil {
		return notConfigured("orders")
	}
	co, err := s.orders.ForCustomer(r.Context(), sess.CustomerID, r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, customerOrderOut(co))
}

// payOrderRequest is the body of POST /v1/orders/{id}/pay.
type payOrderRequest struct {
	Method          string `json:"method"`
	CardID          string `json:"card_id,omitempty"`
	CouponID        string `json:"coupon_id,omitempty"`
	PaymentPassword string `json:"payment_password,omitempty"`
	OTP             string `json:"otp,omitempty"`
}

// payOrder is POST /v1/orders/{id}/pay {method, payment_password, otp?} with an
// Idempotency-Key → 201 {order, transaction}. As for transfers, the key's request
// hash leaves out the payment password and the code.
// Errors: invalid_request, not_found, order_closed, order_already_paid,
// wallet_frozen, payment_password_wrong, payment_password_locked,
// step_up_required, otp_invalid, otp_expired, limit_exceeded, insufficient_funds,
// idempotency_key_reused, idempotency_key_in_use, unavailable.
func (s *Server) payOrder(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req payOrderRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if req.CouponID != "" && !hebao.ValidID("cpn", req.CouponID) {
		return invalid("coupon_id is not a coupon id")
	}
	if req.CardID != "" && !hebao.ValidID("card", req.CardID) {
		return invalid("card_id is not a card id")
	}
	id := r.PathValue("id")
	hashed := req
	hashed.PaymentPassword, hashed.OTP = "", ""
	key, err := idempotencyKey(r, sess, "POST /v1/orders/"+id+"/pay", hashed)
	if err != nil {
		return err
	}
	if s.orders == nil {
		return notConfigured("orders")
	}
	rep, err := s.orders.Pay(r.Context(), hebao.PayRequest{CustomerID: sess.CustomerID, DeviceID: sess.DeviceID, OrderID: id,
		Method: req.Method, CardID: req.CardID, CouponID: req.CouponID, PaymentPassword: req.PaymentPassword, OTP: req.OTP, Key: key, Reply: paidReply})
	if err != nil {
		return err
	}
	return writeReply(w, rep)
}

// orderQR is GET /v1/qr/{file}: the QR code of an order's pay link, as
// ord_….svg or ord_….png (?size= pixels, for PNG). Anyone may fetch it: a shop's
// page shows it; it carries nothing but the link.
// Errors: not_found.
func (s *Server) orderQR(w http.ResponseWriter, r *http.Request) error {
	file := r.PathValue("file")
	id, ext, _ := strings.Cut(file, ".")
	if !hebao.ValidID("ord", id) || (ext != "svg" && ext != "png") {
		return hebao.Errorf(hebao.CodeNotFound, "no such QR code: ask for /v1/qr/<order id>.svg or .png")
	}
	if s.orders == nil {
		return notConfigured("orders")
	}
	if err := s.orders.Exists(r.Context(), id); err != nil {
		return err
	}
	var (
		img []byte
		err error
	)
	if ext == "svg" {
		img, err = qr.SVG(s.payLink(id))
		w.Header().Set("Content-Type", "image/svg+xml")
	} else {
		size := 256
		if v := r.URL.Query().Get("size"); v != "" {
			n, err := strconv.Atoi(v)
			if err != nil || n < 128 || n > 1024 {
				return invalid("size must be a number of pixels from 128 to 1024")
			}
			size = n
		}
		img, err = qr.PNG(s.payLink(id), size)
		w.Header().Set("Content-Type", "image/png")
	}
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "public, max-age=3600")
	w.Write(img)
	return nil
}

// createRefund is POST /v1/merchant/refunds {out_trade_no, out_refund_no, amount,
// reason?} → 201 the refund, or 200 the refund made before with the same
// out_refund_no and the same fields.
// Errors: invalid_request, not_found, refund_exceeds_paid, limit_exceeded,
// insufficient_funds, idempotency_key_reused, unavailable.
func (s *Server) createRefund(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	var req struct {
		OutTradeNo  string `json:"out_trade_no"`
		OutRefundNo string `json:"out_refund_no"`
		Amount      int64  `json:"amount"`
		Reason      string `json:"reason,omitempty"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.orders == nil {
		return notConfigured("orders")
	}
	rf, o, created, err := s.orders.Refund(r.Context(), m, hebao.RefundRequest{OutTradeNo: req.OutTradeNo, OutRefundNo: req.OutRefundNo,
		Amount: req.Amount, Reason: req.Reason})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, status, rf.MerchantView(o))
}

// getRefund is GET /v1/merchant/refunds/{out_refund_no}.
// Errors: not_found, unavailable.
func (s *Server) getRefund(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	if s.orders == nil {
		return notConfigured("orders")
	}
	rf, o, err := s.orders.GetRefund(r.Context(), m, r.PathValue("out_refund_no"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, rf.MerchantView(o))
}

// codePayment is POST /v1/merchant/code-payments {out_trade_no, auth_code, amount,
// subject} → 201 the order, SUCCESS (paid at once) or USERPAYING (waiting for the
// customer to confirm in the app; query it until it is SUCCESS or CLOSED); 200 the
// order as it stands for the same out_trade_no and fields again.
// Errors: invalid_request, payment_code_invalid, idempotency_key_reused,
// wallet_frozen, limit_exceeded, insufficient_funds, unavailable.
func (s *Server) codePayment(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	var req struct {
		OutTradeNo string `json:"out_trade_no"`
		AuthCode   string `json:"auth_code"`
		Amount     int64  `json:"amount"`
		Subject    string `json:"subject"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.orders == nil {
		return notConfigured("orders")
	}
	o, created, err := s.orders.PayByCode(r.Context(), m, hebao.CodePaymentRequest{OutTradeNo: req.OutTradeNo, AuthCode: req.AuthCode,
		Amount: req.Amount, Subject: req.Subject})
	if err != nil {
		return err
	}
	status := http.StatusOK
	if created {
		status = http.StatusCreated
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, status, s.orderOut(o))
}

// issuePaymentCode is POST /v1/payment-codes → 201 {code, expires_at}: a code for
// the app to show as a barcode and a QR code, for 60 seconds, once.
// Errors: not_found, wallet_frozen, unavailable.
func (s *Server) issuePaymentCode(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if s.orders == nil || s.orders.Codes == nil {
		return notConfigured("payment codes")
	}
	ic, err := s.orders.Codes.Issue(r.Context(), sess.CustomerID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, struct {
		Code      string    `json:"code"`
		ExpiresAt time.Time `json:"expires_at"`
	}{ic.Code, ic.ExpiresAt.UTC()})
}

// confirmCodePayment is POST /v1/payment-codes/confirm {order_id, payment_password,
// otp?} with an Idempotency-Key → 201 {order, transaction}: the customer confirms a
// till's order that waits for them.
// Errors: invalid_request, not_found, order_closed, order_already_paid,
// wallet_frozen, payment_password_wrong, payment_password_locked,
// step_up_required, otp_invalid, otp_expired, limit_exceeded, insufficient_funds,
// idempotency_key_reused, idempotency_key_in_use, unavailable.
func (s *Server) confirmCodePayment(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req struct {
		OrderID         string `json:"order_id"`
		PaymentPassword string `json:"payment_password,omitempty"`
		OTP             string `json:"otp,omitempty"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if !hebao.ValidID("ord", req.OrderID) {
		return invalid("order_id is not an order id")
	}
	hashed := req
	hashed.PaymentPassword, hashed.OTP = "", ""
	key, err := idempotencyKey(r, sess, "POST /v1/payment-codes/confirm", hashed)
	if err != nil {
		return err
	}
	if s.orders == nil {
		return notConfigured("orders")
	}
	rep, err := s.orders.Confirm(r.Context(), hebao.ConfirmRequest{CustomerID: sess.CustomerID, DeviceID: sess.DeviceID, OrderID: req.OrderID,
		PaymentPassword: req.PaymentPassword, OTP: req.OTP, Key: key, Reply: paidReply})
	if err != nil {
		return err
	}
	return writeReply(w, rep)
}

// paidReply renders a customer's payment of an order: 201 {order, transaction}; or,
// when it waits for the bank (paying by card, or an auto top-up), 202 with the order
// still unpaid and the pending top-up.
func paidReply(o hebao.Order, m hebao.Movement) (hebao.Reply, error) {
	status := http.StatusCreated
	if m.Status == hebao.MovementPending {
		status = http.StatusAccepted
	}
	b, err := json.Marshal(struct {
		Order       customerOrderJSON `json:"order"`
		Transaction transactionJSON   `json:"transaction"`
	}{customerOrderOut(hebao.CustomerOrder{Order: o, Merchant: hebao.Merchant{ID: o.MerchantID, Name: m.CounterpartyName}, Yours: o.Status.Paid(), Theirs: o.Status.Paid()}), transactionOut(m)})
	if err != nil {
		return hebao.Reply{}, fmt.Errorf("encode payment: %w", err)
	}
	return hebao.Reply{Status: status, Body: append(b, '\n')}, nil
}
