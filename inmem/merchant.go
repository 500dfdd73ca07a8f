package inmem

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hebaopay/hebao"
)

func (t *tx) CreateMerchant(_ context.Context, m hebao.Merchant) error {
	if err := t.write(); err != nil {
		return err
	}
	if m.ID == "" || m.Name == "" || m.Account == 0 || m.WebhookSecretSealed == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a merchant needs an id, a name, an account and a webhook secret")
	}
	for _, o := range t.d.merchants {
		if o.ID == m.ID || o.APIKeyHash == m.APIKeyHash {
			return conflict("merchant")
		}
	}
	t.d.merchants[m.ID] = m
	return nil
}

func (t *tx) MerchantByKey(_ context.Context, hash [32]byte) (hebao.Merchant, error) {
	if err := t.read(); err != nil {
		return hebao.Merchant{}, err
	}
	for _, m := range t.d.merchants {
		if m.APIKeyHash == hash {
			return m, nil
		}
	}
	return hebao.Merchant{}, notFound("merchant")
}

func (t *tx) MerchantByID(_ context.Context, id string) (hebao.Merchant, error) {
	if err := t.read(); err != nil {
		return hebao.Merchant{}, err
	}
	m, ok := t.d.merchants[id]
	if !ok {
		return hebao.Merchant{}, notFound("merchant")
	}
	return m, nil
}

func (t *tx) CreateOrder(_ context.Context, o hebao.Order) error {
	if err := t.write(); err != nil {
		return err
	}
	if o.ID == "" || o.MerchantID == "" || o.OutTradeNo == "" || o.Amount <= 0 {
		return hebao.Errorf(hebao.CodeInvalidRequest, "an order needs an id, a merchant, a number and an amount")
	}
	for _, p := range t.d.orders {
		if p.ID == o.ID || (p.MerchantID == o.MerchantID && p.OutTradeNo == o.OutTradeNo) {
			return conflict("order")
		}
	}
	t.d.orders[o.ID] = o
	return nil
}

func (t *tx) OrderByOutTradeNo(_ context.Context, merchantID, outTradeNo string) (hebao.Order, error) {
	if err := t.read(); err != nil {
		return hebao.Order{}, err
	}
	for _, o := range t.d.orders {
		if o.MerchantID == merchantID && o.OutTradeNo == outTradeNo {
			return o, nil
		}
	}
	return hebao.Order{}, notFound("order")
}

func (t *tx) OrderByID(_ context.Context, id string) (hebao.Order, error) {
	if err := t.read(); err != nil {
		return hebao.Order{}, err
	}
	o, ok := t.d.orders[id]
	if !ok {
		return hebao.Order{}, notFound("order")
	}
	return o, nil
}

func (t *tx) UpdateOrder(_ context.Context, o, prev hebao.Order) (bool, error) {
	if err := t.write(); err != nil {
		return false, err
	}
	cur, ok := t.d.orders[o.ID]
	if !ok || cur.Status != prev.Status || cur.Refunded != prev.Refunded || cur.Refunds != prev.Refunds {
		return false, nil
	}
	// Only what may change after creation.
	cur.Status, cur.CustomerID, cur.WalletID, cur.Method, cur.CardID, cur.MovementID = o.Status, o.CustomerID, o.WalletID, o.Method, o.CardID, o.MovementID
	cur.Refunded, cur.Refunds, cur.ExpiresAt, cur.PaidAt, cur.ClosedAt, cur.UpdatedAt = o.Refunded, o.Refunds, o.ExpiresAt, o.PaidAt, o.ClosedAt, o.UpdatedAt
	cur.PromoPaid, cur.CouponID, cur.Subsidy = o.PromoPaid, o.CouponID, o.Subsidy
	cur.PromoRefunded, cur.SubsidyRefunded = o.PromoRefunded, o.SubsidyRefunded
	cur.PointsEarned, cur.PointsReversed = o.PointsEarned, o.PointsReversed
	t.d.orders[o.ID] = cur
	return true, nil
}

func (t *tx) OpenOrdersExpiring(_ context.Context, before time.Time, limit int) ([]hebao.Order, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Order
	for _, o := range t.d.orders {
		if o.Status.Open() && !o.ExpiresAt.After(before) {
			out = append(out, o)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Order) int { return a.ExpiresAt.Compare(b.ExpiresAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *tx) CreateDelivery(_ context.Context, d hebao.WebhookDelivery) error {
	if err := t.write(); err != nil {
		return err
	}
	if d.ID == "" || d.MerchantID == "" || d.EventID == "" || d.URL == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a webhook delivery needs an id, a merchant, an event and a URL")
	}
	if _, ok := t.d.deliveries[d.ID]; ok {
		return conflict("webhook delivery")
	}
	d.Payload = slices.Clone(d.Payload)
	t.d.deliveries[d.ID] = d
	return nil
}

func (t *tx) UpdateDelivery(_ context.Context, d hebao.WebhookDelivery) error {
	if err := t.write(); err != nil {
		return err
	}
	cur, ok := t.d.deliveries[d.ID]
	if !ok {
		return notFound("webhook delivery")
	}
	cur.Attempts, cur.Delivered, cur.NextAttemptAt, cur.LastStatus, cur.LastError, cur.UpdatedAt = d.Attempts, d.Delivered, d.NextAttemptAt, d.LastStatus, d.LastError, d.UpdatedAt
	t.d.deliveries[d.ID] = cur
	return nil
}

func (t *tx) DueDeliveries(_ context.Context, now time.Time, limit int) ([]hebao.WebhookDelivery, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.WebhookDelivery
	for _, d := range t.d.deliveries {
		if !d.NextAttemptAt.IsZero() && !d.NextAttemptAt.After(now) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b hebao.WebhookDelivery) int { return a.NextAttemptAt.Compare(b.NextAttemptAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *tx) Deliveries(_ context.Context, merchantID, before string, limit int) ([]hebao.WebhookDelivery, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.WebhookDelivery
	for _, d := range t.d.deliveries {
		if d.MerchantID == merchantID && (before == "" || d.ID < before) {
			out = append(out, d)
		}
	}
	slices.SortFunc(out, func(a, b hebao.WebhookDelivery) int { return strings.Compare(b.ID, a.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *tx) Delivery(_ context.Context, merchantID, id string) (hebao.WebhookDelivery, error) {
	if err := t.read(); err != nil {
		return hebao.WebhookDelivery{}, err
	}
	d, ok := t.d.deliveries[id]
	if !ok || d.MerchantID != merchantID {
		return hebao.WebhookDelivery{}, notFound("webhook delivery")
	}
	return d, nil
}

func (t *tx) CreateRefund(_ context.Context, r hebao.Refund) error {
	if err := t.write(); err != nil {
		return err
	}
	if r.ID == "" || r.MerchantID == "" || r.OrderID == "" || r.OutRefundNo == "" || r.Amount <= 0 {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a refund needs an id, a merchant, an order, a number and an amount")
	}
	for _, p := range t.d.refunds {
		if p.ID == r.ID || (p.MerchantID == r.MerchantID && p.OutRefundNo == r.OutRefundNo) {
			return conflict("refund")
		}
	}
	t.d.refunds[r.ID] = r
	return nil
}

func (t *tx) RefundByOutRefundNo(_ context.Context, merchantID, outRefundNo string) (hebao.Refund, error) {
	if err := t.read(); err != nil {
		return hebao.Refund{}, err
	}
	for _, r := range t.d.refunds {
		if r.MerchantID == merchantID && r.OutRefundNo == outRefundNo {
			return r, nil
		}
	}
	return hebao.Refund{}, notFound("refund")
}

func (t *tx) CreateOrderTopup(_ context.Context, ot hebao.OrderTopup) error {
	if err := t.write(); err != nil {
		return err
	}
	if ot.MovementID == "" || ot.OrderID == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "an order's top-up needs a movement and an order")
	}
	if _, ok := t.d.orderTopups[ot.MovementID]; ok {
		return conflict("order top-up")
	}
	t.d.orderTopups[ot.MovementID] = ot
	return nil
}

func (t *tx) OrderTopup(_ context.Context, movementID string) (hebao.OrderTopup, error) {
	if err := t.read(); err != nil {
		return hebao.OrderTopup{}, err
	}
	ot, ok := t.d.orderTopups[movementID]
	if !ok {
		return hebao.OrderTopup{}, hebao.Errorf(hebao.CodeNotFound, "this top-up pays no order")
	}
	return ot, nil
}

func (t *tx) RefundByID(_ context.Context, id string) (hebao.Refund, error) {
	if err := t.read(); err != nil {
		return hebao.Refund{}, err
	}
	r, ok := t.d.refunds[id]
	if !ok {
		return hebao.Refund{}, notFound("refund")
	}
	return r, nil
}

func (t *tx) OrderTopups(_ context.Context, orderID string) ([]hebao.OrderTopup, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.OrderTopup
	for _, ot := range t.d.orderTopups {
		if ot.OrderID == orderID {
			out = append(out, ot)
		}
	}
	slices.SortFunc(out, func(a, b hebao.OrderTopup) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}
