package sqldb

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// TestPaymentStats counts real order payments per minute on each backend: quiet
// minutes are zero, other transfers do not count, and the window ends with the
// current minute.
func TestPaymentStats(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ctx := context.Background()
		base := time.Date(2026, 11, 26, 4, 0, 0, 0, time.UTC)
		c := &clock{t: base.Add(10 * time.Second)}
		db := clocked(t, open, c)
		s := newShop(t, newWorld(t, db, nil), nil) // the order services take the database's time
		payer := s.customer("13800000201", 2, 100_000)

		pay := func(at time.Duration, amount int64) {
			t.Helper()
			c.set(base.Add(at))
			o := s.order(fmt.Sprintf("S-%d", at), amount, "")
			if _, err := s.pay(payer, o.ID, fmt.Sprint(at)); err != nil {
				t.Fatal(err)
			}
		}
		pay(10*time.Second, 2_500)
		pay(50*time.Second, 1_000)
		pay(2*time.Minute+5*time.Second, 300)
		c.set(base.Add(2*time.Minute + 10*time.Second))
		s.post(s.funding, payer.Wallet.Account, 7_000) // not a payment

		c.set(base.Add(3*time.Minute + 30*time.Second))
		svc := &hebao.StatsService{Store: db}
		got, err := svc.Payments(ctx, 5)
		if err != nil {
			t.Fatal(err)
		}
		minute := func(m int, count, amount int64) hebao.PaymentMinute {
			return hebao.PaymentMinute{Start: base.Add(time.Duration(m) * time.Minute), Count: count, Amount: amount}
		}
		want := hebao.PaymentStats{From: base.Add(-time.Minute), To: base.Add(4 * time.Minute), Count: 3, Amount: 3_800,
			Minutes: []hebao.PaymentMinute{minute(-1, 0, 0), minute(0, 2, 3_500), minute(1, 0, 0), minute(2, 1, 300), minute(3, 0, 0)}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("last 5 minutes (-want +got):\n%s", d)
		}

		got, err = svc.Payments(ctx, 2)
		if err != nil {
			t.Fatal(err)
		}
		want = hebao.PaymentStats{From: base.Add(2 * time.Minute), To: base.Add(4 * time.Minute), Count: 1, Amount: 300,
			Minutes: []hebao.PaymentMinute{minute(2, 1, 300), minute(3, 0, 0)}}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("last 2 minutes (-want +got):\n%s", d)
		}

		for _, n := range []int{0, -1, hebao.MaxStatsMinutes + 1} {
			if _, err := svc.Payments(ctx, n); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
				t.Errorf("Payments(%d): %v, want invalid_request", n, err)
			}
		}
		mustVerify(t, db)
	})
}
