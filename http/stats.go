package http

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hebaopay/hebao"
)

// paymentMinuteJSON is one minute of GET /v1/admin/stats.
type paymentMinuteJSON struct {
	Start  time.Time `json:"start"`
	Count  int64     `json:"count"`
	Amount int64     `json:"amount"`
}

// adminStats is GET /v1/admin/stats?minutes=60 (admin): the payments of the last
// minutes minutes (1 to 1440, default 60, the current minute last), counted and
// summed per minute from the ledger's transfers of kind payment → 200 {from, to,
// count, amount, minutes[{start, count, amount}]}.
// Errors: invalid_request (minutes), unavailable.
func (s *Server) adminStats(w http.ResponseWriter, r *http.Request, _ hebao.Staff) error {
	if s.stats == nil {
		return notConfigured("statistics")
	}
	minutes := 60
	if q := r.URL.Query().Get("minutes"); q != "" {
		n, err := strconv.Atoi(q)
		if err != nil {
			return invalid("minutes must be an integer from 1 to %d", hebao.MaxStatsMinutes)
		}
		minutes = n
	}
	st, err := s.stats.Payments(r.Context(), minutes)
	if err != nil {
		return err
	}
	out := struct {
		From    time.Time           `json:"from"`
		To      time.Time           `json:"to"`
		Count   int64               `json:"count"`
		Amount  int64               `json:"amount"`
		Minutes []paymentMinuteJSON `json:"minutes"`
	}{From: st.From.UTC(), To: st.To.UTC(), Count: st.Count, Amount: st.Amount, Minutes: make([]paymentMinuteJSON, 0, len(st.Minutes))}
	for _, m := range st.Minutes {
		out.Minutes = append(out.Minutes, paymentMinuteJSON{m.Start.UTC(), m.Count, m.Amount})
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}
