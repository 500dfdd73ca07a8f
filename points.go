package hebao

import (
	"context"
	"math/bits"
	"time"
)

// Points (积分, SPEC §7) are a unit of their own in the ledger, POINT: each wallet has
// a points account, and every point comes out of the operator's points-issuance
// account (which may go below zero: it is the points in circulation). Points are
// earned on payments from the wallet's cash balance, one per whole yuan unless an
// active campaign gives more; they are kept in yearly buckets, spent oldest first, and
// a bucket expires at the end of the year after the one it was earned in (China
// time). A refund takes back the payment's points in proportion; a campaign may offer
// cash or coupons for points, paid from its budget.

// DefaultPointsPerYuan is what a payment earns per whole yuan paid from the cash
// balance when no active campaign gives more.
const DefaultPointsPerYuan = 1

// maxPointsPerYuan bounds a campaign's earning rate.
const maxPointsPerYuan = 100

// PointsBucket is the points a wallet earned in one year (China time), and what is
// left of them.
type PointsBucket struct {
	WalletID  string
	Year      int
	Earned    int64 // earned in the year, less what refunds took back
	Remaining int64 // not yet spent, taken back or expired
	Expired   int64
}

// ExpiresAt is when what remains of b expires: the end of the following year, China
// time.
func (b PointsBucket) ExpiresAt() time.Time {
	return time.Date(b.Year+2, 1, 1, 0, 0, 0, 0, chinaTime)
}

// pointsYear is the year, China time, of t: the bucket points earned at t go to.
func pointsYear(t time.Time) int { return t.In(chinaTime).Year() }

// AccountEntry is one posting on an account, with the transfer it belongs to: a line
// of the account's history straight from the journal.
type AccountEntry struct {
	Seq        int64
	TransferID string
	Kind       TransferKind
	Ref        string
	Amount     int64 // signed: into the account positive
	CreatedAt  time.Time
}

// PointsTx is the part of Tx that keeps the points buckets.
type PointsTx interface {
	// PointsBuckets returns the wallet's buckets, oldest year first, with what the
	// transaction changed.
	PointsBuckets(ctx context.Context, walletID string) ([]PointsBucket, error)
	// ChangePointsBucket adds the deltas to the wallet's bucket of year, creating it
	// at zero first. Remaining never goes below zero: a change that would take it
	// there fails the transaction.
	ChangePointsBucket(ctx context.Context, walletID string, year int, earned, remaining, expired int64) error
	// DuePointsBuckets returns up to limit buckets of years before beforeYear with
	// points remaining, oldest first.
	DuePointsBuckets(ctx context.Context, beforeYear int, limit int) ([]PointsBucket, error)
	// AccountEntries returns up to limit postings on the account, newest first, of
	// transfers with a sequence number below before (from the newest when 0).
	AccountEntries(ctx context.Context, id AccountID, before int64, limit int) ([]AccountEntry, error)
	// SystemAccount returns the id of the operator's account of kind and owner,
	// creating it the first time. Stores may remember the ids of committed accounts.
	SystemAccount(ctx context.Context, kind AccountKind, owner string) (AccountID, error)
	// CountCoupons counts the customer's coupons from the campaign with this source,
	// used or not.
	CountCoupons(ctx context.Context, customerID, campaignID, source string) (int, error)
}

// PointsCashRate is a campaign's offer of cash for points: Fen fen for every Points
// points, paid from its budget.
type PointsCashRate struct {
	Points int64 `json:"points"`
	Fen    int64 `json:"fen"`
}

// PointsCouponOffer is a campaign's offer of a coupon for points, at most PerCustomer
// times for each customer (0: no limit).
type PointsCouponOffer struct {
	Points      int64          `json:"points"`
	Coupon      CouponTemplate `json:"coupon"`
	PerCustomer int            `json:"per_customer,omitempty"`
}

// validatePointsRules checks the points part of a campaign's rules.
// Errors: invalid_request.
func (r CampaignRules) validatePoints(budget int64) error {
	if r.PointsPerYuan < 0 || r.PointsPerYuan > maxPointsPerYuan {
		return Errorf(CodeInvalidRequest, "points_per_yuan must be from 0 to %d", maxPointsPerYuan)
	}
	if c := r.PointsCash; c != nil {
		if c.Points < 1 || c.Points > 1_000_000 || c.Fen < 1 || c.Fen > budget {
			return Errorf(CodeInvalidRequest, "points_cash is {points 1–1,000,000, fen 1 to the budget}")
		}
	}
	if len(r.PointsCoupons) > 10 {
		return Errorf(CodeInvalidRequest, "a campaign offers at most 10 coupons for points")
	}
	for _, o := range r.PointsCoupons {
		if o.Points < 1 || o.Points > 100_000_000 || o.PerCustomer < 0 || o.PerCustomer > 1000 {
			return Errorf(CodeInvalidRequest, "a points coupon is {points 1–100,000,000, coupon, per_customer 0–1000}")
		}
		if err := o.Coupon.Validate(); err != nil {
			return err
		}
	}
	return nil
}

// pointsRate is what a payment at now earns per whole yuan: the highest rate of the
// active campaigns, at least DefaultPointsPerYuan.
func pointsRate(ctx context.Context, tx Tx, now time.Time) (int64, error) {
	cs, err := tx.ActiveCampaigns(ctx, now)
	if err != nil {
		return 0, err
	}
	rate := int64(DefaultPointsPerYuan)
	for _, c := range cs {
		rate = max(rate, c.Rules.PointsPerYuan)
	}
	return rate, nil
}

// earnPoints gives the payer of o the points for paying cash fen of it from their
// balance, in tx: one transfer from the points-issuance account, counted in this
// year's bucket. It returns o with PointsEarned set.
func earnPoints(ctx context.Context, tx Tx, o Order, payer Wallet, cash int64, now time.Time) (Order, error) {
	if cash < 100 {
		return o, nil
	}
	rate, err := pointsRate(ctx, tx, now)
	if err != nil {
		return Order{}, err
	}
	n := cash / 100 * rate
	issuance, err := tx.SystemAccount(ctx, AccountPointsIssuance, "")
	if err != nil {
		return Order{}, err
	}
	if err := tx.Post(ctx, &Transfer{ID: NewID("trf"), Kind: TransferPointsEarn, Ref: o.ID, Postings: Move(issuance, payer.PointsAccount, POINT, n)}); err != nil {
		return Order{}, err
	}
	if err := tx.ChangePointsBucket(ctx, payer.ID, pointsYear(now), n, n, 0); err != nil {
		return Order{}, err
	}
	o.PointsEarned = n
	return o, nil
}

// reversePoints takes back, in tx, the points of o that its refunds so far have
// undone: the points earned times the cash refunded over the cash paid, rounded down,
// less what earlier refunds took back. They come out of the bucket they went into,
// then the oldest others; points the customer has spent already are not taken from
// anywhere else (the operator bears them). ref is the refund. It returns o with
// PointsReversed updated.
func reversePoints(ctx context.Context, tx Tx, o Order, w Wallet, ref string) (Order, error) {
	if o.PointsEarned == 0 {
		return o, nil
	}
	cashPaid := o.Amount - o.Subsidy - o.PromoPaid
	cashBack := o.Refunded - o.SubsidyRefunded - o.PromoRefunded
	if cashPaid <= 0 {
		return o, nil
	}
	hi, lo := bits.Mul64(uint64(min(cashBack, cashPaid)), uint64(o.PointsEarned))
	q, _ := bits.Div64(hi, lo, uint64(cashPaid))
	due := int64(q) - o.PointsReversed
	if due <= 0 {
		return o, nil
	}
	o.PointsReversed += due
	buckets, err := tx.PointsBuckets(ctx, w.ID)
	if err != nil {
		return Order{}, err
	}
	earnedIn := pointsYear(o.PaidAt)
	// The bucket the points went into first, then the others oldest first.
	order := make([]PointsBucket, 0, len(buckets))
	for _, b := range buckets {
		if b.Year == earnedIn {
			order = append(order, b)
		}
	}
	for _, b := range buckets {
		if b.Year != earnedIn {
			order = append(order, b)
		}
	}
	left, taken := due, int64(0)
	for _, b := range order {
		take := min(left, b.Remaining)
		if take == 0 {
			continue
		}
		earned := int64(0)
		if b.Year == earnedIn {
			earned = -take // the year earned less
		}
		if err := tx.ChangePointsBucket(ctx, w.ID, b.Year, earned, -take, 0); err != nil {
			return Order{}, err
		}
		left, taken = left-take, taken+take
	}
	if taken == 0 {
		return o, nil
	}
	issuance, err := tx.SystemAccount(ctx, AccountPointsIssuance, "")
	if err != nil {
		return Order{}, err
	}
	return o, tx.Post(ctx, &Transfer{ID: NewID("trf"), Kind: TransferReversal, Ref: ref, Postings: Move(w.PointsAccount, issuance, POINT, taken)})
}

// spendPoints takes n points from the wallet's buckets, oldest first, in tx (the
// caller posts the ledger transfer). Errors: insufficient_funds.
func spendPoints(ctx context.Context, tx Tx, walletID string, n int64) error {
	buckets, err := tx.PointsBuckets(ctx, walletID)
	if err != nil {
		return err
	}
	have := int64(0)
	for _, b := range buckets {
		have += b.Remaining
	}
	if have < n {
		return Errorf(CodeInsufficientFunds, "you have %d points, and this needs %d", have, n)
	}
	for _, b := range buckets {
		take := min(n, b.Remaining)
		if take == 0 {
			continue
		}
		if err := tx.ChangePointsBucket(ctx, walletID, b.Year, 0, -take, 0); err != nil {
			return err
		}
		if n -= take; n == 0 {
			break
		}
	}
	return nil
}
