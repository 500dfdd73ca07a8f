package sqldb

import (
	"context"
	"fmt"
	"math"

	"github.com/hebaopay/hebao"
)

// The statements that list merchants, their orders and campaigns for the merchant
// portal and the staff console.
const (
	merchantsNewest = `SELECT ` + merchantColumns + ` FROM merchants ORDER BY id DESC LIMIT $1`
	merchantsBefore = `SELECT ` + merchantColumns + ` FROM merchants WHERE id < $1 ORDER BY id DESC LIMIT $2`
	// ordersOfMerchant walks the index orders_merchant_created (migration 020)
	// backwards from ($3, $4) down to created_at $2; a status ($5, '' for any) is
	// checked on the rows it meets.
	ordersOfMerchant = `SELECT ` + orderColumns + ` FROM orders
WHERE merchant_id = $1 AND created_at >= $2 AND (created_at, id) < ($3, $4) AND ($5 = '' OR status = $5)
ORDER BY created_at DESC, id DESC LIMIT $6`
	campaignsNewest = `SELECT ` + campaignColumns + ` FROM campaigns ORDER BY id DESC LIMIT $1`
	campaignsBefore = `SELECT ` + campaignColumns + ` FROM campaigns WHERE id < $1 ORDER BY id DESC LIMIT $2`
)

// Merchants implements hebao.Tx.
func (t *tx) Merchants(_ context.Context, before string, limit int) ([]hebao.Merchant, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	q, args := merchantsNewest, []any{limit}
	if before != "" {
		q, args = merchantsBefore, []any{before, limit}
	}
	rs, err := t.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("read merchants: %w", err)
	}
	defer rs.Close()
	var out []hebao.Merchant
	for rs.Next() {
		m, err := scanMerchant(rs)
		if err != nil {
			return nil, fmt.Errorf("read merchants: %w", err)
		}
		out = append(out, m)
	}
	return out, rs.Err()
}

// MerchantOrders implements hebao.Tx. Orders changed earlier in the batch are shown
// as changed. Their new status is not in the database yet, so when the batch changed
// the status of one of this merchant's orders the status is checked here rather than
// in SQL, and rows are read on until the page is full or the orders run out: a page
// is never cut short because some rows did not match.
func (t *tx) MerchantOrders(_ context.Context, q hebao.OrderQuery) ([]hebao.Order, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	from, before, beforeID := int64(math.MinInt64), int64(math.MaxInt64), q.BeforeID
	if !q.From.IsZero() {
		from = q.From.UnixMicro()
	}
	if !q.Before.IsZero() {
		before = q.Before.UnixMicro()
	}
	status := string(q.Status)
	for _, st := range t.b.orders {
		if st.o.MerchantID == q.MerchantID && st.o.Status != st.loaded.Status {
			status = ""
			break
		}
	}
	var out []hebao.Order
	for len(out) < q.Limit {
		rows, err := t.merchantOrders(q.MerchantID, from, before, beforeID, status, q.Limit)
		if err != nil {
			return nil, err
		}
		for _, o := range rows {
			if st, ok := t.b.orders[o.ID]; ok {
				o = st.o
			}
			if q.Status == "" || o.Status == q.Status {
				out = append(out, o)
			}
		}
		if len(rows) < q.Limit {
			break
		}
		last := rows[len(rows)-1]
		before, beforeID = last.CreatedAt.UnixMicro(), last.ID
	}
	return out[:min(len(out), q.Limit)], nil
}

// merchantOrders runs ordersOfMerchant once.
func (t *tx) merchantOrders(merchantID string, from, before int64, beforeID, status string, limit int) ([]hebao.Order, error) {
	rs, err := t.query(ordersOfMerchant, merchantID, from, before, beforeID, status, limit)
	if err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	defer rs.Close()
	var out []hebao.Order
	for rs.Next() {
		o, err := scanOrder(rs)
		if err != nil {
			return nil, fmt.Errorf("read orders: %w", err)
		}
		out = append(out, o)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read orders: %w", err)
	}
	return out, nil
}

// Campaigns implements hebao.Tx.
func (t *tx) Campaigns(_ context.Context, before string, limit int) ([]hebao.Campaign, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	q, args := campaignsNewest, []any{limit}
	if before != "" {
		q, args = campaignsBefore, []any{before, limit}
	}
	rs, err := t.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	defer rs.Close()
	var out []hebao.Campaign
	for rs.Next() {
		c, err := scanCampaign(rs)
		if err != nil {
			return nil, fmt.Errorf("read campaigns: %w", err)
		}
		out = append(out, c)
	}
	return out, rs.Err()
}
