package hebao

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"time"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a new opaque id such as "tr_06f8w3y0…": the prefix, an underscore, and
// 26 characters encoding 48 bits of milliseconds then 80 random bits, so ids sort by
// creation time and cannot be guessed.
func NewID(prefix string) string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	binary.BigEndian.PutUint64(b[:8], ms<<16)
	rand.Read(b[6:])
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

// ValidID reports whether s looks like an id made by NewID with this prefix; handlers
// use it to answer malformed ids with invalid_request before touching the database.
func ValidID(prefix, s string) bool {
	if len(s) != len(prefix)+1+26 || s[:len(prefix)] != prefix || s[len(prefix)] != '_' {
		return false
	}
	for _, c := range []byte(s[len(prefix)+1:]) {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'z') || c == 'i' || c == 'l' || c == 'o' || c == 'u' {
			return false
		}
	}
	return true
}
