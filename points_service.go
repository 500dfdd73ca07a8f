package hebao

import (
	"context"
	"encoding/json"
	"math/bits"
	"strconv"
	"time"
)

// PointsService shows a customer's points, turns them into cash or coupons at a
// campaign's rates, and expires old buckets (SPEC §7).
type PointsService struct {
	Store Store
	Tiers TierLimits // zero: DefaultTierLimits
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
	// Committed, if set, is called after each change that wrote an event.
	Committed func()
}

// PointsView is GET /v1/points: the balance, the buckets with points left and when
// they expire, and a page of the history.
type PointsView struct {
	Balance int64
	Buckets []PointsBucket
	History []AccountEntry
	// Offers are what the active campaigns give for points.
	Offers []PointsOffer
}

// PointsOffer is one thing an active campaign gives for points.
type PointsOffer struct {
	CampaignID   string
	CampaignName string
	Cash         *PointsCashRate    // cash for points, or
	Coupon       *PointsCouponOffer // a coupon (Index is its place in the campaign's list)
	Index        int
	// Left is how many more of the coupon the customer may take; -1 for no limit.
	Left int
}

// MaxPointsHistory is the longest page of points history.
const MaxPointsHistory = 100

// Points returns the customer's points: balance, buckets and the history page of
// entries with a sequence below before (newest first; 0 for the newest).
// Errors: not_found (no wallet).
func (s *PointsService) Points(ctx context.Context, customerID string, before int64, limit int) (PointsView, error) {
	if limit <= 0 || limit > MaxPointsHistory {
		limit = 20
	}
	var out PointsView
	err := s.Store.View(ctx, func(tx Tx) error {
		out = PointsView{}
		now := nowIn(s.Now, tx)
		w, err := tx.WalletByCustomer(ctx, customerID)
		if err != nil {
			return err
		}
		bal, err := accountBalance(ctx, tx, w.PointsAccount)
		if err != nil {
			return err
		}
		out.Balance = bal
		if out.Buckets, err = pointsBuckets(ctx, tx, w.PointsAccount, bal, now); err != nil {
			return err
		}
		if out.History, err = tx.AccountEntries(ctx, w.PointsAccount, before, limit); err != nil {
			return err
		}
		cs, err := tx.ActiveCampaigns(ctx, now)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.Rules.PointsCash == nil && len(c.Rules.PointsCoupons) == 0 {
				continue
			}
			// Only what the budget can still pay is offered.
			budget, err := accountBalance(ctx, tx, c.Account)
			if err != nil {
				return err
			}
			if c.Rules.PointsCash != nil && budget >= c.Rules.PointsCash.Fen {
				out.Offers = append(out.Offers, PointsOffer{CampaignID: c.ID, CampaignName: c.Name, Cash: c.Rules.PointsCash, Left: -1})
			}
			for i := range c.Rules.PointsCoupons {
				o := &c.Rules.PointsCoupons[i]
				if budget < o.Coupon.MaxDiscount() {
					continue
				}
				left := -1
				if o.PerCustomer > 0 {
					n, err := tx.CountCoupons(ctx, customerID, c.ID, pointsCouponSource(i))
					if err != nil {
						return err
					}
					left = max(0, o.PerCustomer-n)
				}
				out.Offers = append(out.Offers, PointsOffer{CampaignID: c.ID, CampaignName: c.Name, Coupon: o, Index: i, Left: left})
			}
		}
		return nil
	})
	if ErrorCode(err) == CodeNotFound {
		err = Errorf(CodeNotFound, "no wallet: open one first")
	}
	return out, err
}

func pointsCouponSource(i int) string { return "points:" + strconv.Itoa(i) }

// RedeemRequest is POST /v1/points/redeem: either Points points for cash at the
// campaign's rate (a whole number of its steps), or the campaign's coupon offer
// CouponIndex.
type RedeemRequest struct {
	CustomerID  string
	CampaignID  string
	Kind        string // "cash" or "coupon"
	Points      int64  // cash: how many points to turn into cash
	CouponIndex int    // coupon: which of the campaign's offers
	Key         string // the Idempotency-Key
	// Reply renders the answer to store for the key.
	Reply func(Redemption) (Reply, error)
}

// Redemption is what redeeming points did.
type Redemption struct {
	ID          string // the ledger transfer's id
	Kind        string
	Points      int64
	Cash        int64  // fen into the balance, for cash
	CouponID    string // the coupon given, for a coupon
	PointsAfter int64
	CreatedAt   time.Time
}

// Redeem turns the customer's points into cash or a coupon at an active campaign's
// rate, once per idempotency key: points leave the points account for the issuance
// account and the cash leaves the campaign's budget, in one transfer; a coupon is
// given for the campaign to pay when used.
// Errors: invalid_request, not_found (campaign or offer), insufficient_funds (too few
// points), promotion_unavailable (ended, budget spent, or the customer's limit
// reached), wallet_frozen, balance_cap_exceeded, idempotency_key_reused,
// idempotency_key_in_use.
func (s *PointsService) Redeem(ctx context.Context, r RedeemRequest) (Reply, error) {
	switch {
	case !ValidID("cmp", r.CampaignID):
		return Reply{}, Errorf(CodeInvalidRequest, "campaign_id is not a campaign id")
	case r.Kind == "cash" && (r.Points < 1 || r.Points > maxPosting):
		return Reply{}, Errorf(CodeInvalidRequest, "points must be a positive number")
	case r.Kind == "coupon" && (r.CouponIndex < 0 || r.CouponIndex > 9):
		return Reply{}, Errorf(CodeInvalidRequest, "coupon must be the index of one of the campaign's coupon offers")
	case r.Kind != "cash" && r.Kind != "coupon":
		return Reply{}, Errorf(CodeInvalidRequest, "kind must be cash or coupon")
	case r.Key == "":
		return Reply{}, Errorf(CodeInvalidRequest, "an Idempotency-Key header is required")
	}
	body, _ := json.Marshal([]any{r.CampaignID, r.Kind, r.Points, r.CouponIndex})
	key := NewIdempotencyKey(r.CustomerID+" POST /v1/points/redeem", r.Key, body)
	var reply Reply
	err := s.Store.Transact(ctx, func(tx Tx) error {
		prior, err := tx.Reply(ctx, key)
		if err != nil {
			return err
		}
		if prior != nil {
			reply = *prior
			return nil
		}
		now := nowIn(s.Now, tx)
		w, err := tx.WalletByCustomer(ctx, r.CustomerID)
		if err != nil {
			return err
		}
		if err := CanPay(w); err != nil {
			return err
		}
		c, err := tx.CampaignByID(ctx, r.CampaignID)
		if ErrorCode(err) == CodeNotFound {
			return Errorf(CodeNotFound, "no such campaign")
		}
		if err != nil {
			return err
		}
		if !c.Active(now) {
			return Errorf(CodePromotionUnavailable, "this campaign is not running now")
		}
		issuance, err := tx.SystemAccount(ctx, AccountPointsIssuance, "")
		if err != nil {
			return err
		}
		red := Redemption{ID: NewID("trf"), Kind: r.Kind, CreatedAt: now}
		t := &Transfer{ID: red.ID, Kind: TransferPointsRedeem}
		if r.Kind == "cash" {
			rate := c.Rules.PointsCash
			if rate == nil {
				return Errorf(CodeNotFound, "this campaign gives no cash for points")
			}
			if r.Points%rate.Points != 0 {
				return Errorf(CodeInvalidRequest, "points must be a multiple of %d", rate.Points)
			}
			hi, lo := bits.Mul64(uint64(r.Points/rate.Points), uint64(rate.Fen))
			if hi != 0 || lo > uint64(MaxAmount) {
				return Errorf(CodeInvalidRequest, "that is too many points at once")
			}
			red.Points, red.Cash = r.Points, int64(lo)
			limits, err := s.Tiers.orDefault().For(w.Tier)
			if err != nil {
				return err
			}
			if err := checkCap(ctx, tx, w, limits, red.Cash, false); err != nil {
				return err
			}
			t.Ref = c.ID
			t.Postings = append(Move(w.PointsAccount, issuance, POINT, red.Points), Move(c.Account, w.Account, CNY, red.Cash)...)
		} else {
			if r.CouponIndex >= len(c.Rules.PointsCoupons) {
				return Errorf(CodeNotFound, "this campaign has no such coupon offer")
			}
			offer := c.Rules.PointsCoupons[r.CouponIndex]
			src := pointsCouponSource(r.CouponIndex)
			if offer.PerCustomer > 0 {
				n, err := tx.CountCoupons(ctx, r.CustomerID, c.ID, src)
				if err != nil {
					return err
				}
				if n >= offer.PerCustomer {
					return Errorf(CodePromotionUnavailable, "you have taken this coupon the %d times each customer may", offer.PerCustomer)
				}
			}
			// Sold only while the budget can pay the most the coupon can take off;
			// it is paid when used, if the budget still can.
			if left, err := accountBalance(ctx, tx, c.Account); err != nil {
				return err
			} else if left < offer.Coupon.MaxDiscount() {
				return Errorf(CodePromotionUnavailable, "the promotion behind this coupon has run out")
			}
			until := now.Add(time.Duration(offer.Coupon.ValidDays) * 24 * time.Hour)
			if until.After(c.EndsAt) {
				until = c.EndsAt
			}
			cpn := Coupon{ID: NewID("cpn"), CustomerID: r.CustomerID, CampaignID: c.ID, CouponTemplate: offer.Coupon,
				ValidFrom: now, ValidUntil: until, Source: src, CreatedAt: now}
			if err := tx.CreateCoupon(ctx, cpn); err != nil {
				return err
			}
			red.Points, red.CouponID = offer.Points, cpn.ID
			t.Ref = cpn.ID
			t.Postings = Move(w.PointsAccount, issuance, POINT, red.Points)
		}
		if held, err := accountBalance(ctx, tx, w.PointsAccount); err != nil {
			return err
		} else if held < red.Points {
			return Errorf(CodeInsufficientFunds, "you have %d points, and this needs %d", held, red.Points)
		}
		if err := tx.Post(ctx, t); err != nil {
			if ErrorCode(err) == CodeInsufficientFunds {
				if left, rerr := accountBalance(ctx, tx, c.Account); rerr == nil && left < red.Cash {
					return Errorf(CodePromotionUnavailable, "the promotion has run out: it cannot pay %s now", yuan(red.Cash))
				}
			}
			return err
		}
		red.PointsAfter = t.Balances[w.PointsAccount]
		if red.Cash > 0 {
			m := Movement{ID: NewID("mov"), WalletID: w.ID, Account: w.Account, CustomerID: w.CustomerID, Kind: MovementPointsCash,
				Status: MovementSucceeded, Amount: red.Cash, Memo: c.Name, Ref: t.ID, CreatedAt: now, UpdatedAt: now}
			if err := tx.CreateMovement(ctx, m); err != nil {
				return err
			}
			if err := emitMovement(ctx, tx, m, t.Balances[w.Account]); err != nil {
				return err
			}
		}
		if reply, err = r.Reply(red); err != nil {
			return err
		}
		return tx.SaveReply(ctx, key, reply)
	})
	if err == nil && s.Committed != nil {
		s.Committed()
	}
	return reply, err
}

// MovementPointsCash is the history line of cash received for points.
const MovementPointsCash MovementKind = "points_cash"

// EventPointsExpired is the outbox event telling a customer their points expired.
const EventPointsExpired = "points.expired"

// PointsExpiredEvent is the payload of EventPointsExpired.
type PointsExpiredEvent struct {
	CustomerID string    `json:"customer_id"`
	WalletID   string    `json:"wallet_id"`
	TransferID string    `json:"transfer_id"`
	Points     int64     `json:"points"`
	Year       int       `json:"year"` // the points were earned in this year or before
	At         time.Time `json:"at"`
}

// ExpireDue expires the points earned before last year (China time): what a wallet
// holds beyond what it earned since the start of last year leaves its points
// account for the issuance account (points are spent oldest first, so those are
// the old ones), one wallet per transaction, and the customer is told. A run that
// stops midway is finished by the next; once one finishes, the year is recorded
// and later runs that year do nothing. It returns how many wallets lost points.
func (s *PointsService) ExpireDue(ctx context.Context) (int, error) {
	var (
		year int // points earned before its start expire
		done bool
	)
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		year = pointsYear(nowIn(s.Now, tx)) - 1
		done, err = tx.PointsExpiryDone(ctx, year)
		return err
	})
	if err != nil || done {
		return 0, err
	}
	expired := 0
	for after := AccountID(0); ; {
		var holders []Account
		if err := s.Store.View(ctx, func(tx Tx) (err error) {
			holders, err = tx.PointsHolders(ctx, after, 500)
			return err
		}); err != nil {
			return expired, err
		}
		if len(holders) == 0 {
			break
		}
		after = holders[len(holders)-1].ID
		for _, a := range holders {
			took := false
			err := s.Store.Transact(ctx, func(tx Tx) error {
				took = false
				now := nowIn(s.Now, tx)
				if pointsYear(now)-1 != year {
					return nil // the year turned: the next run starts over
				}
				held, err := accountBalance(ctx, tx, a.ID)
				if err != nil {
					return err
				}
				kept, err := tx.PointsEarnedSince(ctx, a.ID, pointsYearStart(year))
				if err != nil {
					return err
				}
				n := held - kept
				if n <= 0 {
					return nil
				}
				w, err := tx.WalletByID(ctx, a.Owner)
				if err != nil {
					return err
				}
				issuance, err := tx.SystemAccount(ctx, AccountPointsIssuance, "")
				if err != nil {
					return err
				}
				t := &Transfer{ID: NewID("trf"), Kind: TransferExpiry, Ref: "points-before:" + strconv.Itoa(year), Postings: Move(a.ID, issuance, POINT, n)}
				if err := tx.Post(ctx, t); err != nil {
					return err
				}
				payload, err := json.Marshal(PointsExpiredEvent{CustomerID: w.CustomerID, WalletID: w.ID, TransferID: t.ID, Points: n, Year: year - 1, At: now})
				if err != nil {
					return err
				}
				took = true
				return tx.Emit(ctx, Event{Kind: EventPointsExpired, Payload: payload})
			})
			if err != nil {
				return expired, err
			}
			if took {
				expired++
			}
		}
		if s.Committed != nil {
			s.Committed()
		}
	}
	return expired, s.Store.Transact(ctx, func(tx Tx) error {
		return tx.MarkPointsExpiryDone(ctx, year, nowIn(s.Now, tx))
	})
}

// RunExpiry runs ExpireDue every interval until ctx ends.
func (s *PointsService) RunExpiry(ctx context.Context, interval time.Duration, log func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.ExpireDue(ctx); err != nil && ctx.Err() == nil && log != nil {
			log(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
