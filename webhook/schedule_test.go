package webhook_test

import (
	"testing"
	"time"

	"github.com/hebaopay/hebao/webhook"
)

func TestNextAttempt(t *testing.T) {
	last := time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC)
	// SPEC §8, written out again rather than read from Schedule.
	spec := []time.Duration{
		15 * time.Second, 15 * time.Second, 30 * time.Second, 3 * time.Minute,
		10 * time.Minute, 20 * time.Minute, 30 * time.Minute, 30 * time.Minute,
		30 * time.Minute, time.Hour, 3 * time.Hour, 3 * time.Hour, 3 * time.Hour,
		6 * time.Hour, 6 * time.Hour,
	}
	for i, wait := range spec {
		attempts := i + 1
		got, ok := webhook.NextAttempt(attempts, last)
		if !ok || !got.Equal(last.Add(wait)) {
			t.Errorf("NextAttempt(%d) = %v, %v; want %v, true", attempts, got, ok, last.Add(wait))
		}
	}
	for _, attempts := range []int{16, 17, 1000} {
		if got, ok := webhook.NextAttempt(attempts, last); ok || !got.IsZero() {
			t.Errorf("NextAttempt(%d) = %v, %v; want the zero time, false", attempts, got, ok)
		}
	}
	for _, attempts := range []int{0, -1} {
		if got, ok := webhook.NextAttempt(attempts, last); !ok || !got.Equal(last) {
			t.Errorf("NextAttempt(%d) = %v, %v; want %v, true", attempts, got, ok, last)
		}
	}
}

// TestScheduleSpan checks the whole schedule: 15 retries over a little more than a day.
func TestScheduleSpan(t *testing.T) {
	if len(webhook.Schedule) != 15 {
		t.Errorf("len(Schedule) = %d, want 15", len(webhook.Schedule))
	}
	var total time.Duration
	for _, d := range webhook.Schedule {
		total += d
	}
	if want := 24*time.Hour + 4*time.Minute; total != want {
		t.Errorf("the schedule spans %v, want %v", total, want)
	}
}
