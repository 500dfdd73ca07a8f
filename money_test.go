package hebao_test

import (
	"math"
	"math/big"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func TestParseYuan(t *testing.T) {
	tests := []struct {
		in   string
		want int64
	}{
		{"0", 0},
		{"0.0", 0},
		{"0.00", 0},
		{"0.5", 50},
		{"0.05", 5},
		{"0.01", 1},
		{"1", 100},
		{"12", 1200},
		{"12.3", 1230},
		{"12.30", 1230},
		{"12.34", 1234},
		{"12.00", 1200},
		{"100", 10000},
		{"9999999999.99", hebao.MaxAmount - 1},
		{"10000000000", hebao.MaxAmount},
		{"10000000000.0", hebao.MaxAmount},
		{"10000000000.00", hebao.MaxAmount},
	}
	for _, tt := range tests {
		got, err := hebao.ParseYuan(tt.in)
		if err != nil {
			t.Errorf("ParseYuan(%q): %v, want %d", tt.in, err, tt.want)
			continue
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("ParseYuan(%q) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestParseYuanInvalid(t *testing.T) {
	for _, in := range []string{
		"",
		"1e3",
		"12.345",
		"0.001",
		"-1",
		"-0",
		"+1",
		" 1",
		"1 ",
		"\t1",
		"1\n",
		"01",
		"00",
		"00.5",
		"007",
		"1.",
		".5",
		".",
		"1..2",
		"1.2.3",
		"1,000",
		"1_000",
		"1,5",
		"１２", // full-width digits
		"١٢", // Arabic-Indic digits
		"NaN",
		"Inf",
		"0x10",
		"0b1",
		"10000000000.01",
		"10000000001",
		"99999999999",
		"99999999999999999999",
		"9223372036854775807",
		"18446744073709551616",
		"¥12",
		"12元",
		"1.-5",
		"1.+5",
		"1.a",
		"1./", // the bytes either side of the digits
		"1.:",
		"1.5:",
		"/",
		":",
		"a",
		"1\x00",
	} {
		got, err := hebao.ParseYuan(in)
		if err == nil {
			t.Errorf("ParseYuan(%q) = %d, want an error", in, got)
			continue
		}
		if code := hebao.ErrorCode(err); code != hebao.CodeInvalidRequest {
			t.Errorf("ParseYuan(%q): code %q, want %q (%v)", in, code, hebao.CodeInvalidRequest, err)
		}
		if got != 0 {
			t.Errorf("ParseYuan(%q) = %d with an error, want 0", in, got)
		}
	}
}

func TestParseYuanErrorMessageIsBounded(t *testing.T) {
	// The message echoes the input; a huge input must not make a huge message.
	_, err := hebao.ParseYuan(strings.Repeat("9", 100000))
	if err == nil {
		t.Fatal("ParseYuan accepted 100000 digits")
	}
	if msg := hebao.ErrorOf(err).Message; len(msg) > 200 {
		t.Errorf("message is %d bytes long, want at most 200: %.80q…", len(msg), msg)
	}
}

func TestFormatYuan(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "0.00"},
		{1, "0.01"},
		{5, "0.05"},
		{10, "0.10"},
		{99, "0.99"},
		{100, "1.00"},
		{1234, "12.34"},
		{1230, "12.30"},
		{1200, "12.00"},
		{100000, "1000.00"},
		{hebao.MaxAmount, "10000000000.00"},
		{-1, "-0.01"},
		{-5, "-0.05"},
		{-100, "-1.00"},
		{-1234, "-12.34"},
		{math.MaxInt64, "92233720368547758.07"},
		{math.MinInt64, "-92233720368547758.08"},
		{math.MinInt64 + 1, "-92233720368547758.07"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, hebao.FormatYuan(tt.in)); diff != "" {
			t.Errorf("FormatYuan(%d) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestFormatCNY(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{0, "¥0.00"},
		{1234, "¥12.34"},
		{5, "¥0.05"},
		{-5, "-¥0.05"},
		{-1234, "-¥12.34"},
		{hebao.MaxAmount, "¥10000000000.00"},
		{math.MinInt64, "-¥92233720368547758.08"},
		{math.MaxInt64, "¥92233720368547758.07"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, hebao.FormatCNY(tt.in)); diff != "" {
			t.Errorf("FormatCNY(%d) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestCheckAmount(t *testing.T) {
	tests := []struct {
		in       int64
		wantCode string // "" for accepted
	}{
		{1, ""},
		{100, ""},
		{hebao.MaxAmount, ""},
		{0, hebao.CodeInvalidRequest},
		{-1, hebao.CodeInvalidRequest},
		{math.MinInt64, hebao.CodeInvalidRequest},
		{hebao.MaxAmount + 1, hebao.CodeInvalidRequest},
		{math.MaxInt64, hebao.CodeInvalidRequest},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.wantCode, hebao.ErrorCode(hebao.CheckAmount(tt.in))); diff != "" {
			t.Errorf("CheckAmount(%d) code (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestCheckCurrency(t *testing.T) {
	tests := []struct {
		in       string
		wantCode string // "" for accepted
	}{
		{"CNY", ""},
		{"", ""}, // empty means CNY
		{"USD", hebao.CodeCurrencyNotSupported},
		{"cny", hebao.CodeCurrencyNotSupported},
		{"CNY ", hebao.CodeCurrencyNotSupported},
		{"CNH", hebao.CodeCurrencyNotSupported},
		{"POINT", hebao.CodeCurrencyNotSupported}, // a ledger unit, not a currency
		{"人民币", hebao.CodeCurrencyNotSupported},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.wantCode, hebao.ErrorCode(hebao.CheckCurrency(tt.in))); diff != "" {
			t.Errorf("CheckCurrency(%q) code (-want +got):\n%s", tt.in, diff)
		}
	}
}

func TestUnitValid(t *testing.T) {
	tests := []struct {
		in   hebao.Unit
		want bool
	}{
		{hebao.CNY, true},
		{hebao.POINT, true},
		{"", false},
		{"cny", false},
		{"USD", false},
		{"POINTS", false},
	}
	for _, tt := range tests {
		if got := tt.in.Valid(); got != tt.want {
			t.Errorf("Unit(%q).Valid() = %v, want %v", tt.in, got, tt.want)
		}
	}
}

// yuanGrammar is the language ParseYuan's doc comment promises to accept, written
// independently of the parser: no sign, no leading zeros, one or two decimals.
var yuanGrammar = regexp.MustCompile(`^(0|[1-9][0-9]*)(\.[0-9]{1,2})?$`)

// yuanOracle returns the fen value of s if it is in the accepted language and at most
// MaxAmount, computed with big integers so that no overflow can hide a bug.
func yuanOracle(s string) (int64, bool) {
	m := yuanGrammar.FindStringSubmatch(s)
	if m == nil {
		return 0, false
	}
	frac := strings.TrimPrefix(m[2], ".")
	for len(frac) < 2 {
		frac += "0"
	}
	v, ok := new(big.Int).SetString(m[1]+frac, 10)
	if !ok || v.Cmp(big.NewInt(hebao.MaxAmount)) > 0 {
		return 0, false
	}
	return v.Int64(), true
}

// yuanForms returns every spelling of fen that ParseYuan accepts: "12.30", "12.3"
// (trailing zero dropped) and, for whole yuan, "12" too.
func yuanForms(fen int64) []string {
	canon := hebao.FormatYuan(fen)
	whole, frac := canon[:len(canon)-3], fen%100
	forms := []string{canon}
	if frac%10 == 0 {
		forms = append(forms, whole+"."+string(rune('0'+frac/10)))
	}
	if frac == 0 {
		forms = append(forms, whole)
	}
	return forms
}

func TestYuanForms(t *testing.T) {
	// The fuzz oracle itself must be right, or the fuzz target proves nothing.
	tests := []struct {
		in   int64
		want []string
	}{
		{0, []string{"0.00", "0.0", "0"}},
		{1200, []string{"12.00", "12.0", "12"}},
		{1230, []string{"12.30", "12.3"}},
		{1234, []string{"12.34"}},
		{5, []string{"0.05"}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, yuanForms(tt.in)); diff != "" {
			t.Errorf("yuanForms(%d) (-want +got):\n%s", tt.in, diff)
		}
	}
}

func FuzzParseYuan(f *testing.F) {
	for _, s := range []string{
		"0", "0.5", "12.34", "12.3", "12", "10000000000", "9999999999.99",
		"10000000000.01", "01", "1.", ".5", "-1", "+1", "1e3", "１２", "1.2.3",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := hebao.ParseYuan(s)
		want, wantOK := yuanOracle(s)
		if err != nil {
			if code := hebao.ErrorCode(err); code != hebao.CodeInvalidRequest {
				t.Fatalf("ParseYuan(%q): code %q, want %q (%v)", s, code, hebao.CodeInvalidRequest, err)
			}
			if wantOK {
				t.Fatalf("ParseYuan(%q) rejected a well-formed amount of %d fen: %v", s, want, err)
			}
			return
		}
		if got < 0 || got > hebao.MaxAmount {
			t.Fatalf("ParseYuan(%q) = %d, outside [0, MaxAmount]", s, got)
		}
		if !wantOK {
			t.Fatalf("ParseYuan(%q) = %d, want an error: not a strict yuan amount", s, got)
		}
		if got != want {
			t.Fatalf("ParseYuan(%q) = %d, want %d", s, got, want)
		}
		if forms := yuanForms(got); !slices.Contains(forms, s) {
			t.Fatalf("ParseYuan(%q) = %d, but the only spellings of that are %q", s, got, forms)
		}
		back, err := hebao.ParseYuan(hebao.FormatYuan(got))
		if err != nil || back != got {
			t.Fatalf("ParseYuan(FormatYuan(%d)) = %d, %v", got, back, err)
		}
	})
}

// formatGrammar is what FormatYuan promises: an optional minus, no leading zeros,
// exactly two decimals.
var formatGrammar = regexp.MustCompile(`^-?(0|[1-9][0-9]*)\.[0-9]{2}$`)

func FuzzFormatYuan(f *testing.F) {
	for _, v := range []int64{0, 1, 99, 100, 1234, hebao.MaxAmount, hebao.MaxAmount + 1, -1, math.MinInt64, math.MaxInt64} {
		f.Add(v)
	}
	f.Fuzz(func(t *testing.T, v int64) {
		// Any int64: the text is well formed and means exactly v.
		s := hebao.FormatYuan(v)
		if !formatGrammar.MatchString(s) {
			t.Fatalf("FormatYuan(%d) = %q, not of the form -?W.FF", v, s)
		}
		if n, ok := new(big.Int).SetString(strings.Replace(s, ".", "", 1), 10); !ok || n.Cmp(big.NewInt(v)) != 0 {
			t.Fatalf("FormatYuan(%d) = %q, which means %v fen", v, s, n)
		}
		if c := hebao.FormatCNY(v); c != strings.Replace("¥"+s, "¥-", "-¥", 1) {
			t.Fatalf("FormatCNY(%d) = %q, FormatYuan gives %q", v, c, s)
		}

		// Every amount a request may carry survives the round trip.
		in := v % (hebao.MaxAmount + 1)
		if in < 0 {
			in = -in
		}
		back, err := hebao.ParseYuan(hebao.FormatYuan(in))
		if err != nil || back != in {
			t.Fatalf("ParseYuan(FormatYuan(%d)) = %d, %v", in, back, err)
		}
	})
}
