package inmem

import (
	"cmp"
	"context"
	"slices"
	"strings"

	"github.com/hebaopay/hebao"
)

// Merchants implements hebao.Tx.
func (t *tx) Merchants(_ context.Context, before string, limit int) ([]hebao.Merchant, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Merchant
	for _, m := range t.d.merchants {
		if before == "" || m.ID < before {
			out = append(out, m)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Merchant) int { return strings.Compare(b.ID, a.ID) })
	return out[:min(len(out), limit)], nil
}

// MerchantOrders implements hebao.Tx, comparing times to the microsecond as the
// database does.
func (t *tx) MerchantOrders(_ context.Context, q hebao.OrderQuery) ([]hebao.Order, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Order
	for _, o := range t.d.orders {
		at := o.CreatedAt.UnixMicro()
		switch {
		case o.MerchantID != q.MerchantID,
			q.Status != "" && o.Status != q.Status,
			!q.From.IsZero() && at < q.From.UnixMicro(),
			!q.Before.IsZero() && cmp.Or(cmp.Compare(at, q.Before.UnixMicro()), strings.Compare(o.ID, q.BeforeID)) >= 0:
			continue
		}
		out = append(out, o)
	}
	slices.SortFunc(out, func(a, b hebao.Order) int {
		return cmp.Or(cmp.Compare(b.CreatedAt.UnixMicro(), a.CreatedAt.UnixMicro()), strings.Compare(b.ID, a.ID))
	})
	return out[:min(len(out), q.Limit)], nil
}

// Campaigns implements hebao.Tx.
func (t *tx) Campaigns(_ context.Context, before string, limit int) ([]hebao.Campaign, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Campaign
	for _, c := range t.d.campaigns {
		if before == "" || c.ID < before {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Campaign) int { return strings.Compare(b.ID, a.ID) })
	return out[:min(len(out), limit)], nil
}
