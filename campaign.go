package hebao

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Campaign is a promotion (SPEC §7): a window, and a budget moved into the campaign's
// own ledger account from the operator's marketing account. Whatever the campaign
// gives comes out of that account, which can never go below zero, so a campaign never
// spends more than its budget: once it is spent, grants stop, and say so.
type Campaign struct {
	ID       string // "cmp_…"
	Name     string
	StartsAt time.Time
	EndsAt   time.Time
	Budget   int64     // fen funded at creation
	Account  AccountID // kind campaign_budget
	Rules    CampaignRules
	// CreatedBy is the admin who made it.
	CreatedBy string
	CreatedAt time.Time
}

// CampaignRules are what a campaign gives.
type CampaignRules struct {
	// OpeningRedPacket is fen put in the promo balance of each new wallet opened
	// during the campaign, once per person (开通礼).
	OpeningRedPacket int64
	// OpeningCoupons is the coupon pack each new wallet gets, once per person; the
	// campaign pays each coupon's discount when it is used.
	OpeningCoupons []CouponTemplate `json:",omitempty"`
	// PointsPerYuan, if above DefaultPointsPerYuan, is what payments earn per whole
	// yuan while the campaign runs (the highest of the running campaigns counts).
	PointsPerYuan int64 `json:",omitempty"`
	// PointsCash offers cash from the budget for points; PointsCoupons offer coupons.
	PointsCash    *PointsCashRate     `json:",omitempty"`
	PointsCoupons []PointsCouponOffer `json:",omitempty"`
}

// Active reports whether the campaign's window holds at.
func (c Campaign) Active(at time.Time) bool { return !at.Before(c.StartsAt) && at.Before(c.EndsAt) }

// Campaign limits.
const (
	maxCampaignName   = 100
	MaxCampaignLength = 366 * 24 * time.Hour
)

// Grant is one thing a campaign gave one person: the ledger transfer of it, and the
// key that makes it once per person (a phone, or once real-named an ID number).
type Grant struct {
	ID         string // "gnt_…"
	CampaignID string
	Kind       string // "opening_red_packet"
	PersonKey  string // "phone:<hmac>" — never the phone itself
	WalletID   string
	Amount     int64
	CreatedAt  time.Time
	// SweptAt is set once the campaign ended and the grant's unspent rest (Returned)
	// went back to the budget.
	SweptAt  time.Time
	Returned int64
}

// CampaignTx is the part of Tx that keeps campaigns and what they granted.
type CampaignTx interface {
	// CreateCampaign stores a new campaign.
	CreateCampaign(ctx context.Context, c Campaign) error
	// CampaignByID returns the campaign; not_found if none.
	CampaignByID(ctx context.Context, id string) (Campaign, error)
	// Campaigns returns up to limit campaigns, newest first, with ids below before
	// (from the newest when before is "").
	Campaigns(ctx context.Context, before string, limit int) ([]Campaign, error)
	// ActiveCampaigns returns the campaigns whose window holds at, oldest first.
	ActiveCampaigns(ctx context.Context, at time.Time) ([]Campaign, error)
	// CreateGrant stores a grant; conflict if the campaign gave this kind to this
	// person already.
	CreateGrant(ctx context.Context, g Grant) error
	// HasGrant reports whether the campaign gave this kind to this person.
	HasGrant(ctx context.Context, campaignID, kind, personKey string) (bool, error)
	// CampaignGrants counts the campaign's grants and adds up what they gave.
	CampaignGrants(ctx context.Context, campaignID string) (count int, total int64, err error)
	// EndedCampaigns returns up to limit campaigns ended at or before at with grants
	// not yet swept, soonest ended first.
	EndedCampaigns(ctx context.Context, at time.Time, limit int) ([]Campaign, error)
	// UnsweptGrants returns up to limit of the campaign's grants not yet swept.
	UnsweptGrants(ctx context.Context, campaignID string, limit int) ([]Grant, error)
	// WalletGrants returns the wallet's grants with the end of their campaign.
	WalletGrants(ctx context.Context, walletID string) ([]WalletGrant, error)
	// SweepGrant records that the grant was swept at at, returning returned fen, and
	// reports whether it did: false when it was swept already.
	SweepGrant(ctx context.Context, id string, returned int64, at time.Time) (bool, error)
}

// WalletGrant is one of a wallet's grants, with when its campaign ends.
type WalletGrant struct {
	Grant
	EndsAt time.Time
}

// ActionCampaignAdd is the audit action of an admin creating a campaign.
const ActionCampaignAdd = "campaign.add"

// GrantOpeningRedPacket is the Grant kind of an opening gift's red packet.
const GrantOpeningRedPacket = "opening_red_packet"

// CampaignService creates campaigns and shows how they stand (SPEC §7).
type CampaignService struct {
	Store Store
	// Keys derives the key that turns a phone into a grant's person key.
	Keys *Keyring
	Now  func() time.Time
}

// CampaignRequest is an admin's POST /v1/admin/campaigns.
type CampaignRequest struct {
	Name     string
	StartsAt time.Time
	EndsAt   time.Time
	Budget   int64
	Rules    CampaignRules
}

// Validate checks the request's own fields.
// Errors: invalid_request.
func (r CampaignRequest) Validate() error {
	name := strings.TrimSpace(r.Name)
	if name == "" || utf8.RuneCountInString(name) > maxCampaignName || !utf8.ValidString(name) || strings.IndexFunc(name, unicode.IsControl) >= 0 {
		return Errorf(CodeInvalidRequest, "name must be 1 to %d characters of text", maxCampaignName)
	}
	if r.StartsAt.IsZero() || r.EndsAt.IsZero() || !r.EndsAt.After(r.StartsAt) {
		return Errorf(CodeInvalidRequest, "ends_at must be after starts_at")
	}
	if r.EndsAt.Sub(r.StartsAt) > MaxCampaignLength {
		return Errorf(CodeInvalidRequest, "a campaign lasts at most a year")
	}
	if err := CheckAmount(r.Budget); err != nil {
		return Errorf(CodeInvalidRequest, "budget: %v", err)
	}
	if p := r.Rules.OpeningRedPacket; p < 0 || p > r.Budget {
		return Errorf(CodeInvalidRequest, "opening_red_packet must be from 0 to the budget")
	}
	if len(r.Rules.OpeningCoupons) > 10 {
		return Errorf(CodeInvalidRequest, "an opening coupon pack holds at most 10 coupons")
	}
	for _, c := range r.Rules.OpeningCoupons {
		if err := c.Validate(); err != nil {
			return err
		}
	}
	return r.Rules.validatePoints(r.Budget)
}

// Create makes a campaign on behalf of the admin by and funds its budget from the
// operator's marketing account, in one transaction.
// Errors: invalid_request.
func (s *CampaignService) Create(ctx context.Context, by Actor, r CampaignRequest) (Campaign, error) {
	if err := r.Validate(); err != nil {
		return Campaign{}, err
	}
	var out Campaign
	err := s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		c := Campaign{ID: NewID("cmp"), Name: strings.TrimSpace(r.Name), StartsAt: r.StartsAt.UTC(), EndsAt: r.EndsAt.UTC(),
			Budget: r.Budget, Rules: r.Rules, CreatedBy: by.ID, CreatedAt: now}
		budget, err := tx.CreateAccount(ctx, Account{Kind: AccountCampaignBudget, Unit: CNY, Owner: c.ID})
		if err != nil {
			return err
		}
		c.Account = budget.ID
		funding, err := marketingAccount(ctx, tx)
		if err != nil {
			return err
		}
		if err := tx.Post(ctx, &Transfer{ID: NewID("trf"), Kind: TransferFunding, Ref: c.ID, Postings: Move(funding, c.Account, CNY, r.Budget)}); err != nil {
			return err
		}
		if err := tx.CreateCampaign(ctx, c); err != nil {
			return err
		}
		out = c
		return tx.AddAudit(ctx, audit(ctx, now, by, ActionCampaignAdd, c.ID, map[string]string{"name": c.Name, "budget": yuan(r.Budget)}))
	})
	return out, err
}

// marketingAccount returns the operator's marketing account, creating it the first
// time: where campaign budgets come from (it may go below zero: the operator's money).
func marketingAccount(ctx context.Context, tx Tx) (AccountID, error) {
	a, err := tx.AccountByOwner(ctx, AccountMarketingFunding, "")
	if ErrorCode(err) == CodeNotFound {
		if a, err = NewAccount(AccountMarketingFunding, "", "", false); err != nil {
			return 0, err
		}
		a, err = tx.CreateAccount(ctx, a)
	}
	return a.ID, err
}

// CampaignStatus is how a campaign stands.
type CampaignStatus struct {
	Campaign  Campaign
	Remaining int64 // fen left in its budget account
	Spent     int64 // Budget − Remaining
	Grants    int
	// State is "scheduled", "active", "budget_spent" (active, but too little is left
	// to give what it gives) or "ended".
	State string
}

// Status returns how the campaign stands at now.
// Errors: not_found.
func (s *CampaignService) Status(ctx context.Context, id string) (CampaignStatus, error) {
	if !ValidID("cmp", id) {
		return CampaignStatus{}, Errorf(CodeNotFound, "no such campaign")
	}
	var out CampaignStatus
	err := s.Store.View(ctx, func(tx Tx) error {
		c, err := tx.CampaignByID(ctx, id)
		if err != nil {
			return err
		}
		as, err := tx.Accounts(ctx, c.Account)
		if err != nil {
			return err
		}
		n, _, err := tx.CampaignGrants(ctx, c.ID)
		if err != nil {
			return err
		}
		rem := as[c.Account].Balance
		out = CampaignStatus{Campaign: c, Remaining: rem, Spent: c.Budget - rem, Grants: n, State: campaignState(c, rem, nowIn(s.Now, tx))}
		return nil
	})
	if ErrorCode(err) == CodeNotFound {
		err = Errorf(CodeNotFound, "no such campaign")
	}
	return out, err
}

// List returns up to limit campaigns (1 to MaxPageSize), newest first, after the
// cursor (the last campaign id of the page before), each as Status shows it; next
// is "" on the last page.
// Errors: invalid_request (limit, cursor).
func (s *CampaignService) List(ctx context.Context, cursor string, limit int) (out []CampaignStatus, next string, err error) {
	if limit < 1 || limit > MaxPageSize {
		return nil, "", Errorf(CodeInvalidRequest, "limit must be an integer from 1 to %d", MaxPageSize)
	}
	if cursor != "" && !ValidID("cmp", cursor) {
		return nil, "", Errorf(CodeInvalidRequest, "cursor is not one this server gave out")
	}
	err = s.Store.View(ctx, func(tx Tx) error {
		cs, err := tx.Campaigns(ctx, cursor, limit+1)
		if err != nil {
			return err
		}
		out, next = nil, ""
		if len(cs) > limit {
			cs, next = cs[:limit], cs[limit-1].ID
		}
		ids := make([]AccountID, len(cs))
		for i, c := range cs {
			ids[i] = c.Account
		}
		as, err := tx.Accounts(ctx, ids...)
		if err != nil {
			return err
		}
		now := nowIn(s.Now, tx)
		for _, c := range cs {
			n, _, err := tx.CampaignGrants(ctx, c.ID)
			if err != nil {
				return err
			}
			rem := as[c.Account].Balance
			out = append(out, CampaignStatus{Campaign: c, Remaining: rem, Spent: c.Budget - rem, Grants: n, State: campaignState(c, rem, now)})
		}
		return nil
	})
	return out, next, err
}

func campaignState(c Campaign, remaining int64, now time.Time) string {
	switch {
	case now.Before(c.StartsAt):
		return "scheduled"
	case !now.Before(c.EndsAt):
		return "ended"
	case c.Rules.OpeningRedPacket > 0 && remaining < c.Rules.OpeningRedPacket,
		len(c.Rules.OpeningCoupons) > 0 && remaining == 0,
		c.Rules.PointsCash != nil && remaining < c.Rules.PointsCash.Fen:
		return "budget_spent"
	}
	return "active"
}

// grantOpeningGifts gives a newly opened wallet what the active campaigns give new
// wallets, once per person, in the transaction that opens it. A campaign whose budget
// cannot cover the gift gives nothing and the wallet opens all the same.
func grantOpeningGifts(ctx context.Context, tx Tx, keys *Keyring, w Wallet, phone string, now time.Time) error {
	cs, err := tx.ActiveCampaigns(ctx, now)
	if err != nil || len(cs) == 0 {
		return err
	}
	person := "phone:" + keys.Lookup("grant person", phone)
	for _, c := range cs {
		if err := grantCouponPack(ctx, tx, c, w, person, now); err != nil {
			return err
		}
		amount := c.Rules.OpeningRedPacket
		if amount <= 0 {
			continue
		}
		had, err := tx.HasGrant(ctx, c.ID, GrantOpeningRedPacket, person)
		if err != nil {
			return err
		}
		if had {
			continue
		}
		as, err := tx.Accounts(ctx, c.Account)
		if err != nil {
			return err
		}
		if as[c.Account].Balance < amount {
			continue // the budget is spent: this campaign stops giving, cleanly
		}
		g := Grant{ID: NewID("gnt"), CampaignID: c.ID, Kind: GrantOpeningRedPacket, PersonKey: person, WalletID: w.ID, Amount: amount, CreatedAt: now}
		if err := tx.Post(ctx, &Transfer{ID: NewID("trf"), Kind: TransferPromo, Ref: g.ID, Postings: Move(c.Account, w.PromoAccount, CNY, amount)}); err != nil {
			return err
		}
		if err := tx.CreateGrant(ctx, g); err != nil {
			return err
		}
	}
	return nil
}

// MovementPromoExpired is the history line of red-packet money that expired with its
// campaign: nothing left the cash balance, but the customer is told.
const MovementPromoExpired MovementKind = "promo_expired"

// ExpireDue returns to their budgets the unspent red-packet money of campaigns that
// have ended, one grant per transaction (so a crash midway resumes), and tells each
// customer. Red-packet money is spent earliest-ending campaign first, so what a wallet
// still holds belongs first to the campaigns that end last: a grant's unspent rest is
// the promo balance less what the wallet's later-ending grants gave, at most the grant.
// It returns how many grants it swept.
func (s *CampaignService) ExpireDue(ctx context.Context) (int, error) {
	swept := 0
	for {
		var (
			ended  []Campaign
			grants []Grant
		)
		err := s.Store.View(ctx, func(tx Tx) (err error) {
			now := nowIn(s.Now, tx)
			if ended, err = tx.EndedCampaigns(ctx, now, 1); err != nil || len(ended) == 0 {
				return err
			}
			grants, err = tx.UnsweptGrants(ctx, ended[0].ID, 200)
			return err
		})
		if err != nil || len(ended) == 0 {
			return swept, err
		}
		c := ended[0]
		for _, g := range grants {
			done := false
			err := s.Store.Transact(ctx, func(tx Tx) error {
				done = false
				now := nowIn(s.Now, tx)
				w, err := tx.WalletByID(ctx, g.WalletID)
				if err != nil {
					return err
				}
				as, err := tx.Accounts(ctx, w.PromoAccount, c.Account)
				if err != nil {
					return err
				}
				keep := int64(0) // what later-ending grants gave: theirs to spend
				wgs, err := tx.WalletGrants(ctx, w.ID)
				if err != nil {
					return err
				}
				for _, o := range wgs {
					if o.ID != g.ID && o.EndsAt.After(c.EndsAt) {
						keep += o.Amount
					}
				}
				back := min(g.Amount, max(0, as[w.PromoAccount].Balance-keep))
				ok, err := tx.SweepGrant(ctx, g.ID, back, now)
				if err != nil || !ok {
					return err
				}
				done = true
				if back == 0 {
					return nil
				}
				if err := tx.Post(ctx, &Transfer{ID: NewID("trf"), Kind: TransferExpiry, Ref: g.ID, Postings: Move(w.PromoAccount, c.Account, CNY, back)}); err != nil {
					return err
				}
				m := Movement{ID: NewID("mov"), WalletID: w.ID, Account: w.Account, CustomerID: w.CustomerID, Kind: MovementPromoExpired,
					Status: MovementSucceeded, Amount: back, Memo: c.Name, Ref: g.ID, CreatedAt: now, UpdatedAt: now}
				if err := tx.CreateMovement(ctx, m); err != nil {
					return err
				}
				cash, err := accountBalance(ctx, tx, w.Account)
				if err != nil {
					return err
				}
				return emitMovement(ctx, tx, m, cash)
			})
			if err != nil {
				return swept, err
			}
			if done {
				swept++
			}
		}
	}
}

// RunExpiry sweeps ended campaigns every interval until ctx ends.
func (s *CampaignService) RunExpiry(ctx context.Context, interval time.Duration, log func(error)) {
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

// GrantOpeningCoupons is the Grant kind of an opening coupon pack.
const GrantOpeningCoupons = "opening_coupons"

// grantCouponPack gives w's customer the campaign's opening coupons, once per person.
// Nothing moves in the ledger: the campaign pays each coupon's discount when it is
// used, if its budget still can.
func grantCouponPack(ctx context.Context, tx Tx, c Campaign, w Wallet, person string, now time.Time) error {
	if len(c.Rules.OpeningCoupons) == 0 {
		return nil
	}
	had, err := tx.HasGrant(ctx, c.ID, GrantOpeningCoupons, person)
	if err != nil || had {
		return err
	}
	for _, t := range c.Rules.OpeningCoupons {
		until := now.Add(time.Duration(t.ValidDays) * 24 * time.Hour)
		if until.After(c.EndsAt) {
			until = c.EndsAt
		}
		if err := tx.CreateCoupon(ctx, Coupon{ID: NewID("cpn"), CustomerID: w.CustomerID, CampaignID: c.ID, CouponTemplate: t,
			ValidFrom: now, ValidUntil: until, CreatedAt: now}); err != nil {
			return err
		}
	}
	return tx.CreateGrant(ctx, Grant{ID: NewID("gnt"), CampaignID: c.ID, Kind: GrantOpeningCoupons, PersonKey: person, WalletID: w.ID, CreatedAt: now})
}

// Coupons returns the customer's coupons usable now — for the order with this id,
// if one is given, only those that apply to it, with their discount.
// Errors: not_found (an unknown order).
func (s *CampaignService) Coupons(ctx context.Context, customerID, orderID string) ([]CouponOffer, error) {
	var out []CouponOffer
	err := s.Store.View(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		cs, err := tx.Coupons(ctx, customerID, now)
		if err != nil {
			return err
		}
		var o *Order
		if orderID != "" {
			got, err := tx.OrderByID(ctx, orderID)
			if err != nil || (got.Kind != OrderNative && got.CustomerID != customerID) {
				return Errorf(CodeNotFound, "no such order")
			}
			o = &got
		}
		for _, c := range cs {
			offer := CouponOffer{Coupon: c}
			if o != nil {
				if c.Usable(*o, now) != nil {
					continue
				}
				offer.Discount = c.Discount(o.Amount)
			}
			out = append(out, offer)
		}
		return nil
	})
	return out, err
}

// CouponOffer is a coupon, and what it takes off the order asked about.
type CouponOffer struct {
	Coupon
	Discount int64
}
