package inmem

import (
	"context"
	"slices"
	"time"

	"github.com/hebaopay/hebao"
)

func (t *tx) CreateCoupon(_ context.Context, c hebao.Coupon) error {
	if err := t.write(); err != nil {
		return err
	}
	if c.ID == "" || c.CustomerID == "" || c.CampaignID == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a coupon needs an id, a customer and a campaign")
	}
	if _, ok := t.d.coupons[c.ID]; ok {
		return conflict("coupon")
	}
	t.d.coupons[c.ID] = c
	return nil
}

func (t *tx) Coupon(_ context.Context, customerID, id string) (hebao.Coupon, error) {
	if err := t.read(); err != nil {
		return hebao.Coupon{}, err
	}
	c, ok := t.d.coupons[id]
	if !ok || c.CustomerID != customerID {
		return hebao.Coupon{}, notFound("coupon")
	}
	return c, nil
}

func (t *tx) Coupons(_ context.Context, customerID string, at time.Time) ([]hebao.Coupon, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Coupon
	for _, c := range t.d.coupons {
		if c.CustomerID == customerID && c.UsedOrderID == "" && !at.Before(c.ValidFrom) && at.Before(c.ValidUntil) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Coupon) int { return a.ValidUntil.Compare(b.ValidUntil) })
	return out, nil
}

func (t *tx) UseCoupon(_ context.Context, id, orderID string) (bool, error) {
	if err := t.write(); err != nil {
		return false, err
	}
	c, ok := t.d.coupons[id]
	if !ok || c.UsedOrderID != "" {
		return false, nil
	}
	c.UsedOrderID = orderID
	t.d.coupons[id] = c
	return true, nil
}
