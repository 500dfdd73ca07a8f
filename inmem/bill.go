package inmem

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hebaopay/hebao"
)

var _ hebao.BillTx = (*tx)(nil)

func (t *tx) PaidOrders(_ context.Context, merchantID string, from, to time.Time) ([]hebao.Order, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Order
	for _, o := range t.d.orders {
		if o.MerchantID == merchantID && !o.PaidAt.IsZero() && !o.PaidAt.Before(from) && o.PaidAt.Before(to) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Order) int {
		if c := a.PaidAt.Compare(b.PaidAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}

func (t *tx) MerchantRefunds(_ context.Context, merchantID string, from, to time.Time) ([]hebao.Refund, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Refund
	for _, r := range t.d.refunds {
		if r.MerchantID == merchantID && !r.CreatedAt.Before(from) && r.CreatedAt.Before(to) {
			out = append(out, r)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Refund) int {
		if c := a.CreatedAt.Compare(b.CreatedAt); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return out, nil
}
