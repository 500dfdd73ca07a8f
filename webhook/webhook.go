// Package webhook is everything about merchant webhooks (SPEC §8) that does not touch
// the database: the signature a delivery carries and the recipe a merchant uses to
// check it, the retry schedule, the rules a notify_url must follow, an HTTP client
// that enforces them on every connection, and one delivery attempt.
//
// It uses the standard library only, so a merchant's Go program may import it just
// for Verify; docs/webhooks.md has the same recipe for those who would rather copy it.
package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"
	"time"
)

// The HTTP headers of a delivery.
const (
	SignatureHeader = "Hebao-Signature"
	EventIDHeader   = "Hebao-Event-Id"
	UserAgent       = "Hebao-Webhook/1"
)

// DefaultTolerance is how far a signature's timestamp may be from the receiver's clock.
const DefaultTolerance = 5 * time.Minute

// The errors of Verify.
var (
	ErrNoSignature  = errors.New("webhook: no Hebao-Signature, or no v1 signature in it")
	ErrBadHeader    = errors.New("webhook: Hebao-Signature has no valid timestamp")
	ErrBadSignature = errors.New("webhook: no signature in Hebao-Signature matches the body")
	ErrTooOld       = errors.New("webhook: the signature's timestamp is too old")
	ErrTooNew       = errors.New("webhook: the signature's timestamp is in the future")
)

// Sign returns the Hebao-Signature header value for body sent at t:
//
//	t=<unix seconds>,v1=<lowercase hex HMAC-SHA256(secret, "<unix seconds>." + body)>
//
// The timestamp is signed with the body so that a captured delivery cannot be
// replayed once it is older than the receiver's tolerance.
func Sign(secret []byte, t time.Time, body []byte) string {
	ts := strconv.FormatInt(t.Unix(), 10)
	return "t=" + ts + ",v1=" + hex.EncodeToString(mac(secret, ts, body))
}

// mac is HMAC-SHA256(secret, ts + "." + body).
func mac(secret []byte, ts string, body []byte) []byte {
	h := hmac.New(sha256.New, secret)
	h.Write([]byte(ts))
	h.Write([]byte{'.'})
	h.Write(body)
	return h.Sum(nil)
}

// Verify checks that header, a Hebao-Signature value, signs body with secret at a
// time within tolerance of now (DefaultTolerance when tolerance is not positive).
//
// Like Stripe's scheme it reads comma-separated key=value fields, ignores keys it does
// not know, and accepts the body if any v1 signature matches, so that a secret can be
// rolled by signing with the old and the new one for a while. The signature is
// checked before the timestamp: ErrTooOld or ErrTooNew therefore means an authentic
// delivery outside the tolerance (a stale replay, or a clock that is off).
//
// It returns nil, ErrNoSignature, ErrBadHeader (no timestamp, several, or one that is
// not a number), ErrBadSignature, ErrTooOld or ErrTooNew.
func Verify(secret []byte, header string, body []byte, now time.Time, tolerance time.Duration) error {
	if tolerance <= 0 {
		tolerance = DefaultTolerance
	}
	var ts string
	var sigs []string
	for field := range strings.SplitSeq(header, ",") {
		k, v, ok := strings.Cut(strings.TrimSpace(field), "=")
		if !ok {
			continue
		}
		switch k {
		case "t":
			if ts != "" {
				return ErrBadHeader
			}
			ts = v
		case "v1":
			sigs = append(sigs, v)
		}
	}
	if len(sigs) == 0 {
		return ErrNoSignature
	}
	unix, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrBadHeader
	}
	want := mac(secret, ts, body)
	matched := false
	for _, s := range sigs {
		got, err := hex.DecodeString(s)
		if err == nil && hmac.Equal(got, want) {
			matched = true
			break
		}
	}
	if !matched {
		return ErrBadSignature
	}
	switch age := now.Sub(time.Unix(unix, 0)); {
	case age > tolerance:
		return ErrTooOld
	case age < -tolerance:
		return ErrTooNew
	}
	return nil
}
