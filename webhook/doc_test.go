package webhook_test

import (
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao/webhook"
)

// afterPackageClause returns src from the line after its "package" line on.
func afterPackageClause(t *testing.T, name, src string) string {
	t.Helper()
	_, rest, ok := strings.Cut(src, "\npackage ")
	if !ok && strings.HasPrefix(src, "package ") {
		rest, ok = src, true
	}
	if !ok {
		t.Fatalf("%s: no package clause", name)
	}
	_, rest, _ = strings.Cut(rest, "\n")
	return strings.TrimSpace(rest)
}

// TestDocExample checks that the Go example of docs/webhooks.md is
// receiver_example_test.go, which TestReceiverExample runs.
func TestDocExample(t *testing.T) {
	doc, err := os.ReadFile("../docs/webhooks.md")
	if err != nil {
		t.Fatal(err)
	}
	_, block, ok := strings.Cut(string(doc), "\n```go\n")
	if !ok {
		t.Fatal("docs/webhooks.md has no ```go block")
	}
	block, _, ok = strings.Cut(block, "\n```\n")
	if !ok {
		t.Fatal("docs/webhooks.md: the ```go block does not end")
	}
	code, err := os.ReadFile("receiver_example_test.go")
	if err != nil {
		t.Fatal(err)
	}
	inDoc := afterPackageClause(t, "docs/webhooks.md", block)
	inTest := afterPackageClause(t, "receiver_example_test.go", string(code))
	if inDoc != inTest {
		t.Errorf("the Go example of docs/webhooks.md differs from receiver_example_test.go;" +
			" copy the code below the package clause from one to the other")
	}
}

// TestReceiverExample runs the documented receiver against requests made by Deliver's
// signing, and against forged, stale and repeated ones.
func TestReceiverExample(t *testing.T) {
	secret := []byte("whsec_example")
	var processed []string
	fail := false
	h := webhookHandler(secret, func(e Event) error {
		if fail {
			return errors.New("database down")
		}
		processed = append(processed, e.ID+" "+e.Type+" "+string(e.Data))
		return nil
	})
	event := func(id string) []byte {
		return fmt.Appendf(nil, `{"id":%q,"type":"order.paid","created_at":"2026-11-26T12:00:00Z","data":{"id":"ord_1"}}`, id)
	}
	post := func(body []byte, header string) int {
		r := httptest.NewRequest("POST", "/hebao/webhook", strings.NewReader(string(body)))
		r.Header.Set(webhook.SignatureHeader, header)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	now := time.Now()
	steps := []struct {
		name   string
		body   []byte
		header string
		fail   bool
		want   int
	}{
		{"signed", event("evt_1"), webhook.Sign(secret, now, event("evt_1")), false, 204},
		{"again: not processed twice", event("evt_1"), webhook.Sign(secret, now.Add(time.Minute), event("evt_1")), false, 204},
		{"body changed", event("evt_2"), webhook.Sign(secret, now, event("evt_1")), false, 401},
		{"other secret", event("evt_2"), webhook.Sign([]byte("whsec_other"), now, event("evt_2")), false, 401},
		{"six minutes old", event("evt_2"), webhook.Sign(secret, now.Add(-6*time.Minute), event("evt_2")), false, 401},
		{"six minutes ahead", event("evt_2"), webhook.Sign(secret, now.Add(6*time.Minute), event("evt_2")), false, 401},
		{"no signature", event("evt_2"), "", false, 401},
		{"signed, not JSON", []byte("hello"), webhook.Sign(secret, now, []byte("hello")), false, 400},
		{"processing fails", event("evt_3"), webhook.Sign(secret, now, event("evt_3")), true, 500},
		{"retried", event("evt_3"), webhook.Sign(secret, now, event("evt_3")), false, 204},
		{"rolled secret: several v1", event("evt_4"),
			webhook.Sign([]byte("whsec_old"), now, event("evt_4")) + "," +
				strings.SplitN(webhook.Sign(secret, now, event("evt_4")), ",", 2)[1], false, 204},
	}
	for _, s := range steps {
		fail = s.fail
		if got := post(s.body, s.header); got != s.want {
			t.Errorf("%s: status %d, want %d", s.name, got, s.want)
		}
		// The library must agree with the recipe.
		err := webhook.Verify(secret, s.header, s.body, time.Now(), 0)
		if recipe := s.want != 401; (err == nil) != recipe {
			t.Errorf("%s: Verify = %v, but the documented recipe says %v", s.name, err, recipe)
		}
	}
	want := []string{
		`evt_1 order.paid {"id":"ord_1"}`,
		`evt_3 order.paid {"id":"ord_1"}`,
		`evt_4 order.paid {"id":"ord_1"}`,
	}
	if diff := cmp.Diff(want, processed); diff != "" {
		t.Errorf("processed (-want +got):\n%s", diff)
	}
}

// The documented main is not run: it would listen on :8080.
var _ = main
