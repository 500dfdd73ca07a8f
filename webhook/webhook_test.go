package webhook_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao/webhook"
)

var (
	secret = []byte("whsec_test")
	body   = []byte(`{"id":"evt_1"}`)
	signed = time.Unix(1700000000, 0)
)

// TestSignKnownValue checks Sign against a value computed elsewhere (Python's hmac).
func TestSignKnownValue(t *testing.T) {
	got := webhook.Sign(secret, signed, body)
	want := "t=1700000000,v1=c89214b5b5da833daed6f0b8c5bb6bd58cea9022bd80ccc78230f3942d632925"
	if got != want {
		t.Errorf("Sign = %q, want %q", got, want)
	}
}

func TestVerify(t *testing.T) {
	header := webhook.Sign(secret, signed, body)
	sig := strings.TrimPrefix(header, "t=1700000000,")
	tests := []struct {
		name      string
		secret    []byte
		header    string
		body      []byte
		now       time.Time
		tolerance time.Duration
		want      error
	}{
		{"signed by Sign", secret, header, body, signed, 0, nil},
		{"a little later", secret, header, body, signed.Add(4 * time.Minute), 0, nil},
		{"at the tolerance", secret, header, body, signed.Add(5 * time.Minute), 0, nil},
		{"clock a little behind", secret, header, body, signed.Add(-4 * time.Minute), 0, nil},
		{"spaces, other fields and several v1", secret,
			" t=1700000000 , v0=abc, v1=00ff, v1=zz, " + sig + ",x", body, signed, 0, nil},
		{"uppercase key", secret, "t=1700000000," + strings.ToUpper(sig[:3]) + sig[3:], body, signed, 0,
			webhook.ErrNoSignature}, // keys are case-sensitive: "V1=" is an unknown field
		{"uppercase hex", secret, "t=1700000000,v1=" + strings.ToUpper(sig[3:]), body, signed, 0, nil},
		{"a longer tolerance", secret, header, body, signed.Add(time.Hour), 2 * time.Hour, nil},

		{"changed body", secret, header, []byte(`{"id":"evt_2"}`), signed, 0, webhook.ErrBadSignature},
		{"other secret", []byte("whsec_other"), header, body, signed, 0, webhook.ErrBadSignature},
		{"changed timestamp", secret, "t=1700000001," + sig, body, signed, 0, webhook.ErrBadSignature},
		{"v1 not hex", secret, "t=1700000000,v1=xyz", body, signed, 0, webhook.ErrBadSignature},
		{"v1 cut short", secret, header[:len(header)-2], body, signed, 0, webhook.ErrBadSignature},

		{"too old", secret, header, body, signed.Add(5*time.Minute + time.Second), 0, webhook.ErrTooOld},
		{"much too old", secret, header, body, signed.Add(48 * time.Hour), 0, webhook.ErrTooOld},
		{"from the future", secret, header, body, signed.Add(-6 * time.Minute), 0, webhook.ErrTooNew},
		{"old beyond a shorter tolerance", secret, header, body, signed.Add(2 * time.Second), time.Second, webhook.ErrTooOld},

		{"empty header", secret, "", body, signed, 0, webhook.ErrNoSignature},
		{"no v1", secret, "t=1700000000,v0=abc", body, signed, 0, webhook.ErrNoSignature},
		{"no timestamp", secret, sig, body, signed, 0, webhook.ErrBadHeader},
		{"timestamp not a number", secret, "t=soon," + sig, body, signed, 0, webhook.ErrBadHeader},
		{"two timestamps", secret, "t=1700000000,t=1700000000," + sig, body, signed, 0, webhook.ErrBadHeader},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := webhook.Verify(tt.secret, tt.header, tt.body, tt.now, tt.tolerance)
			if !errors.Is(err, tt.want) || (tt.want == nil && err != nil) {
				t.Errorf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
}

// TestVerifyRolledSecret checks that a header signed with two secrets, as when a
// merchant rolls theirs, passes with either.
func TestVerifyRolledSecret(t *testing.T) {
	old, new := []byte("whsec_old"), []byte("whsec_new")
	header := webhook.Sign(old, signed, body) + "," +
		strings.SplitN(webhook.Sign(new, signed, body), ",", 2)[1]
	for _, s := range [][]byte{old, new} {
		if err := webhook.Verify(s, header, body, signed, 0); err != nil {
			t.Errorf("Verify with %s = %v", s, err)
		}
	}
	if err := webhook.Verify([]byte("whsec_other"), header, body, signed, 0); !errors.Is(err, webhook.ErrBadSignature) {
		t.Errorf("Verify with another secret = %v, want ErrBadSignature", err)
	}
}
