package hebao

import (
	"context"
	"time"
)

// MaxStatsMinutes is the longest window the dashboard's figures cover: one day.
const MaxStatsMinutes = 24 * 60

// PaymentMinute is what the payments of one minute came to: how many there were
// and the fen they paid merchants (coupon subsidies included, as merchants receive
// them).
type PaymentMinute struct {
	Start  time.Time // the minute's first instant, UTC
	Count  int64
	Amount int64
}

// StatsTx is the part of Tx that sums the journal for the staff dashboard.
type StatsTx interface {
	// PaymentMinutes counts the transfers of kind payment created at or after since
	// and sums their CNY credits, per minute of their creation, oldest first.
	// Minutes without a payment are left out.
	PaymentMinutes(ctx context.Context, since time.Time) ([]PaymentMinute, error)
}

// PaymentStats is the payments of a window of whole minutes, From (inclusive) to To
// (exclusive), the current minute last: one PaymentMinute per minute, quiet minutes
// included, and the totals.
type PaymentStats struct {
	From, To time.Time
	Minutes  []PaymentMinute
	Count    int64
	Amount   int64
}

// PaymentSeries lays the minutes found by PaymentMinutes out over the n minutes
// that end with the one now falls in: quiet minutes are zero, minutes outside the
// window are dropped.
func PaymentSeries(now time.Time, n int, found []PaymentMinute) PaymentStats {
	last := now.UTC().Truncate(time.Minute)
	st := PaymentStats{From: last.Add(-time.Duration(n-1) * time.Minute), To: last.Add(time.Minute)}
	st.Minutes = make([]PaymentMinute, n)
	for i := range st.Minutes {
		st.Minutes[i].Start = st.From.Add(time.Duration(i) * time.Minute)
	}
	for _, m := range found {
		i := int(m.Start.UTC().Truncate(time.Minute).Sub(st.From) / time.Minute)
		if m.Start.Before(st.From) || i >= n {
			continue
		}
		st.Minutes[i].Count += m.Count
		st.Minutes[i].Amount += m.Amount
		st.Count += m.Count
		st.Amount += m.Amount
	}
	return st
}

// StatsService gives admins the dashboard's figures, read from the ledger itself.
type StatsService struct {
	Store Store
	// Now is the clock; nil uses the transaction's time.
	Now func() time.Time
}

// Payments returns the payments of the last minutes minutes (1 to
// MaxStatsMinutes), the current one included.
// Errors: invalid_request (minutes).
func (s *StatsService) Payments(ctx context.Context, minutes int) (PaymentStats, error) {
	if minutes < 1 || minutes > MaxStatsMinutes {
		return PaymentStats{}, Errorf(CodeInvalidRequest, "minutes must be an integer from 1 to %d", MaxStatsMinutes)
	}
	var st PaymentStats
	err := s.Store.View(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		from := now.UTC().Truncate(time.Minute).Add(-time.Duration(minutes-1) * time.Minute)
		found, err := tx.PaymentMinutes(ctx, from)
		if err != nil {
			return err
		}
		st = PaymentSeries(now, minutes, found)
		return nil
	})
	return st, err
}
