package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

var _ hebao.BillTx = (*tx)(nil)

// The statements of merchants' bills. Each reads one merchant's day through its
// index: orders_paid (merchant_id, paid_at), partial on paid_at > 0, which is why
// that term is spelled out for the planners, and refunds_day (merchant_id,
// created_at).
const (
	ordersPaid = `SELECT ` + orderColumns + ` FROM orders
WHERE merchant_id = $1 AND paid_at > 0 AND paid_at >= $2 AND paid_at < $3 ORDER BY paid_at, id`
	refundsCreated = `SELECT ` + refundColumns + ` FROM refunds
WHERE merchant_id = $1 AND created_at >= $2 AND created_at < $3 ORDER BY created_at, id`
)

// PaidOrders implements hebao.Tx.
func (t *tx) PaidOrders(_ context.Context, merchantID string, from, to time.Time) ([]hebao.Order, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(ordersPaid, merchantID, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read paid orders: %w", err)
	}
	defer rs.Close()
	var out []hebao.Order
	for rs.Next() {
		o, err := scanOrder(rs)
		if err != nil {
			return nil, fmt.Errorf("read paid orders: %w", err)
		}
		out = append(out, o)
	}
	return out, rs.Err()
}

// MerchantRefunds implements hebao.Tx.
func (t *tx) MerchantRefunds(_ context.Context, merchantID string, from, to time.Time) ([]hebao.Refund, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(refundsCreated, merchantID, from.UnixMicro(), to.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read refunds: %w", err)
	}
	defer rs.Close()
	var out []hebao.Refund
	for rs.Next() {
		r, err := scanRefund(rs)
		if err != nil {
			return nil, fmt.Errorf("read refunds: %w", err)
		}
		out = append(out, r)
	}
	return out, rs.Err()
}
