package inmem

import (
	"context"
	"time"

	"github.com/hebaopay/hebao"
)

// PaymentMinutes implements hebao.Tx over the committed transfers.
func (t *tx) PaymentMinutes(_ context.Context, since time.Time) ([]hebao.PaymentMinute, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.PaymentMinute
	for _, tr := range t.d.transfers {
		if tr.Seq == 0 || tr.Kind != hebao.TransferPayment || tr.CreatedAt.Before(since) {
			continue
		}
		start := tr.CreatedAt.UTC().Truncate(time.Minute)
		if len(out) == 0 || !out[len(out)-1].Start.Equal(start) {
			out = append(out, hebao.PaymentMinute{Start: start})
		}
		m := &out[len(out)-1]
		m.Count++
		for _, p := range tr.Postings {
			if p.Unit == hebao.CNY && p.Amount > 0 {
				m.Amount += p.Amount
			}
		}
	}
	return out, nil
}
