package hebao

import (
	"crypto/rand"
	"encoding/base32"
	"encoding/binary"
	"sync"
	"time"
)

var idEncoding = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// NewID returns a new opaque id such as "tr_06f8w3y0…": the prefix, an underscore, and
// 26 characters encoding 48 bits of milliseconds then 80 random bits, so ids sort by
// creation time and cannot be guessed. Within one process ids also sort in the order
// they were made, even within a millisecond: the next id of the same millisecond adds
// a random step of up to 2³² to the previous one's random bits, so lists ordered by id
// are newest first exactly (two sides of one transfer included).
func NewID(prefix string) string {
	var b [16]byte
	ms := uint64(time.Now().UnixMilli())
	rand.Read(b[6:])
	idMu.Lock()
	if ms <= idLast.ms {
		ms = idLast.ms
		step := uint64(binary.BigEndian.Uint32(b[12:16])) + 1
		lo := idLast.lo + step
		hi := idLast.hi
		if lo < idLast.lo {
			hi++
		}
		binary.BigEndian.PutUint16(b[6:8], hi)
		binary.BigEndian.PutUint64(b[8:16], lo)
	}
	binary.BigEndian.PutUint64(b[:8], ms<<16|uint64(binary.BigEndian.Uint16(b[6:8])))
	idLast.ms, idLast.hi, idLast.lo = ms, binary.BigEndian.Uint16(b[6:8]), binary.BigEndian.Uint64(b[8:16])
	idMu.Unlock()
	return prefix + "_" + idEncoding.EncodeToString(b[:])
}

var (
	idMu   sync.Mutex
	idLast struct {
		ms uint64
		hi uint16 // the random bits: 16 high…
		lo uint64 // …and 64 low
	}
)

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
