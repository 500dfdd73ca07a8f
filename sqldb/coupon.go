package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of coupons.
const (
	couponColumns = `id, customer_id, campaign_id, kind, off, threshold, percent, cap, valid_days, merchant_id, valid_from, valid_until,
used_order_id, created_at, source`
	couponInsert = `INSERT INTO coupons (` + couponColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)`
	couponByID   = `SELECT ` + couponColumns + ` FROM coupons WHERE customer_id = $1 AND id = $2`
	couponsValid = `SELECT ` + couponColumns + ` FROM coupons WHERE customer_id = $1 AND valid_until > $2 AND valid_from <= $2
AND used_order_id = '' ORDER BY valid_until, id`
	couponsCount = `SELECT count(*) FROM coupons WHERE customer_id = $1 AND campaign_id = $2 AND source = $3`
	couponUse    = `UPDATE coupons SET used_order_id = $2 WHERE id = $1 AND used_order_id = ''`
)

// CreateCoupon implements hebao.Tx.
func (t *tx) CreateCoupon(_ context.Context, c hebao.Coupon) error {
	if c.ID == "" || c.CustomerID == "" || c.CampaignID == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a coupon needs an id, a customer and a campaign")
	}
	_, err := t.execOwn(couponInsert, c.ID, c.CustomerID, c.CampaignID, string(c.Kind), c.Off, c.Threshold, int64(c.Percent), c.Cap,
		int64(c.ValidDays), c.MerchantID, c.ValidFrom.UnixMicro(), c.ValidUntil.UnixMicro(), c.UsedOrderID, c.CreatedAt.UnixMicro(), c.Source)
	if err != nil {
		return t.retryable(fmt.Errorf("store coupon: %w", err))
	}
	return nil
}

// Coupon implements hebao.Tx.
func (t *tx) Coupon(_ context.Context, customerID, id string) (hebao.Coupon, error) {
	if err := t.check(); err != nil {
		return hebao.Coupon{}, err
	}
	c, err := scanCoupon(t.queryRow(couponByID, customerID, id))
	if isNoRows(err) {
		return hebao.Coupon{}, hebao.Errorf(hebao.CodeNotFound, "no such coupon")
	}
	if err != nil {
		return hebao.Coupon{}, fmt.Errorf("read coupon: %w", err)
	}
	return c, nil
}

// Coupons implements hebao.Tx.
func (t *tx) Coupons(_ context.Context, customerID string, at time.Time) ([]hebao.Coupon, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(couponsValid, customerID, at.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read coupons: %w", err)
	}
	defer rs.Close()
	var out []hebao.Coupon
	for rs.Next() {
		c, err := scanCoupon(rs)
		if err != nil {
			return nil, fmt.Errorf("read coupons: %w", err)
		}
		out = append(out, c)
	}
	return out, rs.Err()
}

func scanCoupon(r scanner) (hebao.Coupon, error) {
	var (
		c                                hebao.Coupon
		kind                             string
		percent, days, from, until, made int64
	)
	if err := r.Scan(&c.ID, &c.CustomerID, &c.CampaignID, &kind, &c.Off, &c.Threshold, &percent, &c.Cap, &days, &c.MerchantID,
		&from, &until, &c.UsedOrderID, &made, &c.Source); err != nil {
		return hebao.Coupon{}, err
	}
	c.Kind, c.Percent, c.ValidDays = hebao.CouponKind(kind), int(percent), int(days)
	c.ValidFrom, c.ValidUntil, c.CreatedAt = time.UnixMicro(from).UTC(), time.UnixMicro(until).UTC(), time.UnixMicro(made).UTC()
	return c, nil
}

// UseCoupon implements hebao.Tx.
func (t *tx) UseCoupon(_ context.Context, id, orderID string) (bool, error) {
	n, err := t.execOwn(couponUse, id, orderID)
	if err != nil {
		return false, t.retryable(fmt.Errorf("use coupon: %w", err))
	}
	return n == 1, nil
}

// CountCoupons implements hebao.Tx.
func (t *tx) CountCoupons(_ context.Context, customerID, campaignID, source string) (int, error) {
	if err := t.check(); err != nil {
		return 0, err
	}
	var n int64
	if err := t.queryRow(couponsCount, customerID, campaignID, source).Scan(&n); err != nil {
		return 0, fmt.Errorf("count coupons: %w", err)
	}
	return int(n), nil
}
