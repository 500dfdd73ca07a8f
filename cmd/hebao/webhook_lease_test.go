package main

import (
	"errors"
	"strings"
	"testing"
)

// TestServeWebhookLease: --webhook-lease under a second is a usage error, found
// before anything is opened. (TestKillOneServerUnderLoad shows a short lease at work:
// the deliveries a killed server held are sent by the other one when it ends.)
func TestServeWebhookLease(t *testing.T) {
	for _, v := range []string{"0s", "999ms", "-5s"} {
		_, _, err := run(t, nil, "serve", "--data-dir", t.TempDir(), "--webhook-lease", v)
		if err == nil || !strings.Contains(err.Error(), "--webhook-lease must be at least 1s") || !errors.As(err, new(usageError)) {
			t.Errorf("--webhook-lease %s: %v, want a usage error", v, err)
		}
	}
}
