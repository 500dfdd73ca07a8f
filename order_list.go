package hebao

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"time"
)

// OrderQuery selects a merchant's orders for MerchantTx.MerchantOrders: newest
// first by creation time, then by id.
type OrderQuery struct {
	MerchantID string
	Status     OrderStatus // "" for every status
	From       time.Time   // created at or after; zero for no lower bound
	// Before and BeforeID bound the list from above: only orders whose (created_at,
	// id) sorts below (Before, BeforeID) come, so BeforeID "" means created before
	// Before. A zero Before is no upper bound.
	Before   time.Time
	BeforeID string
	Limit    int
}

// OrderPage is one page of a merchant's orders, newest first. Next continues it;
// "" on the last page.
type OrderPage struct {
	Orders []Order
	Next   string
}

// OrderListRequest is a merchant's GET /v1/merchant/orders?limit=&cursor=&status=&date=.
type OrderListRequest struct {
	Limit  int    // 1 to MaxPageSize
	Cursor string // "" for the newest; else a Next of an earlier page
	Status string // "" or an OrderStatus
	Date   string // "" or a China day, YYYY-MM-DD: orders created that day
}

// List returns a page of the merchant's own orders, newest first, optionally only
// those with a status or created on a China day (UTC+8). Another merchant's orders
// never come, whatever the cursor says.
// Errors: invalid_request (limit, cursor, status, date).
func (s *OrderService) List(ctx context.Context, m Merchant, r OrderListRequest) (OrderPage, error) {
	if r.Limit < 1 || r.Limit > MaxPageSize {
		return OrderPage{}, Errorf(CodeInvalidRequest, "limit must be an integer from 1 to %d", MaxPageSize)
	}
	q := OrderQuery{MerchantID: m.ID, Status: OrderStatus(r.Status), Limit: r.Limit + 1}
	switch q.Status {
	case "", OrderNotPaid, OrderUserPaying, OrderSuccess, OrderRefund, OrderClosed:
	default:
		return OrderPage{}, Errorf(CodeInvalidRequest, "status must be one of NOTPAY, USERPAYING, SUCCESS, REFUND and CLOSED")
	}
	if r.Date != "" {
		day, err := time.ParseInLocation(time.DateOnly, r.Date, chinaTime)
		if err != nil || day.Format(time.DateOnly) != r.Date || day.Year() < 2000 {
			return OrderPage{}, Errorf(CodeInvalidRequest, "date must be a China day written YYYY-MM-DD, such as 2026-11-25")
		}
		q.From, q.Before = day, day.AddDate(0, 0, 1)
	}
	if r.Cursor != "" {
		at, id, err := decodeOrderCursor(r.Cursor)
		if err != nil {
			return OrderPage{}, err
		}
		if q.Before.IsZero() || at.Before(q.Before) {
			q.Before, q.BeforeID = at, id
		}
	}
	var page OrderPage
	err := s.Store.View(ctx, func(tx Tx) error {
		os, err := tx.MerchantOrders(ctx, q)
		if err != nil {
			return err
		}
		page = OrderPage{Orders: os}
		if len(os) > r.Limit {
			page.Orders = os[:r.Limit]
			last := os[r.Limit-1]
			page.Next = encodeOrderCursor(last.CreatedAt, last.ID)
		}
		return nil
	})
	return page, err
}

// orderCursorPrefix versions the order list's cursor, which clients must treat as
// opaque: the creation time, in microseconds, and the id of the last order shown.
const orderCursorPrefix = "o1."

func encodeOrderCursor(at time.Time, id string) string {
	return base64.RawURLEncoding.EncodeToString([]byte(orderCursorPrefix + strconv.FormatInt(at.UnixMicro(), 10) + "." + id))
}

// decodeOrderCursor reads a cursor made by encodeOrderCursor.
// Errors: invalid_request.
func decodeOrderCursor(c string) (time.Time, string, error) {
	bad := Errorf(CodeInvalidRequest, "cursor is not one this server gave out")
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return time.Time{}, "", bad
	}
	rest, ok := strings.CutPrefix(string(b), orderCursorPrefix)
	if !ok {
		return time.Time{}, "", bad
	}
	num, id, ok := strings.Cut(rest, ".")
	if !ok || !ValidID("ord", id) {
		return time.Time{}, "", bad
	}
	us, err := strconv.ParseInt(num, 10, 64)
	if err != nil || us < 1 || strconv.FormatInt(us, 10) != num {
		return time.Time{}, "", bad
	}
	return time.UnixMicro(us).UTC(), id, nil
}
