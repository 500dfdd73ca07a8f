package demo

import (
	"errors"
	"net/http"
	"strings"
)

// charge is what the till page sees of a code payment.
type charge struct {
	OutTradeNo string `json:"out_trade_no"`
	Status     string `json:"status"` // SUCCESS, USERPAYING or CLOSED, as Hebao says
	Amount     int64  `json:"amount"`
	Subject    string `json:"subject"`
}

func chargeOf(o apiOrder) charge {
	return charge{OutTradeNo: o.OutTradeNo, Status: o.Status, Amount: o.Amount, Subject: o.Subject}
}

// tillSubject is what the till's payments are for when the cashier types nothing.
const tillSubject = "门店收款 Till payment"

// charge is POST /demo/till/api/charges {amount, auth_code, subject?} → 201 the
// charge: the till's server posts the customer's payment code to POST
// /v1/merchant/code-payments. SUCCESS is paid; USERPAYING waits for the customer to
// confirm in the app, and the page polls GET /demo/till/api/charges/{no}. Hebao's
// refusals (payment_code_invalid, insufficient_funds…) come back with its code and
// detail.
func (s *Shop) charge(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Amount   int64  `json:"amount"`
		AuthCode string `json:"auth_code"`
		Subject  string `json:"subject,omitempty"`
	}
	if err := decode(r, &req); err != nil {
		writeProblem(w, http.StatusBadRequest, "invalid_request", err.Error())
		return
	}
	// Codes are often read out or typed in groups: "8158 2921 …".
	code := strings.Join(strings.Fields(req.AuthCode), "")
	subject := strings.TrimSpace(req.Subject)
	if subject == "" {
		subject = tillSubject
	}
	no := newNumber("TILL", s.now())
	in := map[string]any{"out_trade_no": no, "auth_code": code, "amount": req.Amount, "subject": subject}
	var o apiOrder
	err := s.call(r.Context(), "POST", "/v1/merchant/code-payments", in, &o)
	var ae *apiError
	if errors.As(err, &ae) && ae.Status == 0 {
		// No answer: the payment may or may not have been made. The same
		// out_trade_no with the same fields is safe to send again: Hebao answers the
		// order as it stands and never charges twice.
		err = s.call(r.Context(), "POST", "/v1/merchant/code-payments", in, &o)
	}
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.mu.Lock()
	s.charges[no] = true
	s.remember(no)
	s.mu.Unlock()
	writeJSON(w, http.StatusCreated, chargeOf(o))
}

// getCharge is GET /demo/till/api/charges/{no}: one of the till's charges as Hebao
// has it now.
func (s *Shop) getCharge(w http.ResponseWriter, r *http.Request) {
	s.chargeCall(w, r, "GET", "")
}

// closeCharge is POST /demo/till/api/charges/{no}/close: the customer walked away.
// A charge that is paid already answers 422 order_already_paid.
func (s *Shop) closeCharge(w http.ResponseWriter, r *http.Request) {
	s.chargeCall(w, r, "POST", "/close")
}

// chargeCall sends method to the order of the till's charge {no}, with suffix after
// its path, and answers the charge.
func (s *Shop) chargeCall(w http.ResponseWriter, r *http.Request, method, suffix string) {
	no := r.PathValue("no")
	s.mu.Lock()
	ok := s.charges[no]
	s.mu.Unlock()
	if !ok {
		writeProblem(w, http.StatusNotFound, "not_found", "the till has no charge "+no)
		return
	}
	var o apiOrder
	if err := s.call(r.Context(), method, "/v1/merchant/orders/"+no+suffix, nil, &o); err != nil {
		s.fail(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, chargeOf(o))
}
