package hebao_test

import (
	"encoding/base32"
	"encoding/binary"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

// idPattern is NewID's documented shape: prefix, underscore, 26 characters of
// lower-case base32 without i, l, o, u.
var idPattern = regexp.MustCompile(`^tr_[0-9a-hjkmnp-tv-z]{26}$`)

// idTime decodes the 48-bit millisecond time at the front of an id.
func idTime(t *testing.T, id string) time.Time {
	t.Helper()
	enc := base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)
	b, err := enc.DecodeString(id[strings.IndexByte(id, '_')+1:])
	if err != nil || len(b) != 16 {
		t.Fatalf("decode %q: %d bytes, %v", id, len(b), err)
	}
	return time.UnixMilli(int64(binary.BigEndian.Uint64(b[:8]) >> 16))
}

func TestNewIDFormat(t *testing.T) {
	before := time.Now().Truncate(time.Millisecond)
	id := hebao.NewID("tr")
	after := time.Now()
	if !idPattern.MatchString(id) {
		t.Fatalf("NewID(\"tr\") = %q, want it to match %v", id, idPattern)
	}
	if at := idTime(t, id); at.Before(before) || at.After(after) {
		t.Errorf("NewID at %v carries time %v", before, at)
	}
	for _, prefix := range []string{"wal", "ord", "x", ""} {
		if id := hebao.NewID(prefix); !strings.HasPrefix(id, prefix+"_") || len(id) != len(prefix)+27 {
			t.Errorf("NewID(%q) = %q", prefix, id)
		}
	}
}

func TestNewIDUnique(t *testing.T) {
	const n = 100_000
	seen := make(map[string]bool, n)
	for range n {
		id := hebao.NewID("tr")
		if seen[id] {
			t.Fatalf("NewID repeated %q after %d ids", id, len(seen))
		}
		seen[id] = true
	}
	// Ids made in one millisecond share their first characters; the random part must
	// still differ in most of them, or a guesser could walk through them.
	a, b := hebao.NewID("tr"), hebao.NewID("tr")
	if a[len(a)-8:] == b[len(b)-8:] {
		t.Errorf("two ids end alike: %q, %q", a, b)
	}
}

func TestNewIDSortsByTime(t *testing.T) {
	var ids []string
	for range 20 {
		ids = append(ids, hebao.NewID("tr"))
		time.Sleep(2 * time.Millisecond)
	}
	if !slices.IsSorted(ids) {
		t.Errorf("ids made in later milliseconds do not sort after earlier ones: %q", ids)
	}
	for i := 1; i < len(ids); i++ {
		if !idTime(t, ids[i]).After(idTime(t, ids[i-1])) {
			t.Errorf("id %q made 2ms after %q carries no later time", ids[i], ids[i-1])
		}
	}
}

func TestValidID(t *testing.T) {
	good := hebao.NewID("tr")
	tail := good[3:]
	tests := []struct {
		prefix, s string
		want      bool
	}{
		{"tr", good, true},
		{"tr", "tr_" + strings.Repeat("0", 26), true},
		{"tr", "tr_0123456789abcdefghjkmnpqrs", true},
		{"tr", "tr_tvwxyz" + strings.Repeat("z", 20), true},
		{"wal", "wal_" + tail, true},
		{"tr", "wal_" + tail, false},      // wrong prefix
		{"wal", good, false},              // wrong prefix
		{"t", good, false},                // prefix of the prefix
		{"tr", "tr-" + tail, false},       // no underscore
		{"tr", "trx" + tail, false},       // no underscore
		{"tr", "tr" + tail, false},        // no underscore at all
		{"tr", good[:len(good)-1], false}, // 25 characters
		{"tr", good + "0", false},         // 27 characters
		{"tr", "", false},
		{"tr", "tr_", false},
		{"tr", strings.ToUpper(good), false},
		{"tr", "tr_" + strings.ToUpper(tail), false},
		{"tr", "tr_" + "A" + tail[1:], false},
		{"tr", "tr_" + "i" + tail[1:], false},
		{"tr", "tr_" + "l" + tail[1:], false},
		{"tr", "tr_" + "o" + tail[1:], false},
		{"tr", "tr_" + "u" + tail[1:], false},
		{"tr", "tr_" + "-" + tail[1:], false},
		{"tr", "tr_" + "_" + tail[1:], false},
		{"tr", "tr_" + " " + tail[1:], false},
		{"tr", "tr_" + tail[:25] + "\x00", false},
		{"tr", "tr_" + "é" + tail[2:], false}, // 26 bytes, not 26 characters
		{"tr", "tr_" + tail[:13] + "/" + tail[14:], false},
		{"tr", "tr_../../etc/passwd" + strings.Repeat("0", 10), false},
	}
	for _, tt := range tests {
		if got := hebao.ValidID(tt.prefix, tt.s); got != tt.want {
			t.Errorf("ValidID(%q, %q) = %v, want %v", tt.prefix, tt.s, got, tt.want)
		}
	}
	for range 1000 {
		if id := hebao.NewID("ord"); !hebao.ValidID("ord", id) {
			t.Fatalf("ValidID rejects NewID output %q", id)
		}
	}
}

// TestNewIDMonotonic: ids made one after another sort in that order, even many
// within one millisecond.
func TestNewIDMonotonic(t *testing.T) {
	prev := hebao.NewID("mov")
	for i := 0; i < 100_000; i++ {
		id := hebao.NewID("mov")
		if id <= prev {
			t.Fatalf("id %d: %s is not after %s", i, id, prev)
		}
		if !hebao.ValidID("mov", id) {
			t.Fatalf("invalid id %s", id)
		}
		prev = id
	}
}
