package hebao

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"
)

// Argon2Params are the cost parameters of argon2id password hashes. Each hash
// records its own, so the parameters can be raised later without breaking the
// passwords stored under the old ones.
type Argon2Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultArgon2 is the OWASP recommendation for argon2id: 19 MiB, 2 passes, one
// thread, a 16-byte salt and a 32-byte key. Tests pass cheaper parameters.
var DefaultArgon2 = Argon2Params{Memory: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// maxArgon2Memory bounds what a stored hash may ask for (1 GiB), so that a corrupt
// row cannot exhaust the server's memory.
const maxArgon2Memory = 1 << 20

func (p Argon2Params) orDefault() Argon2Params {
	if p == (Argon2Params{}) {
		return DefaultArgon2
	}
	return p
}

// The password rules of SPEC §6.
const (
	MinPasswordLen      = 8  // characters, for customers' login passwords
	MaxPasswordLen      = 64 // characters
	MinStaffPasswordLen = 12 // characters, for staff accounts
	maxStaffPasswordLen = 128
)

// ValidatePassword checks a customer's new login password: 8 to 64 characters of
// valid UTF-8, not all digits (a 6-digit payment password must not double as it).
// Errors: invalid_request, saying which rule.
func ValidatePassword(pw string) error {
	if !utf8.ValidString(pw) {
		return Errorf(CodeInvalidRequest, "the password must be text (valid UTF-8)")
	}
	n := utf8.RuneCountInString(pw)
	if n < MinPasswordLen || n > MaxPasswordLen {
		return Errorf(CodeInvalidRequest, "the password must be %d to %d characters long", MinPasswordLen, MaxPasswordLen)
	}
	if strings.Trim(pw, "0123456789") == "" {
		return Errorf(CodeInvalidRequest, "the password must not be all digits")
	}
	return nil
}

// ValidateStaffPassword checks a staff account's password: 12 to 128 characters of
// valid UTF-8. Errors: invalid_request.
func ValidateStaffPassword(pw string) error {
	n := utf8.RuneCountInString(pw)
	if !utf8.ValidString(pw) || n < MinStaffPasswordLen || n > maxStaffPasswordLen {
		return Errorf(CodeInvalidRequest, "a staff password must be %d to %d characters long", MinStaffPasswordLen, maxStaffPasswordLen)
	}
	return nil
}

// HashPassword hashes pw with argon2id under p (DefaultArgon2 when zero) and a new
// random salt, as a PHC string: $argon2id$v=19$m=19456,t=2,p=1$<salt>$<hash>, salt
// and hash in unpadded standard base64.
func HashPassword(p Argon2Params, pw string) (string, error) {
	p = p.orDefault()
	if p.SaltLen < 8 || p.KeyLen < 16 || p.Time < 1 || p.Threads < 1 || p.Memory < 8*uint32(p.Threads) {
		return "", fmt.Errorf("hebao: argon2 parameters %+v are too weak", p)
	}
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("hash password: %w", err)
	}
	key := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, p.KeyLen)
	b64 := base64.RawStdEncoding
	return fmt.Sprintf("$argon2id$v=%d$m=%d,t=%d,p=%d$%s$%s",
		argon2.Version, p.Memory, p.Time, p.Threads, b64.EncodeToString(salt), b64.EncodeToString(key)), nil
}

// CheckPassword reports whether pw matches hash, a PHC string made by
// HashPassword, comparing in constant time. A hash it cannot read is an error.
func CheckPassword(hash, pw string) (bool, error) {
	p, salt, key, err := parsePHC(hash)
	if err != nil {
		return false, err
	}
	got := argon2.IDKey([]byte(pw), salt, p.Time, p.Memory, p.Threads, uint32(len(key)))
	return subtle.ConstantTimeCompare(got, key) == 1, nil
}

// parsePHC reads $argon2id$v=19$m=…,t=…,p=…$salt$hash.
func parsePHC(hash string) (p Argon2Params, salt, key []byte, err error) {
	bad := fmt.Errorf("hebao: stored password hash is not an argon2id PHC string")
	parts := strings.Split(hash, "$")
	if len(parts) != 6 || parts[0] != "" || parts[1] != "argon2id" {
		return p, nil, nil, bad
	}
	var v int
	if _, err := fmt.Sscanf(parts[2], "v=%d", &v); err != nil || v != argon2.Version {
		return p, nil, nil, bad
	}
	var threads uint32
	if n, err := fmt.Sscanf(parts[3], "m=%d,t=%d,p=%d", &p.Memory, &p.Time, &threads); err != nil || n != 3 {
		return p, nil, nil, bad
	}
	if parts[3] != fmt.Sprintf("m=%d,t=%d,p=%d", p.Memory, p.Time, threads) {
		return p, nil, nil, bad
	}
	if p.Memory > maxArgon2Memory || p.Time < 1 || p.Time > 100 || threads < 1 || threads > 255 {
		return p, nil, nil, bad
	}
	p.Threads = uint8(threads)
	b64 := base64.RawStdEncoding
	if salt, err = b64.DecodeString(parts[4]); err != nil || len(salt) < 8 {
		return p, nil, nil, bad
	}
	if key, err = b64.DecodeString(parts[5]); err != nil || len(key) < 16 {
		return p, nil, nil, bad
	}
	return p, salt, key, nil
}
