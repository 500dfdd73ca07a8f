package hebao

import (
	"context"
	"fmt"
	"time"
)

// WalletStatus is the state of a wallet (SPEC §6).
type WalletStatus string

// The wallet states.
const (
	WalletActive WalletStatus = "active"
	WalletFrozen WalletStatus = "frozen" // receives refunds; cannot pay, transfer or withdraw
	WalletClosed WalletStatus = "closed"
)

// OpeningTier is the tier of every new wallet: identified by phone only (SPEC §3).
const OpeningTier = 4

// Wallet is a customer's wallet and its three ledger accounts, each owned by it.
type Wallet struct {
	ID            string
	CustomerID    string
	Status        WalletStatus
	Tier          int       // 1 (most trusted) to 4
	Account       AccountID // the CNY balance
	PromoAccount  AccountID // red-packet money (CNY), spent first on merchant payments
	PointsAccount AccountID // points (POINT)
	CreatedAt     time.Time
}

// Unlimited marks a limit that does not apply.
const Unlimited int64 = -1

// Limits are what one tier of wallet may do, in fen; Unlimited where none applies.
type Limits struct {
	BalanceCap     int64
	SinglePayment  int64
	DailyPayments  int64
	YearlyPayments int64
}

// TierLimits is the tier table of SPEC §3: element i holds tier i+1's limits. It
// is configuration: DefaultTierLimits gives the specification's figures.
type TierLimits [4]Limits

// DefaultTierLimits returns the tier table of SPEC §3.
func DefaultTierLimits() TierLimits {
	const yuan = 100
	return TierLimits{
		{BalanceCap: Unlimited, SinglePayment: Unlimited, DailyPayments: Unlimited, YearlyPayments: Unlimited},
		{BalanceCap: 500_000 * yuan, SinglePayment: 50_000 * yuan, DailyPayments: 100_000 * yuan, YearlyPayments: Unlimited},
		{BalanceCap: 20_000 * yuan, SinglePayment: 5_000 * yuan, DailyPayments: 10_000 * yuan, YearlyPayments: 100_000 * yuan},
		{BalanceCap: 10_000 * yuan, SinglePayment: 2_000 * yuan, DailyPayments: 5_000 * yuan, YearlyPayments: 50_000 * yuan},
	}
}

// Validate checks that every limit is positive or Unlimited.
func (t TierLimits) Validate() error {
	for i, l := range t {
		for _, v := range []int64{l.BalanceCap, l.SinglePayment, l.DailyPayments, l.YearlyPayments} {
			if v != Unlimited && v <= 0 {
				return fmt.Errorf("hebao: tier %d has a limit of %d fen: each must be positive, or Unlimited", i+1, v)
			}
		}
	}
	return nil
}

// For returns the limits of tier (1 to 4).
func (t TierLimits) For(tier int) (Limits, error) {
	if tier < 1 || tier > len(t) {
		return Limits{}, fmt.Errorf("hebao: no tier %d", tier)
	}
	return t[tier-1], nil
}

// WalletService shows wallets to their holders.
type WalletService struct {
	Store Store
	// Tiers is the tier table; the zero value means DefaultTierLimits.
	Tiers TierLimits
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
}

// WalletView is a wallet as its holder sees it (GET /v1/wallet): balances, the
// limits of its tier, and what has counted against them today and this year, both
// in China time.
type WalletView struct {
	Wallet       Wallet
	Balance      int64
	PromoBalance int64
	Limits       Limits
	UsedToday    int64
	UsedThisYear int64
	// PaymentPasswordSet says whether the wallet has a payment password yet.
	PaymentPasswordSet bool
	// PaymentPassword says whether it is set and whether payments with it are
	// locked, after wrong tries or by customer service until a reset.
	PaymentPassword PaymentPasswordStatus
}

// Get returns the wallet of the customer, read from one snapshot.
// Errors: not_found (the customer has no wallet).
func (s *WalletService) Get(ctx context.Context, customerID string) (WalletView, error) {
	tiers := s.Tiers
	if tiers == (TierLimits{}) {
		tiers = DefaultTierLimits()
	}
	var v WalletView
	err := s.Store.View(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		w, err := tx.WalletByCustomer(ctx, customerID)
		if err != nil {
			return err
		}
		accts, err := tx.Accounts(ctx, w.Account, w.PromoAccount)
		if err != nil {
			return err
		}
		limits, err := tiers.For(w.Tier)
		if err != nil {
			return err
		}
		u, err := tx.Usage(ctx, w.ID)
		if err != nil {
			return err
		}
		u = u.at(now)
		var pw *PaymentPassword
		p, perr := tx.PaymentPassword(ctx, w.ID)
		switch {
		case perr == nil:
			pw = &p
		case ErrorCode(perr) != CodeNotFound:
			return perr
		}
		v = WalletView{
			PaymentPasswordSet: pw != nil,
			PaymentPassword:    paymentPasswordStatus(pw, now),
			Wallet:             w,
			Balance:            accts[w.Account].Balance,
			PromoBalance:       accts[w.PromoAccount].Balance,
			Limits:             limits,
			UsedToday:          u.DayTotal,
			UsedThisYear:       u.YearTotal,
		}
		return nil
	})
	return v, err
}
