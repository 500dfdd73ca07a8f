package hebao

import (
	"context"
	"time"
)

// The limit checks of SPEC §3. Each runs inside the transaction of the movement it
// guards, on the wallet's counters locked by Tx.Usage, so concurrent movements are
// counted one after another and cannot slip past a limit together.

// orDefault returns t, or the specification's table when t is the zero value.
func (t TierLimits) orDefault() TierLimits {
	if t == (TierLimits{}) {
		return DefaultTierLimits()
	}
	return t
}

// chargeOutgoing counts amount leaving wallet w against its tier's single, daily
// and yearly limits, and stores the new counters.
// Errors: limit_exceeded, saying which limit and when it resets.
func chargeOutgoing(ctx context.Context, tx Tx, w Wallet, l Limits, amount int64, now time.Time) error {
	u, err := checkOutgoing(ctx, tx, w, l, amount, now)
	if err != nil {
		return err
	}
	u.WalletID = w.ID
	u.DayTotal += amount
	u.YearTotal += amount
	return tx.SaveUsage(ctx, u)
}

// checkOutgoing is chargeOutgoing without the counting: the wallet's counters as of
// now, if amount may leave it.
func checkOutgoing(ctx context.Context, tx Tx, w Wallet, l Limits, amount int64, now time.Time) (Usage, error) {
	if l.SinglePayment != Unlimited && amount > l.SinglePayment {
		return Usage{}, Errorf(CodeLimitExceeded, "a single payment from a tier %d wallet is at most %s; verify more of your identity to raise it",
			w.Tier, yuan(l.SinglePayment))
	}
	u, err := tx.Usage(ctx, w.ID)
	if err != nil {
		return Usage{}, err
	}
	u = u.at(now)
	if l.DailyPayments != Unlimited && u.DayTotal+amount > l.DailyPayments {
		return Usage{}, Errorf(CodeLimitExceeded, "this would pass your daily limit of %s: %s has left your wallet today, so at most %s more can; the limit resets at midnight Beijing time (UTC+8)",
			yuan(l.DailyPayments), yuan(u.DayTotal), yuan(max(0, l.DailyPayments-u.DayTotal)))
	}
	if l.YearlyPayments != Unlimited && u.YearTotal+amount > l.YearlyPayments {
		return Usage{}, Errorf(CodeLimitExceeded, "this would pass your yearly limit of %s: %s has left your wallet this year, so at most %s more can; the limit resets on 1 January (Beijing time)",
			yuan(l.YearlyPayments), yuan(u.YearTotal), yuan(max(0, l.YearlyPayments-u.YearTotal)))
	}
	return u, nil
}

// unchargeOutgoing gives back amount counted at countedAt (a withdrawal the bank
// refused): taken off today's and this year's counts only if it was counted in
// them.
func unchargeOutgoing(ctx context.Context, tx Tx, walletID string, amount int64, countedAt, now time.Time) error {
	u, err := tx.Usage(ctx, walletID)
	if err != nil {
		return err
	}
	u = u.at(now)
	day, year := chinaDate(countedAt)
	if u.Day == day {
		u.DayTotal = max(0, u.DayTotal-amount)
	}
	if u.Year == year {
		u.YearTotal = max(0, u.YearTotal-amount)
	}
	u.WalletID = walletID
	return tx.SaveUsage(ctx, u)
}

// checkCap refuses incoming money that would take wallet w past its tier's balance
// cap, counting its pending top-ups and withdrawals as already there (a refused
// withdrawal's money comes back). With reserve, amount is added
// to the pending top-ups (a top-up being accepted).
// Errors: balance_cap_exceeded.
func checkCap(ctx context.Context, tx Tx, w Wallet, l Limits, amount int64, reserve bool) error {
	if l.BalanceCap == Unlimited && !reserve {
		return nil
	}
	u, err := tx.Usage(ctx, w.ID)
	if err != nil {
		return err
	}
	if l.BalanceCap != Unlimited {
		accts, err := tx.Accounts(ctx, w.Account)
		if err != nil {
			return err
		}
		have := accts[w.Account].Balance + u.PendingIn + u.PendingOut
		if have+amount > l.BalanceCap {
			return Errorf(CodeBalanceCapExceeded, "a tier %d wallet holds at most %s, and this would take it to %s; verify more of your identity to raise the cap",
				w.Tier, yuan(l.BalanceCap), yuan(have+amount))
		}
	}
	if !reserve {
		return nil
	}
	u.WalletID = w.ID
	u.PendingIn += amount
	return tx.SaveUsage(ctx, u)
}

// pending adds delta to the wallet's pending top-ups (in) or withdrawals (out).
func pending(ctx context.Context, tx Tx, walletID string, in bool, delta int64) error {
	u, err := tx.Usage(ctx, walletID)
	if err != nil {
		return err
	}
	u.WalletID = walletID
	if in {
		u.PendingIn = max(0, u.PendingIn+delta)
	} else {
		u.PendingOut = max(0, u.PendingOut+delta)
	}
	return tx.SaveUsage(ctx, u)
}

// yuan shows fen as customers read it: ¥12.34.
func yuan(fen int64) string { return "¥" + FormatYuan(fen) }
