package hebao

import (
	"strconv"
	"strings"
)

// Unit is what a ledger amount counts. Money is CNY in fen; points are whole points.
type Unit string

// The ledger's units.
const (
	CNY   Unit = "CNY"
	POINT Unit = "POINT"
)

// Valid reports whether u is a unit the ledger keeps.
func (u Unit) Valid() bool { return u == CNY || u == POINT }

// MaxAmount is the largest amount, in fen, that any request may carry (10^12 fen,
// ten billion yuan). Keeping every amount this far below the int64 range means a sum
// of a few thousand of them can never overflow.
const MaxAmount int64 = 1_000_000_000_000

// ParseYuan parses a yuan amount typed by a person, such as "12.34", "12.3" or "12",
// into fen. It is strict on purpose: no sign, no exponent, no spaces, no thousands
// separators, no leading zeros ("007"), at most two decimals, and at most MaxAmount.
// Anything else returns an invalid_request error.
func ParseYuan(s string) (int64, error) {
	bad := func(why string) (int64, error) {
		return 0, Errorf(CodeInvalidRequest, "amount %q: %s", truncate(s, 32), why)
	}
	if s == "" {
		return bad("empty")
	}
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" {
		return bad("needs a digit before the decimal point")
	}
	if hasDot && (len(frac) == 0 || len(frac) > 2) {
		return bad("needs one or two digits after the decimal point")
	}
	if len(whole) > 1 && whole[0] == '0' {
		return bad("leading zeros are not allowed")
	}
	if !allDigits(whole) || !allDigits(frac) {
		return bad("only digits and one decimal point are allowed")
	}
	if len(whole) > 11 { // MaxAmount is 10^10 yuan, 11 digits; more is out of range for sure
		return bad("too large")
	}
	y, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return bad("too large")
	}
	var f int64
	if frac != "" {
		f, _ = strconv.ParseInt(frac, 10, 64)
		if len(frac) == 1 {
			f *= 10
		}
	}
	fen := y*100 + f
	if fen > MaxAmount {
		return bad("too large")
	}
	return fen, nil
}

// FormatYuan formats fen as a yuan string with exactly two decimals: 1234 → "12.34",
// -5 → "-0.05". ParseYuan(FormatYuan(x)) == x for every x in [0, MaxAmount].
func FormatYuan(fen int64) string {
	neg := fen < 0
	u := uint64(fen)
	if neg {
		u = -u // correct for math.MinInt64 too: two's complement
	}
	whole, frac := u/100, u%100
	s := strconv.FormatUint(whole, 10) + "." + string([]byte{byte('0' + frac/10), byte('0' + frac%10)})
	if neg {
		return "-" + s
	}
	return s
}

// FormatCNY formats fen for people: ¥12.34.
func FormatCNY(fen int64) string {
	if fen < 0 {
		return "-¥" + FormatYuan(fen)[1:]
	}
	return "¥" + FormatYuan(fen)
}

// CheckAmount validates an amount in fen received from a client: positive and at most
// MaxAmount. It returns invalid_request otherwise.
func CheckAmount(fen int64) error {
	if fen <= 0 {
		return Errorf(CodeInvalidRequest, "amount must be a positive whole number of fen")
	}
	if fen > MaxAmount {
		return Errorf(CodeInvalidRequest, "amount must be at most %d fen", MaxAmount)
	}
	return nil
}

// CheckCurrency accepts only CNY (and the empty string, meaning CNY).
func CheckCurrency(c string) error {
	if c == "" || c == string(CNY) {
		return nil
	}
	return Errorf(CodeCurrencyNotSupported, "currency %q is not supported; only CNY", truncate(c, 8))
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
