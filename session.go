package hebao

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"time"
)

// The session rules of SPEC §6.
const (
	SessionIdle      = 30 * 24 * time.Hour // a customer's session ends after this long unused
	StaffSessionIdle = 12 * time.Hour      // a staff session, after this
	// sessionTouchEvery is how stale a session's last use may be recorded: an
	// authenticated request writes it at most this often, so reads stay reads.
	sessionTouchEvery = time.Minute

	LoginMaxFailures   = 5                // wrong passwords for one phone or username…
	LoginFailureWindow = 15 * time.Minute // …within this long stop sign-ins for this long
)

// Token prefixes tell a customer's token from a staff member's at a glance (and to
// secret scanners). The rest is 32 random bytes in unpadded base64url.
const (
	CustomerTokenPrefix = "hb_"
	StaffTokenPrefix    = "hbs_"
	tokenBytes          = 32
)

// Session is a customer's sign-in on one device. The token itself is never stored:
// only its SHA-256, so a copy of the database signs no one in.
type Session struct {
	ID         string
	TokenHash  [32]byte
	CustomerID string
	DeviceID   string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// ExpiresAt is when the session ends if it is not used before.
func (s Session) ExpiresAt() time.Time { return s.LastUsedAt.Add(SessionIdle) }

// StaffSession is a staff member's sign-in, stored like a customer's.
type StaffSession struct {
	ID         string
	TokenHash  [32]byte
	StaffID    string
	CreatedAt  time.Time
	LastUsedAt time.Time
}

// ExpiresAt is when the session ends if it is not used before.
func (s StaffSession) ExpiresAt() time.Time { return s.LastUsedAt.Add(StaffSessionIdle) }

// newToken returns a new bearer token with prefix and the hash to store for it.
func newToken(prefix string) (string, [32]byte, error) {
	b := make([]byte, tokenBytes)
	if _, err := rand.Read(b); err != nil {
		return "", [32]byte{}, fmt.Errorf("new session token: %w", err)
	}
	tok := prefix + base64.RawURLEncoding.EncodeToString(b)
	return tok, TokenHash(tok), nil
}

// TokenHash is what the store keeps for a token: its SHA-256. A token has 256
// random bits, so a fast hash is enough; no salt or stretching would add anything.
func TokenHash(token string) [32]byte { return sha256.Sum256([]byte(token)) }

// wellFormedToken reports whether token has prefix and then 32 bytes of base64url.
func wellFormedToken(prefix, token string) bool {
	rest, ok := strings.CutPrefix(token, prefix)
	if !ok || len(rest) != base64.RawURLEncoding.EncodedLen(tokenBytes) {
		return false
	}
	_, err := base64.RawURLEncoding.DecodeString(rest)
	return err == nil
}

// Idle reports whether a session last used at lastUsed has ended by now, after idle.
func Idle(lastUsed time.Time, idle time.Duration, now time.Time) bool {
	return !now.Before(lastUsed.Add(idle))
}

// idleCutoff is the last use before which a session has ended by now, after idle:
// exactly the sessions Idle says have ended (times are kept to the microsecond).
func idleCutoff(now time.Time, idle time.Duration) time.Time {
	return now.Add(-idle + time.Microsecond)
}

// needsTouch reports whether a request at now should record the session's use: its
// recorded last use is a minute old or more.
func needsTouch(lastUsed, now time.Time) bool {
	return now.Sub(lastUsed) >= sessionTouchEvery
}

// CheckLoginThrottle decides whether a sign-in may be tried at now, given the times
// of the subject's failed sign-ins (any order): once LoginMaxFailures of them fall
// within LoginFailureWindow, sign-ins stop until LoginFailureWindow after the last
// of those. Nothing locks an owner out for good, and a correct password clears the
// failures. The caller passes the failures of the last 2×LoginFailureWindow, which
// is all this rule can look at.
// Errors: rate_limited, saying how long to wait.
func CheckLoginThrottle(failures []time.Time, now time.Time) error {
	if until := loginBlockedUntil(failures); now.Before(until) {
		return Errorf(CodeRateLimited, "too many wrong passwords; try again in %s", seconds(until.Sub(now)))
	}
	return nil
}

// loginBlockedUntil is the end of the latest block the failures cause, or zero.
func loginBlockedUntil(failures []time.Time) time.Time {
	fs := slices.Clone(failures)
	slices.SortFunc(fs, time.Time.Compare)
	var until time.Time
	for i := 0; i+LoginMaxFailures-1 < len(fs); i++ {
		last := fs[i+LoginMaxFailures-1]
		if last.Sub(fs[i]) <= LoginFailureWindow {
			if u := last.Add(LoginFailureWindow); u.After(until) {
				until = u
			}
		}
	}
	return until
}

// ValidateDeviceID accepts the id a client app keeps for its install: 1 to 128
// printable ASCII characters without spaces. Errors: invalid_request.
func ValidateDeviceID(id string) error {
	ok := len(id) >= 1 && len(id) <= 128
	for i := 0; ok && i < len(id); i++ {
		ok = id[i] > ' ' && id[i] < 0x7f
	}
	if !ok {
		return Errorf(CodeInvalidRequest, "device_id must be 1 to 128 printable ASCII characters without spaces")
	}
	return nil
}
