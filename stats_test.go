package hebao

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestPaymentSeries(t *testing.T) {
	now := time.Date(2026, 11, 26, 4, 3, 30, 0, time.UTC)
	at := func(m int) time.Time { return time.Date(2026, 11, 26, 4, m, 0, 0, time.UTC) }
	got := PaymentSeries(now, 3, []PaymentMinute{
		{Start: at(0), Count: 9, Amount: 900}, // before the window
		{Start: at(1), Count: 1, Amount: 100},
		{Start: at(3), Count: 2, Amount: 250},
		{Start: at(4), Count: 7, Amount: 700}, // after it
	})
	want := PaymentStats{From: at(1), To: at(4), Count: 3, Amount: 350,
		Minutes: []PaymentMinute{{Start: at(1), Count: 1, Amount: 100}, {Start: at(2)}, {Start: at(3), Count: 2, Amount: 250}}}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("PaymentSeries (-want +got):\n%s", d)
	}
}
