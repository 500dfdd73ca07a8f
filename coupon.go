package hebao

import (
	"context"
	"math/bits"
	"time"
)

// CouponKind is how a coupon takes money off (SPEC §7).
type CouponKind string

// The coupon kinds.
const (
	CouponFixed     CouponKind = "fixed"     // 立减: Off fen off
	CouponThreshold CouponKind = "threshold" // 满减: spend at least Threshold, get Off off
	CouponPercent   CouponKind = "percent"   // 折扣: Percent% off, at most Cap
)

// CouponTemplate is a coupon a campaign gives: in its opening pack, one coupon each.
type CouponTemplate struct {
	Kind      CouponKind `json:"kind"`
	Off       int64      `json:"off,omitempty"`       // fen, fixed and threshold
	Threshold int64      `json:"threshold,omitempty"` // fen, threshold
	Percent   int        `json:"percent,omitempty"`   // 1–99, percent
	Cap       int64      `json:"cap,omitempty"`       // fen, percent
	// ValidDays is how long a coupon stays valid after it is given (within the
	// campaign's window).
	ValidDays  int    `json:"valid_days"`
	MerchantID string `json:"merchant_id,omitempty"` // "": any merchant
}

// Validate checks a template.
// Errors: invalid_request.
func (c CouponTemplate) Validate() error {
	switch {
	case c.ValidDays < 1 || c.ValidDays > 366:
		return Errorf(CodeInvalidRequest, "a coupon's valid_days must be 1 to 366")
	case c.Kind == CouponFixed && c.Off > 0:
	case c.Kind == CouponThreshold && c.Off > 0 && c.Threshold > c.Off:
	case c.Kind == CouponPercent && c.Percent >= 1 && c.Percent <= 99 && c.Cap > 0:
	default:
		return Errorf(CodeInvalidRequest, "a coupon is fixed {off}, threshold {threshold > off} or percent {percent 1–99, cap}")
	}
	return nil
}

// Coupon is one coupon a customer holds.
type Coupon struct {
	ID         string // "cpn_…"
	CustomerID string
	CampaignID string
	CouponTemplate
	ValidFrom  time.Time
	ValidUntil time.Time
	// UsedOrderID is the order it paid part of, once used; a coupon is used once and
	// never given back, even when the order is refunded.
	UsedOrderID string
	// Source is where it came from: "" for an opening pack, "points:<i>" for the
	// campaign's points offer i.
	Source    string
	CreatedAt time.Time
}

// Discount is what c takes off a payment of amount, 0 when it does not apply.
// Percent coupons round down: a discount never exceeds what the percent gives.
func (c Coupon) Discount(amount int64) int64 {
	var off int64
	switch c.Kind {
	case CouponFixed:
		off = c.Off
	case CouponThreshold:
		if amount >= c.Threshold {
			off = c.Off
		}
	case CouponPercent:
		off = min(amount*int64(c.Percent)/100, c.Cap) // amount ≤ 10^12: no overflow
	}
	// A coupon never makes a payment free: at least 1 fen is paid.
	return max(0, min(off, amount-1))
}

// MaxDiscount is the most a coupon of template c can take off a payment.
func (c CouponTemplate) MaxDiscount() int64 {
	if c.Kind == CouponPercent {
		return c.Cap
	}
	return c.Off
}

// Usable says why c cannot pay part of o now, if it cannot.
// Errors: coupon_unusable.
func (c Coupon) Usable(o Order, now time.Time) error {
	switch {
	case c.UsedOrderID != "":
		return Errorf(CodeCouponUnusable, "this coupon has been used")
	case now.Before(c.ValidFrom) || !now.Before(c.ValidUntil):
		return Errorf(CodeCouponUnusable, "this coupon is not valid now")
	case c.MerchantID != "" && c.MerchantID != o.MerchantID:
		return Errorf(CodeCouponUnusable, "this coupon is not for this merchant")
	case c.Discount(o.Amount) == 0:
		return Errorf(CodeCouponUnusable, "this coupon does not apply to this amount")
	}
	return nil
}

// CouponTx is the part of Tx that keeps coupons.
type CouponTx interface {
	// CreateCoupon stores a coupon.
	CreateCoupon(ctx context.Context, c Coupon) error
	// Coupon returns the customer's coupon; not_found if none or another's.
	Coupon(ctx context.Context, customerID, id string) (Coupon, error)
	// Coupons returns the customer's unused coupons valid at at.
	Coupons(ctx context.Context, customerID string, at time.Time) ([]Coupon, error)
	// UseCoupon marks the coupon used for the order, and reports whether it did:
	// false when it was used already.
	UseCoupon(ctx context.Context, id, orderID string) (bool, error)
}

// share is the part of a refund of amount from o (after refunded so far) that goes
// back to a part of the payment of size part: in proportion, rounded down on the
// running total, so a whole order refunded in any number of pieces gives back exactly
// part.
func share(o Order, part, amount int64) int64 {
	if part <= 0 || o.Amount <= 0 {
		return 0
	}
	upTo := func(refunded int64) int64 {
		hi, lo := bits.Mul64(uint64(refunded), uint64(part))
		q, _ := bits.Div64(hi, lo, uint64(o.Amount))
		return int64(q)
	}
	return upTo(o.Refunded+amount) - upTo(o.Refunded)
}
