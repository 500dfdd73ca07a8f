package sqldb

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of merchants, orders and webhook deliveries.
const (
	merchantColumns = `id, name, api_key_hash, webhook_secret_sealed, account_id, created_at`
	merchantInsert  = `INSERT INTO merchants (` + merchantColumns + `) VALUES ($1, $2, $3, $4, $5, $6)`
	merchantByKey   = `SELECT ` + merchantColumns + ` FROM merchants WHERE api_key_hash = $1`
	merchantByID    = `SELECT ` + merchantColumns + ` FROM merchants WHERE id = $1`

	orderColumns = `id, merchant_id, out_trade_no, kind, amount, subject, notify_url, status, request_hash,
customer_id, wallet_id, method, card_id, movement_id, refunded, refunds, created_at, expires_at, paid_at, closed_at, updated_at, promo_paid, coupon_id, subsidy, promo_refunded, subsidy_refunded, points_earned, points_reversed`
	orderInsert = `INSERT INTO orders (` + orderColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14,
$15, $16, $17, $18, $19, $20, $21, $22, $23, $24, $25, $26, $27, $28)`
	orderByNo   = `SELECT ` + orderColumns + ` FROM orders WHERE merchant_id = $1 AND out_trade_no = $2`
	orderByID   = `SELECT ` + orderColumns + ` FROM orders WHERE id = $1`
	orderUpdate = `UPDATE orders SET status = $3, customer_id = $4, wallet_id = $5, method = $6, card_id = $7, movement_id = $8,
refunded = $9, refunds = $10, expires_at = $11, paid_at = $12, closed_at = $13, updated_at = $14, promo_paid = $17, coupon_id = $18, subsidy = $19, promo_refunded = $20, subsidy_refunded = $21,
points_earned = $22, points_reversed = $23
WHERE id = $1 AND status = $2 AND refunded = $15 AND refunds = $16`
	ordersExpiring = `SELECT ` + orderColumns + ` FROM orders WHERE status IN ('NOTPAY', 'USERPAYING') AND expires_at <= $1
ORDER BY expires_at LIMIT $2`

	deliveryColumns = `id, merchant_id, event_id, event_type, url, payload, attempts, delivered, next_attempt_at, last_status,
last_error, created_at, updated_at`
	deliveryInsert = `INSERT INTO webhook_deliveries (` + deliveryColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`
	deliveryUpdate = `UPDATE webhook_deliveries SET attempts = $2, delivered = $3, next_attempt_at = $4, last_status = $5,
last_error = $6, updated_at = $7 WHERE id = $1`
	deliveriesDue = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries WHERE next_attempt_at > 0 AND next_attempt_at <= $1
ORDER BY next_attempt_at LIMIT $2`
	deliveriesNewest = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries WHERE merchant_id = $1 ORDER BY id DESC LIMIT $2`
	deliveriesBefore = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries WHERE merchant_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`
	deliveryByID     = `SELECT ` + deliveryColumns + ` FROM webhook_deliveries WHERE merchant_id = $1 AND id = $2`
)

// CreateMerchant implements hebao.Tx.
func (t *tx) CreateMerchant(_ context.Context, m hebao.Merchant) error {
	if m.ID == "" || m.Name == "" || m.Account == 0 || m.WebhookSecretSealed == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a merchant needs an id, a name, an account and a webhook secret")
	}
	_, err := t.execOwn(merchantInsert, m.ID, m.Name, m.APIKeyHash[:], m.WebhookSecretSealed, int64(m.Account), m.CreatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store merchant: %w", err))
	}
	return nil
}

// MerchantByKey implements hebao.Tx.
func (t *tx) MerchantByKey(_ context.Context, hash [32]byte) (hebao.Merchant, error) {
	return t.merchant(merchantByKey, hash[:])
}

// MerchantByID implements hebao.Tx. Merchants committed before the batch began are
// kept in memory: their rows never change, and every payment reads its merchant.
func (t *tx) MerchantByID(_ context.Context, id string) (hebao.Merchant, error) {
	if m, ok := t.b.merchants.get(id); ok {
		return m, nil
	}
	m, err := t.merchant(merchantByID, id)
	if err == nil && m.CreatedAt.Before(t.b.now) {
		t.b.merchants.put(m)
	}
	return m, err
}

// merchantCache holds committed merchants by id.
type merchantCache struct{ m sync.Map }

func (c *merchantCache) get(id string) (hebao.Merchant, bool) {
	if c == nil {
		return hebao.Merchant{}, false
	}
	v, ok := c.m.Load(id)
	if !ok {
		return hebao.Merchant{}, false
	}
	return v.(hebao.Merchant), true
}

func (c *merchantCache) put(m hebao.Merchant) {
	if c != nil {
		c.m.Store(m.ID, m)
	}
}

func (t *tx) merchant(q string, arg any) (hebao.Merchant, error) {
	if err := t.check(); err != nil {
		return hebao.Merchant{}, err
	}
	return readMerchant(t.queryRow(q, arg))
}

// readMerchant scans one merchant row: not_found when there is none.
func readMerchant(r scanner) (hebao.Merchant, error) {
	m, err := scanMerchant(r)
	if isNoRows(err) {
		return hebao.Merchant{}, hebao.Errorf(hebao.CodeNotFound, "no such merchant")
	}
	if err != nil {
		return hebao.Merchant{}, fmt.Errorf("read merchant: %w", err)
	}
	return m, nil
}

// FindMerchant implements hebao.MerchantFinder: MerchantByKey in one statement on
// the read connections, outside any transaction.
func (db *DB) FindMerchant(ctx context.Context, hash [32]byte) (hebao.Merchant, error) {
	return readMerchant(db.b.readRow(ctx, merchantByKey, hash[:]))
}

func scanMerchant(r scanner) (hebao.Merchant, error) {
	var (
		m       hebao.Merchant
		hash    []byte
		account int64
		created int64
	)
	if err := r.Scan(&m.ID, &m.Name, &hash, &m.WebhookSecretSealed, &account, &created); err != nil {
		return hebao.Merchant{}, err
	}
	copy(m.APIKeyHash[:], hash)
	m.Account, m.CreatedAt = hebao.AccountID(account), time.UnixMicro(created).UTC()
	return m, nil
}

// CreateOrder implements hebao.Tx.
func (t *tx) CreateOrder(_ context.Context, o hebao.Order) error {
	if err := orderComplete(o); err != nil {
		return err
	}
	if _, err := t.execOwn(orderInsert, orderInsertArgs(o)...); err != nil {
		return t.retryable(fmt.Errorf("store order: %w", err))
	}
	return nil
}

func orderComplete(o hebao.Order) error {
	if o.ID == "" || o.MerchantID == "" || o.OutTradeNo == "" || o.Amount <= 0 {
		return hebao.Errorf(hebao.CodeInvalidRequest, "an order needs an id, a merchant, a number and an amount")
	}
	return nil
}

func orderInsertArgs(o hebao.Order) []any {
	return []any{o.ID, o.MerchantID, o.OutTradeNo, string(o.Kind), o.Amount, o.Subject, o.NotifyURL, string(o.Status),
		o.RequestHash[:], o.CustomerID, o.WalletID, o.Method, o.CardID, o.MovementID, o.Refunded, int64(o.Refunds),
		o.CreatedAt.UnixMicro(), o.ExpiresAt.UnixMicro(), micros(o.PaidAt), micros(o.ClosedAt), o.UpdatedAt.UnixMicro(), o.PromoPaid, o.CouponID,
		o.Subsidy, o.PromoRefunded, o.SubsidyRefunded, o.PointsEarned, o.PointsReversed}
}

// pgCreateOrder stores an order unless its merchant has one with its out_trade_no
// (committed, or committing: the insert waits for it and then does nothing).
var pgCreateOrder = orderInsert + ` ON CONFLICT (merchant_id, out_trade_no) DO NOTHING RETURNING id`

// CreateOrderOnce implements hebao.OrderCreator. On PostgreSQL it is one statement,
// outside the batches and any transaction, and a read of the order already there
// when the insert found one; on SQLite, whose one writer is the committer's, it is
// a closure like any other.
func (db *DB) CreateOrderOnce(ctx context.Context, build func(time.Time) hebao.Order) (hebao.Order, bool, error) {
	p, ok := db.b.(*pgDB)
	if !ok {
		return hebao.CreateOrderInTransaction(ctx, db, build)
	}
	select {
	case <-db.stop:
		return hebao.Order{}, false, errClosed
	default:
	}
	o := build(db.now().UTC().Truncate(time.Microsecond))
	if err := orderComplete(o); err != nil {
		return hebao.Order{}, false, err
	}
	var id string
	err := p.readRow(ctx, pgCreateOrder, orderInsertArgs(o)...).Scan(&id)
	if err == nil {
		return o, true, nil
	}
	if !isNoRows(err) {
		return hebao.Order{}, false, fmt.Errorf("store order: %w", err)
	}
	prior, err := scanOrder(p.readRow(ctx, orderByNo, o.MerchantID, o.OutTradeNo))
	if err != nil {
		// Stored a moment ago, so found: anything else is the database failing.
		return hebao.Order{}, false, fmt.Errorf("read order: %w", err)
	}
	return prior, false, nil
}

// micros is t in microseconds since the epoch, 0 for the zero time.
func micros(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMicro()
}

// fromMicros is micros reversed.
func fromMicros(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMicro(v).UTC()
}

// OrderByOutTradeNo implements hebao.Tx.
func (t *tx) OrderByOutTradeNo(_ context.Context, merchantID, outTradeNo string) (hebao.Order, error) {
	o, err := t.order(orderByNo, merchantID, outTradeNo)
	if st, ok := t.b.orders[o.ID]; ok && err == nil {
		return st.o, nil // changed earlier in this batch
	}
	return o, err
}

// OrderByID implements hebao.Tx.
func (t *tx) OrderByID(_ context.Context, id string) (hebao.Order, error) {
	if st, ok := t.b.orders[id]; ok {
		if err := t.check(); err != nil {
			return hebao.Order{}, err
		}
		return st.o, nil
	}
	// Read ahead with the batch (PostgreSQL), as committed: orders change only at the
	// flush, and the batch's own changes were found above.
	o, ok := t.b.ahead.order(id)
	var err error
	if ok {
		err = t.check()
	} else {
		o, err = t.order(orderByID, id)
	}
	if err == nil && !t.b.readOnly {
		if t.b.read == nil {
			t.b.read = map[string]hebao.Order{}
		}
		t.b.read[id] = o
	}
	return o, err
}

func (t *tx) order(q string, args ...any) (hebao.Order, error) {
	if err := t.check(); err != nil {
		return hebao.Order{}, err
	}
	o, err := scanOrder(t.queryRow(q, args...))
	if isNoRows(err) {
		return hebao.Order{}, hebao.Errorf(hebao.CodeNotFound, "no such order")
	}
	if err != nil {
		return hebao.Order{}, fmt.Errorf("read order: %w", err)
	}
	return o, nil
}

func scanOrder(r scanner) (hebao.Order, error) {
	var (
		o                                                hebao.Order
		kind, status                                     string
		hash                                             []byte
		refunds, created, expires, paid, closed, updated int64
	)
	err := r.Scan(&o.ID, &o.MerchantID, &o.OutTradeNo, &kind, &o.Amount, &o.Subject, &o.NotifyURL, &status, &hash,
		&o.CustomerID, &o.WalletID, &o.Method, &o.CardID, &o.MovementID, &o.Refunded, &refunds, &created, &expires, &paid, &closed, &updated, &o.PromoPaid, &o.CouponID, &o.Subsidy, &o.PromoRefunded, &o.SubsidyRefunded, &o.PointsEarned, &o.PointsReversed)
	if err != nil {
		return hebao.Order{}, err
	}
	copy(o.RequestHash[:], hash)
	o.Kind, o.Status, o.Refunds = hebao.OrderKind(kind), hebao.OrderStatus(status), int(refunds)
	o.CreatedAt, o.ExpiresAt, o.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(expires).UTC(), time.UnixMicro(updated).UTC()
	o.PaidAt, o.ClosedAt = fromMicros(paid), fromMicros(closed)
	return o, nil
}

// UpdateOrder implements hebao.Tx. The change is buffered like a movement: later
// reads in the batch see it, and the flush writes it with a guard that the row is
// still as the batch loaded it (or the batch runs again), so a payment needs no
// savepoint and no statement of its own.
func (t *tx) UpdateOrder(_ context.Context, o, prev hebao.Order) (bool, error) {
	if err := t.checkWrite(); err != nil {
		return false, err
	}
	st, ok := t.b.orders[o.ID]
	if !ok {
		cur, seen := t.b.read[o.ID]
		if !seen {
			var err error
			cur, err = t.order(orderByID, o.ID)
			if hebao.ErrorCode(err) == hebao.CodeNotFound {
				return false, nil
			}
			if err != nil {
				return false, err
			}
		}
		st = &orderState{o: cur, loaded: cur}
	}
	if st.o.Status != prev.Status || st.o.Refunded != prev.Refunded || st.o.Refunds != prev.Refunds {
		return false, nil
	}
	if t.undoOrders == nil {
		t.undoOrders = map[string]*orderState{}
	}
	if _, seen := t.undoOrders[o.ID]; !seen {
		if ok {
			before := *st
			t.undoOrders[o.ID] = &before
		} else {
			t.undoOrders[o.ID] = nil
		}
	}
	next := &orderState{o: st.o, loaded: st.loaded}
	// Only what may change after creation.
	next.o.Status, next.o.CustomerID, next.o.WalletID, next.o.Method, next.o.CardID, next.o.MovementID = o.Status, o.CustomerID, o.WalletID, o.Method, o.CardID, o.MovementID
	next.o.Refunded, next.o.Refunds, next.o.ExpiresAt, next.o.PaidAt, next.o.ClosedAt, next.o.UpdatedAt = o.Refunded, o.Refunds, o.ExpiresAt, o.PaidAt, o.ClosedAt, o.UpdatedAt
	next.o.PromoPaid, next.o.CouponID, next.o.Subsidy = o.PromoPaid, o.CouponID, o.Subsidy
	next.o.PromoRefunded, next.o.SubsidyRefunded = o.PromoRefunded, o.SubsidyRefunded
	next.o.PointsEarned, next.o.PointsReversed = o.PointsEarned, o.PointsReversed
	if t.b.orders == nil {
		t.b.orders = map[string]*orderState{}
	}
	t.b.orders[o.ID] = next
	return true, nil
}

// orderWriteArgs are orderUpdate's arguments for w.
func orderWriteArgs(w orderWrite) []any {
	o, prev := w.o, w.loaded
	return []any{o.ID, string(prev.Status), string(o.Status), o.CustomerID, o.WalletID, o.Method, o.CardID, o.MovementID,
		o.Refunded, int64(o.Refunds), o.ExpiresAt.UnixMicro(), micros(o.PaidAt), micros(o.ClosedAt), o.UpdatedAt.UnixMicro(),
		prev.Refunded, int64(prev.Refunds), o.PromoPaid, o.CouponID, o.Subsidy, o.PromoRefunded, o.SubsidyRefunded, o.PointsEarned, o.PointsReversed}
}

// OpenOrdersExpiring implements hebao.Tx.
func (t *tx) OpenOrdersExpiring(_ context.Context, before time.Time, limit int) ([]hebao.Order, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(ordersExpiring, before.UnixMicro(), limit)
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
	return out, rs.Err()
}

// CreateDelivery implements hebao.Tx.
func (t *tx) CreateDelivery(_ context.Context, d hebao.WebhookDelivery) error {
	if d.ID == "" || d.MerchantID == "" || d.EventID == "" || d.URL == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a webhook delivery needs an id, a merchant, an event and a URL")
	}
	_, err := t.execOwn(deliveryInsert, d.ID, d.MerchantID, d.EventID, d.EventType, d.URL, d.Payload, int64(d.Attempts), boolInt(d.Delivered),
		micros(d.NextAttemptAt), int64(d.LastStatus), d.LastError, d.CreatedAt.UnixMicro(), d.UpdatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store webhook delivery: %w", err))
	}
	return nil
}

func boolInt(b bool) int64 {
	if b {
		return 1
	}
	return 0
}

// UpdateDelivery implements hebao.Tx.
func (t *tx) UpdateDelivery(_ context.Context, d hebao.WebhookDelivery) error {
	n, err := t.execOwn(deliveryUpdate, d.ID, int64(d.Attempts), boolInt(d.Delivered), micros(d.NextAttemptAt), int64(d.LastStatus),
		d.LastError, d.UpdatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("update webhook delivery: %w", err))
	}
	if n != 1 {
		return hebao.Errorf(hebao.CodeNotFound, "no such webhook delivery")
	}
	return nil
}

// DueDeliveries implements hebao.Tx.
func (t *tx) DueDeliveries(_ context.Context, now time.Time, limit int) ([]hebao.WebhookDelivery, error) {
	return t.deliveries(deliveriesDue, now.UnixMicro(), limit)
}

// Deliveries implements hebao.Tx.
func (t *tx) Deliveries(_ context.Context, merchantID, before string, limit int) ([]hebao.WebhookDelivery, error) {
	if before == "" {
		return t.deliveries(deliveriesNewest, merchantID, limit)
	}
	return t.deliveries(deliveriesBefore, merchantID, before, limit)
}

// Delivery implements hebao.Tx.
func (t *tx) Delivery(_ context.Context, merchantID, id string) (hebao.WebhookDelivery, error) {
	if err := t.check(); err != nil {
		return hebao.WebhookDelivery{}, err
	}
	d, err := scanDelivery(t.queryRow(deliveryByID, merchantID, id))
	if isNoRows(err) {
		return hebao.WebhookDelivery{}, hebao.Errorf(hebao.CodeNotFound, "no such webhook delivery")
	}
	if err != nil {
		return hebao.WebhookDelivery{}, fmt.Errorf("read webhook delivery: %w", err)
	}
	return d, nil
}

func (t *tx) deliveries(q string, args ...any) ([]hebao.WebhookDelivery, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("read webhook deliveries: %w", err)
	}
	defer rs.Close()
	var out []hebao.WebhookDelivery
	for rs.Next() {
		d, err := scanDelivery(rs)
		if err != nil {
			return nil, fmt.Errorf("read webhook deliveries: %w", err)
		}
		out = append(out, d)
	}
	return out, rs.Err()
}

func scanDelivery(r scanner) (hebao.WebhookDelivery, error) {
	var (
		d                                               hebao.WebhookDelivery
		attempts, delivered, next, status, created, upd int64
	)
	err := r.Scan(&d.ID, &d.MerchantID, &d.EventID, &d.EventType, &d.URL, &d.Payload, &attempts, &delivered, &next, &status,
		&d.LastError, &created, &upd)
	if err != nil {
		return hebao.WebhookDelivery{}, err
	}
	d.Attempts, d.Delivered, d.LastStatus = int(attempts), delivered == 1, int(status)
	d.NextAttemptAt, d.CreatedAt, d.UpdatedAt = fromMicros(next), time.UnixMicro(created).UTC(), time.UnixMicro(upd).UTC()
	return d, nil
}

const (
	refundColumns = `id, merchant_id, order_id, out_trade_no, out_refund_no, amount, reason, request_hash, wallet_id, movement_id, created_at`
	refundInsert  = `INSERT INTO refunds (` + refundColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`
	refundByNo    = `SELECT ` + refundColumns + ` FROM refunds WHERE merchant_id = $1 AND out_refund_no = $2`
)

// CreateRefund implements hebao.Tx.
func (t *tx) CreateRefund(_ context.Context, r hebao.Refund) error {
	if r.ID == "" || r.MerchantID == "" || r.OrderID == "" || r.OutRefundNo == "" || r.Amount <= 0 {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a refund needs an id, a merchant, an order, a number and an amount")
	}
	_, err := t.execOwn(refundInsert, r.ID, r.MerchantID, r.OrderID, r.OutTradeNo, r.OutRefundNo, r.Amount, r.Reason, r.RequestHash[:],
		r.WalletID, r.MovementID, r.CreatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store refund: %w", err))
	}
	return nil
}

// RefundByOutRefundNo implements hebao.Tx.
func (t *tx) RefundByOutRefundNo(_ context.Context, merchantID, outRefundNo string) (hebao.Refund, error) {
	if err := t.check(); err != nil {
		return hebao.Refund{}, err
	}
	r, err := scanRefund(t.queryRow(refundByNo, merchantID, outRefundNo))
	if isNoRows(err) {
		return hebao.Refund{}, hebao.Errorf(hebao.CodeNotFound, "no such refund")
	}
	if err != nil {
		return hebao.Refund{}, fmt.Errorf("read refund: %w", err)
	}
	return r, nil
}

func scanRefund(s scanner) (hebao.Refund, error) {
	var (
		r       hebao.Refund
		hash    []byte
		created int64
	)
	if err := s.Scan(&r.ID, &r.MerchantID, &r.OrderID, &r.OutTradeNo, &r.OutRefundNo, &r.Amount, &r.Reason, &hash, &r.WalletID,
		&r.MovementID, &created); err != nil {
		return hebao.Refund{}, err
	}
	copy(r.RequestHash[:], hash)
	r.CreatedAt = time.UnixMicro(created).UTC()
	return r, nil
}

const (
	orderTopupInsert = `INSERT INTO order_topups (movement_id, order_id, auto, created_at) VALUES ($1, $2, $3, $4)`
	orderTopupByID   = `SELECT movement_id, order_id, auto, created_at FROM order_topups WHERE movement_id = $1`
)

// CreateOrderTopup implements hebao.Tx.
func (t *tx) CreateOrderTopup(_ context.Context, ot hebao.OrderTopup) error {
	if ot.MovementID == "" || ot.OrderID == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "an order's top-up needs a movement and an order")
	}
	if _, err := t.execOwn(orderTopupInsert, ot.MovementID, ot.OrderID, boolInt(ot.Auto), ot.CreatedAt.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("store order top-up: %w", err))
	}
	return nil
}

// OrderTopup implements hebao.Tx.
func (t *tx) OrderTopup(_ context.Context, movementID string) (hebao.OrderTopup, error) {
	if err := t.check(); err != nil {
		return hebao.OrderTopup{}, err
	}
	var (
		ot            hebao.OrderTopup
		auto, created int64
	)
	err := t.queryRow(orderTopupByID, movementID).Scan(&ot.MovementID, &ot.OrderID, &auto, &created)
	if isNoRows(err) {
		return hebao.OrderTopup{}, hebao.Errorf(hebao.CodeNotFound, "this top-up pays no order")
	}
	if err != nil {
		return hebao.OrderTopup{}, fmt.Errorf("read order top-up: %w", err)
	}
	ot.Auto, ot.CreatedAt = auto == 1, time.UnixMicro(created).UTC()
	return ot, nil
}

const refundByID = `SELECT ` + refundColumns + ` FROM refunds WHERE id = $1`

// RefundByID implements hebao.Tx.
func (t *tx) RefundByID(_ context.Context, id string) (hebao.Refund, error) {
	if err := t.check(); err != nil {
		return hebao.Refund{}, err
	}
	r, err := scanRefund(t.queryRow(refundByID, id))
	if isNoRows(err) {
		return hebao.Refund{}, hebao.Errorf(hebao.CodeNotFound, "no such refund")
	}
	if err != nil {
		return hebao.Refund{}, fmt.Errorf("read refund: %w", err)
	}
	return r, nil
}

const orderTopupsByOrder = `SELECT movement_id, order_id, auto, created_at FROM order_topups WHERE order_id = $1 ORDER BY created_at, movement_id`

// OrderTopups implements hebao.Tx.
func (t *tx) OrderTopups(_ context.Context, orderID string) ([]hebao.OrderTopup, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(orderTopupsByOrder, orderID)
	if err != nil {
		return nil, fmt.Errorf("read order top-ups: %w", err)
	}
	defer rs.Close()
	var out []hebao.OrderTopup
	for rs.Next() {
		var (
			ot            hebao.OrderTopup
			auto, created int64
		)
		if err := rs.Scan(&ot.MovementID, &ot.OrderID, &auto, &created); err != nil {
			return nil, fmt.Errorf("read order top-ups: %w", err)
		}
		ot.Auto, ot.CreatedAt = auto == 1, time.UnixMicro(created).UTC()
		out = append(out, ot)
	}
	return out, rs.Err()
}
