package hebao_test

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func mustID(t testing.TB, s string) hebao.IDNumber {
	t.Helper()
	id, err := hebao.ParseIDNumber(s)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestValidatePaymentPassword(t *testing.T) {
	needCodes(t, hebao.CodePaymentPasswordWeak)
	id := mustID(t, "110101199003074477") // born 7 March 1990
	none := hebao.PaymentPasswordHints{}
	all := hebao.PaymentPasswordHints{ID: id, Phone: "13812904417"}
	tests := []struct {
		pw    string
		hints hebao.PaymentPasswordHints
		code  string // "" when accepted
	}{
		{"482916", all, ""},
		{"135790", all, ""}, // steps of two are allowed
		{"000001", all, ""},
		{"123457", all, ""},
		{"121213", all, ""},
		{"112234", all, ""},
		{"070390", all, ""}, // DDMMYY is not refused
		{"199003", all, ""}, // nor YYYYMM
		{"890123", all, ""}, // a run does not wrap around

		{"", all, hebao.CodeInvalidRequest},
		{"12345", all, hebao.CodeInvalidRequest},
		{"1234567", all, hebao.CodeInvalidRequest},
		{"48291a", all, hebao.CodeInvalidRequest},
		{" 48291", all, hebao.CodeInvalidRequest},
		{"４８２９１６", all, hebao.CodeInvalidRequest},
		{"-48291", all, hebao.CodeInvalidRequest},

		{"000000", none, hebao.CodePaymentPasswordWeak},
		{"111111", none, hebao.CodePaymentPasswordWeak},
		{"999999", none, hebao.CodePaymentPasswordWeak},
		{"012345", none, hebao.CodePaymentPasswordWeak},
		{"123456", none, hebao.CodePaymentPasswordWeak},
		{"234567", none, hebao.CodePaymentPasswordWeak},
		{"456789", none, hebao.CodePaymentPasswordWeak},
		{"987654", none, hebao.CodePaymentPasswordWeak},
		{"654321", none, hebao.CodePaymentPasswordWeak},
		{"543210", none, hebao.CodePaymentPasswordWeak},
		{"121212", none, hebao.CodePaymentPasswordWeak},
		{"909090", none, hebao.CodePaymentPasswordWeak},
		{"123123", none, hebao.CodePaymentPasswordWeak},
		{"520520", none, hebao.CodePaymentPasswordWeak},
		{"112233", none, hebao.CodePaymentPasswordWeak},
		{"998877", none, hebao.CodePaymentPasswordWeak},
		{"111222", none, hebao.CodePaymentPasswordWeak},
		{"888666", none, hebao.CodePaymentPasswordWeak},

		// The holder's own numbers, only when given.
		{"900307", hebao.PaymentPasswordHints{ID: id}, hebao.CodePaymentPasswordWeak}, // YYMMDD
		{"030790", hebao.PaymentPasswordHints{ID: id}, hebao.CodePaymentPasswordWeak}, // MMDDYY
		{"074477", hebao.PaymentPasswordHints{ID: id}, hebao.CodePaymentPasswordWeak}, // the ID number's end
		{"904417", hebao.PaymentPasswordHints{Phone: "13812904417"}, hebao.CodePaymentPasswordWeak},
		{"900307", none, ""},
		{"030790", none, ""},
		{"074477", none, ""},
		{"904417", none, ""},
		{"900307", hebao.PaymentPasswordHints{Phone: "13812900307"}, hebao.CodePaymentPasswordWeak},
		{"904417", hebao.PaymentPasswordHints{Phone: "4417"}, ""}, // too short to end in six digits
		{"900307", hebao.PaymentPasswordHints{ID: mustID(t, "11010519491231002X")}, ""},
	}
	for _, tt := range tests {
		err := hebao.ValidatePaymentPassword(tt.pw, tt.hints)
		what := fmt.Sprintf("ValidatePaymentPassword(%q, %v, %q)", tt.pw, tt.hints.ID, tt.hints.Phone)
		wantCode(t, what, err, tt.code)
		if err != nil && len(tt.pw) >= 4 && strings.Contains(err.Error(), tt.pw) {
			t.Errorf("%s: the error repeats the password: %v", what, err)
		}
	}
}

// TestWeakPaymentPasswordsExactly builds the trivial patterns one by one and checks,
// over all million six-digit passwords, that exactly those are weak without hints.
func TestWeakPaymentPasswordsExactly(t *testing.T) {
	needCodes(t, hebao.CodePaymentPasswordWeak)
	weak := map[string]bool{}
	for a := 0; a < 10; a++ {
		if a <= 4 {
			weak[fmt.Sprintf("%d%d%d%d%d%d", a, a+1, a+2, a+3, a+4, a+5)] = true // 012345 … 456789
			weak[fmt.Sprintf("%d%d%d%d%d%d", a+5, a+4, a+3, a+2, a+1, a)] = true // 543210 … 987654
		}
		for b := 0; b < 10; b++ {
			weak[fmt.Sprintf("%d%d%d%d%d%d", a, b, a, b, a, b)] = true // ababab, aaaaaa too
			weak[fmt.Sprintf("%d%d%d%d%d%d", a, a, a, b, b, b)] = true // aaabbb
			for c := 0; c < 10; c++ {
				weak[fmt.Sprintf("%d%d%d%d%d%d", a, b, c, a, b, c)] = true // abcabc
				weak[fmt.Sprintf("%d%d%d%d%d%d", a, a, b, b, c, c)] = true // aabbcc
			}
		}
	}
	// 10 runs and 100 + 1000 + 1000 + 100 patterns, which overlap only in the ten
	// aaaaaa, counted four times: 2,180 weak passwords, 0.2% of the space.
	if len(weak) != 10+100+1000+1000+100-3*10 {
		t.Fatalf("the oracle has %d weak passwords", len(weak))
	}
	got := 0
	for n := 0; n < 1_000_000; n++ {
		pw := strconv.Itoa(1_000_000 + n)[1:]
		err := hebao.ValidatePaymentPassword(pw, hebao.PaymentPasswordHints{})
		if (err != nil) != weak[pw] || err != nil && hebao.ErrorCode(err) != hebao.CodePaymentPasswordWeak {
			t.Fatalf("ValidatePaymentPassword(%q) = %v; weak by construction: %v", pw, err, weak[pw])
		}
		if err != nil {
			got++
		}
	}
	if got != len(weak) {
		t.Errorf("%d passwords are refused, want %d", got, len(weak))
	}
}

func TestHashPaymentPassword(t *testing.T) {
	key := []byte("payment password key, 32 bytes!!")
	h := hebao.HashPaymentPassword(key, "wal_1", "482916")
	if h != hebao.HashPaymentPassword(key, "wal_1", "482916") {
		t.Error("the hash is not deterministic")
	}
	others := map[string][32]byte{
		"another wallet":   hebao.HashPaymentPassword(key, "wal_2", "482916"),
		"another password": hebao.HashPaymentPassword(key, "wal_1", "482917"),
		"another key":      hebao.HashPaymentPassword([]byte("another key of at least 32 bytes"), "wal_1", "482916"),
		"boundary moved":   hebao.HashPaymentPassword(key, "wal_14", "82916"),
	}
	for name, o := range others {
		if o == h {
			t.Errorf("%s gives the same hash", name)
		}
	}
	tests := []struct {
		wallet, pw string
		want       bool
	}{
		{"wal_1", "482916", true},
		{"wal_1", "482917", false},
		{"wal_2", "482916", false},
		{"wal_1", "", false},
		{"wal_1", "4829160", false},
	}
	for _, tt := range tests {
		if got := hebao.CheckPaymentPassword(key, tt.wallet, tt.pw, h); got != tt.want {
			t.Errorf("CheckPaymentPassword(%s, %q) = %v, want %v", tt.wallet, tt.pw, got, tt.want)
		}
	}
}

func BenchmarkCheckPaymentPassword(b *testing.B) {
	key := []byte("payment password key, 32 bytes!!")
	h := hebao.HashPaymentPassword(key, "wal_1", "482916")
	for b.Loop() {
		hebao.CheckPaymentPassword(key, "wal_1", "482916", h)
	}
}

func TestPaymentPasswordLockout(t *testing.T) {
	t0 := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC) // 18:00 in China
	lockedUntil := t0.Add(4*time.Minute + 3*time.Hour)
	type step struct {
		at   time.Duration // after t0
		ok   bool
		code string // "" when the check passes
		want hebao.PaymentPasswordState
		msg  string // in the error's message
	}
	tests := []struct {
		name  string
		start hebao.PaymentPasswordState
		steps []step
	}{
		{"right first time", hebao.PaymentPasswordState{}, []step{
			{0, true, "", hebao.PaymentPasswordState{}, ""},
		}},
		{"wrong counts down, right resets", hebao.PaymentPasswordState{}, []step{
			{0, false, hebao.CodePaymentPasswordWrong, hebao.PaymentPasswordState{Failures: 1}, "4 tries left"},
			{time.Minute, false, hebao.CodePaymentPasswordWrong, hebao.PaymentPasswordState{Failures: 2}, "3 tries left"},
			{2 * time.Minute, true, "", hebao.PaymentPasswordState{}, ""},
			{3 * time.Minute, false, hebao.CodePaymentPasswordWrong, hebao.PaymentPasswordState{Failures: 1}, "4 tries left"},
		}},
		{"five wrong in a row lock for three hours", hebao.PaymentPasswordState{}, []step{
			{0, false, hebao.CodePaymentPasswordWrong, hebao.PaymentPasswordState{Failures: 1}, "4 tries left"},
			{time.Minute, false, hebao.CodePaymentPasswordWrong, hebao.PaymentPasswordState{Failures: 2}, "3 tries left"},
			{2 * time.Minute, false, hebao.CodePaymentPasswordWrong, hebao.PaymentPasswordState{Failures: 3}, "2 tries left"},
			{3 * time.Minute, false, hebao.CodePaymentPasswordWrong, hebao.PaymentPasswordState{Failures: 4}, "1 try left before payments are locked for 3 hours"},
			{4 * time.Minute, false, hebao.CodePaymentPasswordLocked, hebao.PaymentPasswordState{Failures: 5, LockedUntil: lockedUntil},
				"locked until 2026-05-01 21:04:00 China time (2026-05-01T13:04:00Z)"},
			// While locked, even the right password is refused, and nothing changes.
			{5 * time.Minute, true, hebao.CodePaymentPasswordLocked, hebao.PaymentPasswordState{Failures: 5, LockedUntil: lockedUntil}, "locked until"},
			{3*time.Hour + 3*time.Minute, false, hebao.CodePaymentPasswordLocked, hebao.PaymentPasswordState{Failures: 5, LockedUntil: lockedUntil}, "locked until"},
			{3*time.Hour + 4*time.Minute - time.Nanosecond, true, hebao.CodePaymentPasswordLocked, hebao.PaymentPasswordState{Failures: 5, LockedUntil: lockedUntil}, ""},
			// At the end of the lock, the right password passes.
			{3*time.Hour + 4*time.Minute, true, "", hebao.PaymentPasswordState{}, ""},
		}},
		{"a lock that ran out starts a new count", hebao.PaymentPasswordState{Failures: 5, LockedUntil: t0.Add(-time.Second)}, []step{
			{0, false, hebao.CodePaymentPasswordWrong, hebao.PaymentPasswordState{Failures: 1}, "4 tries left"},
		}},
		{"stored locked state", hebao.PaymentPasswordState{Failures: 5, LockedUntil: t0.Add(time.Hour)}, []step{
			{0, true, hebao.CodePaymentPasswordLocked, hebao.PaymentPasswordState{Failures: 5, LockedUntil: t0.Add(time.Hour)}, "19:00:00 China time"},
		}},
		{"wrong tries spread over days still count", hebao.PaymentPasswordState{Failures: 4}, []step{
			{72 * time.Hour, false, hebao.CodePaymentPasswordLocked, hebao.PaymentPasswordState{Failures: 5, LockedUntil: t0.Add(75 * time.Hour)}, ""},
		}},
	}
	for _, tt := range tests {
		s := tt.start
		for i, st := range tt.steps {
			now := t0.Add(st.at)
			next, err := s.Check(now, st.ok)
			what := fmt.Sprintf("%s, step %d", tt.name, i)
			wantCode(t, what, err, st.code)
			if err != nil && !strings.Contains(err.Error(), st.msg) {
				t.Errorf("%s: %v, want %q in it", what, err, st.msg)
			}
			if diff := cmp.Diff(st.want, next); diff != "" {
				t.Errorf("%s: state (-want +got):\n%s", what, diff)
			}
			if next.Locked(now) != (st.code == hebao.CodePaymentPasswordLocked) {
				t.Errorf("%s: Locked = %v after %v", what, next.Locked(now), err)
			}
			s = next
		}
	}
}

// FuzzPaymentPasswordLockout drives the lockout with a sequence of checks, each byte
// one check (low bit: right or wrong; the rest: minutes since the last one), against
// a model that counts the checks since the last right one or lock.
func FuzzPaymentPasswordLockout(f *testing.F) {
	f.Add([]byte{0, 0, 0, 0, 0, 1, 255, 255, 1})
	f.Add([]byte{2, 2, 2, 2, 3, 2, 2, 2, 2, 2})
	f.Add([]byte{0, 0, 0, 0, 0, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 254, 1})
	f.Fuzz(func(t *testing.T, events []byte) {
		now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
		var s hebao.PaymentPasswordState
		var wrongs int            // the model: wrong tries counted since the last reset
		var lockedUntil time.Time // the model's lock
		for i, e := range events {
			now = now.Add(time.Duration(e>>1) * 2 * time.Minute)
			ok := e&1 == 1
			next, err := s.Check(now, ok)
			var want string
			switch {
			case now.Before(lockedUntil):
				want = hebao.CodePaymentPasswordLocked
			case ok:
				wrongs, want = 0, ""
			default:
				if !lockedUntil.IsZero() && wrongs >= hebao.PaymentPasswordMaxFailures {
					wrongs = 0
				}
				wrongs++
				want = hebao.CodePaymentPasswordWrong
				if wrongs == hebao.PaymentPasswordMaxFailures {
					lockedUntil, want = now.Add(hebao.PaymentPasswordLockout), hebao.CodePaymentPasswordLocked
				}
			}
			if got := hebao.ErrorCode(err); got != want {
				t.Fatalf("check %d (ok %v) at %v: %q, want %q", i, ok, now, got, want)
			}
			if next.Failures < 0 || next.Failures > hebao.PaymentPasswordMaxFailures || next.Locked(now) != now.Before(lockedUntil) {
				t.Fatalf("check %d: state %+v, model locked until %v", i, next, lockedUntil)
			}
			s = next
		}
	})
}
