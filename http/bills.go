package http

import (
	"net/http"
	"strconv"

	"github.com/hebaopay/hebao"
)

// bills returns the service that makes merchants' bills, on the orders' clock so
// that a bill's day ends when the orders' does.
func (s *Server) bills() *hebao.BillService {
	b := &hebao.BillService{Store: s.store}
	if s.orders != nil {
		b.Now = s.orders.Now
	}
	return b
}

// merchantBill is GET /v1/merchant/bills/{date} → text/csv: the merchant's bill
// (对账单) of a China day, YYYY-MM-DD, once that day has ended (T+1), as a download
// whose last line is the SHA-256 of the rest.
// Errors: invalid_request (a malformed date), conflict (the day has not ended).
func (s *Server) merchantBill(w http.ResponseWriter, r *http.Request, m hebao.Merchant) error {
	date := r.PathValue("date")
	b, err := s.bills().Bill(r.Context(), m, date)
	if err != nil {
		return err
	}
	// Bill accepted date, so it is YYYY-MM-DD and safe inside the quotes, as is
	// the merchant id.
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="hebao-bill-`+m.ID+`-`+date+`.csv"`)
	h.Set("Content-Length", strconv.Itoa(len(b)))
	h.Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusOK)
	w.Write(b)
	return nil
}
