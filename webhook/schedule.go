package webhook

import "time"

// Schedule is how long to wait before each retry of a delivery whose receiver did not
// answer 2xx (SPEC §8): Schedule[0] after the first attempt, Schedule[1] after the
// second, and so on. After the last retry the delivery is given up; the merchant can
// still replay it. It adds up to a little over 24 hours.
var Schedule = []time.Duration{
	15 * time.Second,
	15 * time.Second,
	30 * time.Second,
	3 * time.Minute,
	10 * time.Minute,
	20 * time.Minute,
	30 * time.Minute,
	30 * time.Minute,
	30 * time.Minute,
	60 * time.Minute,
	3 * time.Hour,
	3 * time.Hour,
	3 * time.Hour,
	6 * time.Hour,
	6 * time.Hour,
}

// NextAttempt returns when to try a delivery again after attempts failed attempts, the
// last of them at last, and false when the schedule has run out. An attempts below 1
// means nothing has been tried yet: the first attempt is due at last.
func NextAttempt(attempts int, last time.Time) (time.Time, bool) {
	switch {
	case attempts < 1:
		return last, true
	case attempts > len(Schedule):
		return time.Time{}, false
	}
	return last.Add(Schedule[attempts-1]), true
}
