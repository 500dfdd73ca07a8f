package hebao

import (
	"context"
	"math/bits"
	"slices"
	"time"
)

// Points (积分, SPEC §7) are a unit of their own in the ledger, POINT: each wallet has
// a points account, and every point comes out of the operator's points-issuance
// account (which may go below zero: it is the points in circulation). Points are
// earned on payments from the wallet's cash balance, one per whole yuan unless an
// active campaign gives more, and expire at the end of the year after the one they
// were earned in (China time).
//
// Points are always spent oldest first — redeemed, taken back by a refund or
// expired — so the points a wallet holds are the ones it earned last. Its yearly
// buckets therefore follow from two things the ledger already knows: the balance
// of its points account, and what it earned each year (its points_earn postings).
// A payment writes no bucket: it only posts the points it earns.

// DefaultPointsPerYuan is what a payment earns per whole yuan paid from the cash
// balance when no active campaign gives more.
const DefaultPointsPerYuan = 1

// maxPointsPerYuan bounds a campaign's earning rate.
const maxPointsPerYuan = 100

// PointsBucket is the points a wallet earned in one year (China time), and what is
// left of them.
type PointsBucket struct {
	Year      int
	Earned    int64 // earned in the year (before refunds took any back)
	Remaining int64
}

// ExpiresAt is when what remains of b expires: the end of the following year, China
// time.
func (b PointsBucket) ExpiresAt() time.Time { return pointsYearStart(b.Year + 2) }

// pointsYear is the year, China time, of t.
func pointsYear(t time.Time) int { return t.In(chinaTime).Year() }

// pointsYearStart is the first moment of year y, China time.
func pointsYearStart(y int) time.Time { return time.Date(y, 1, 1, 0, 0, 0, 0, chinaTime) }

// pointsBuckets returns the buckets of a points account holding balance points at
// now, oldest first: all points older than last year not yet expired by ExpireDue
// as one bucket of the year before last, then last year's and this year's.
func pointsBuckets(ctx context.Context, tx Tx, acct AccountID, balance int64, now time.Time) ([]PointsBucket, error) {
	year := pointsYear(now)
	var out []PointsBucket
	left, later := balance, int64(0) // later: earned in the years after the one at hand
	for y := year; y >= year-2 && left > 0; y-- {
		since, err := tx.PointsEarnedSince(ctx, acct, pointsYearStart(y))
		if err != nil {
			return nil, err
		}
		b := PointsBucket{Year: y, Earned: since - later, Remaining: min(left, since-later)}
		if y == year-2 {
			b.Remaining = left // and everything older
		}
		later = since
		if b.Remaining > 0 {
			out = append(out, b)
			left -= b.Remaining
		}
	}
	slices.Reverse(out)
	return out, nil
}

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

// PointsTx is the part of Tx that answers what points need.
type PointsTx interface {
	// PointsEarnedSince adds up what the points account earned (its points_earn
	// postings) at or after since.
	PointsEarnedSince(ctx context.Context, acct AccountID, since time.Time) (int64, error)
	// PointsHolders returns up to limit points accounts with a balance above zero
	// and an id above after, in id order.
	PointsHolders(ctx context.Context, after AccountID, limit int) ([]Account, error)
	// PointsExpiryDone reports whether the expiry of the points earned before year
	// finished; MarkPointsExpiryDone records that it did.
	PointsExpiryDone(ctx context.Context, year int) (bool, error)
	MarkPointsExpiryDone(ctx context.Context, year int, at time.Time) error
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
// balance, in tx: one transfer from the points-issuance account. It returns o with
// PointsEarned set.
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
	o.PointsEarned = n
	return o, nil
}

// reversePoints takes back, in tx, the points of o that its refunds so far have
// undone: the points earned times the cash refunded over the cash paid, rounded down,
// less what earlier refunds took back. Like every spending of points they come from
// the oldest the wallet holds; points it no longer holds (spent or expired) are not
// taken from anything else: the operator bears them. ref is the refund. It returns o
// with PointsReversed updated.
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
	held, err := accountBalance(ctx, tx, w.PointsAccount)
	if err != nil {
		return Order{}, err
	}
	if take := min(due, held); take > 0 {
		issuance, err := tx.SystemAccount(ctx, AccountPointsIssuance, "")
		if err != nil {
			return Order{}, err
		}
		return o, tx.Post(ctx, &Transfer{ID: NewID("trf"), Kind: TransferReversal, Ref: ref, Postings: Move(w.PointsAccount, issuance, POINT, take)})
	}
	return o, nil
}
