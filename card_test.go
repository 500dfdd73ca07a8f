package hebao_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// luhnDigit returns the check digit that makes body‖digit pass the Luhn check,
// computed here independently of the package.
func luhnDigit(body string) byte {
	sum := 0
	for i := 0; i < len(body); i++ {
		d := int(body[len(body)-1-i] - '0')
		if i%2 == 0 { // doubled: it will be second from the right once the digit is added
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return byte('0' + (10-sum%10)%10)
}

// testCardNumber returns a Luhn-valid number of n digits that starts with prefix and
// ends with end (which, being at the end, includes the check digit): zeros between,
// except one digit chosen to make the sum right.
func testCardNumber(prefix string, n int, end string) string {
	for d := byte('0'); d <= '9'; d++ {
		s := prefix + string(d) + strings.Repeat("0", n-len(prefix)-1-len(end)) + end
		if luhnDigit(s[:n-1]) == s[n-1] {
			return s
		}
	}
	panic("unreachable: doubling or not, one digit takes every value mod 10")
}

func TestParseCardNumber(t *testing.T) {
	tests := []struct {
		in, number, bank string
	}{
		{"6222020000000000018", "6222020000000000018", "ICBC"},
		{"6222 0200 0000 0000 018", "6222020000000000018", "ICBC"},
		{"  6222 0200 0000 0000 018 ", "6222020000000000018", "ICBC"},
		{testCardNumber("622202", 16, "1234"), testCardNumber("622202", 16, "1234"), "ICBC"},
		{testCardNumber("621700", 19, "0002"), testCardNumber("621700", 19, "0002"), "CCB"},
		{testCardNumber("622848", 19, "0051"), testCardNumber("622848", 19, "0051"), "ABC"},
		{testCardNumber("601382", 19, "0119"), testCardNumber("601382", 19, "0119"), "BOC"},
		{testCardNumber("622262", 19, "0259"), testCardNumber("622262", 19, "0259"), "BOCOM"},
		{testCardNumber("621799", 19, "7777"), testCardNumber("621799", 19, "7777"), "PSBC"},
		{testCardNumber("622588", 16, "8888"), testCardNumber("622588", 16, "8888"), "CMB"},
		{testCardNumber("622690", 16, "9999"), testCardNumber("622690", 16, "9999"), "CITIC"},
		{testCardNumber("622909", 18, "4321"), testCardNumber("622909", 18, "4321"), "CIB"},
		{testCardNumber("622516", 16, "1111"), testCardNumber("622516", 16, "1111"), "SPDB"},
		{testCardNumber("622622", 16, "2222"), testCardNumber("622622", 16, "2222"), "CMBC"},
		{testCardNumber("622660", 16, "3333"), testCardNumber("622660", 16, "3333"), "CEB"},
		{testCardNumber("621626", 19, "4444"), testCardNumber("621626", 19, "4444"), "PAB"},
		{testCardNumber("621056801", 19, "5555"), testCardNumber("621056801", 19, "5555"), "BOCOM"}, // a 9-digit BIN
		{testCardNumber("622630", 17, "6666"), testCardNumber("622630", 17, "6666"), "HXB"},
	}
	for _, tt := range tests {
		number, bank, err := hebao.ParseCardNumber(tt.in)
		if err != nil {
			t.Errorf("ParseCardNumber(%q): %v", tt.in, err)
			continue
		}
		if number != tt.number || bank.Code != tt.bank {
			t.Errorf("ParseCardNumber(%q) = %q, %s; want %q, %s", tt.in, number, bank.Code, tt.number, tt.bank)
		}
	}
	_, bank, _ := hebao.ParseCardNumber("6222020000000000018")
	icbc := hebao.IssuingBank{Code: "ICBC", NameZH: "中国工商银行", NameEN: "Industrial and Commercial Bank of China"}
	if diff := cmp.Diff(icbc, bank); diff != "" {
		t.Errorf("622202 (-want +got):\n%s", diff)
	}
}

func TestParseCardNumberRejects(t *testing.T) {
	needCodes(t, hebao.CodeCardNumberInvalid, hebao.CodeCardBankUnknown)
	valid := testCardNumber("622202", 19, "1234")
	tests := []struct {
		name, in, code string
	}{
		{"empty", "", hebao.CodeCardNumberInvalid},
		{"15 digits", testCardNumber("622202", 15, "1234"), hebao.CodeCardNumberInvalid},
		{"20 digits", testCardNumber("622202", 20, "1234"), hebao.CodeCardNumberInvalid},
		{"wrong check digit", valid[:18] + string('0'+(valid[18]-'0'+1)%10), hebao.CodeCardNumberInvalid},
		{"a digit changed", valid[:10] + "1" + valid[11:], hebao.CodeCardNumberInvalid},
		{"dashes", "6222-0200-0000-0000-018", hebao.CodeCardNumberInvalid},
		{"a letter", "622202000000000001A", hebao.CodeCardNumberInvalid},
		{"a tab", "6222020000000000\t018", hebao.CodeCardNumberInvalid},
		{"full-width digits", "６２２２０２００００００００００１８", hebao.CodeCardNumberInvalid},
		{"a sign", "+6222020000000000018", hebao.CodeCardNumberInvalid},
		{"unknown BIN", testCardNumber("999998", 16, "1234"), hebao.CodeCardBankUnknown},
		{"a credit-card BIN", testCardNumber("625965", 16, "1234"), hebao.CodeCardBankUnknown}, // CCB credit
		{"Visa test number", "4111111111111111", hebao.CodeCardBankUnknown},
		{"the 6-digit head of a 9-digit BIN", testCardNumber("621056900", 19, "1234"), hebao.CodeCardBankUnknown},
	}
	for _, tt := range tests {
		_, _, err := hebao.ParseCardNumber(tt.in)
		wantCode(t, tt.name, err, tt.code)
		if err != nil && len(tt.in) > 10 && strings.Contains(err.Error(), tt.in[6:len(tt.in)-4]) {
			t.Errorf("%s: the error repeats the number: %v", tt.name, err)
		}
	}
}

// TestLuhnCatchesTypos: the Luhn check detects every single wrong digit and almost
// every swap of neighbours (all but 09 ↔ 90).
func TestLuhnCatchesTypos(t *testing.T) {
	needCodes(t, hebao.CodeCardNumberInvalid)
	valid := testCardNumber("622202", 19, "1234")
	valid = valid[:7] + "3141592653" + valid[17:]
	valid = valid[:18] + string(luhnDigit(valid[:18]))
	if _, _, err := hebao.ParseCardNumber(valid); err != nil {
		t.Fatalf("%s: %v", valid, err)
	}
	for i := 6; i < len(valid); i++ { // past the BIN, so the bank stays known
		for c := byte('0'); c <= '9'; c++ {
			if c == valid[i] {
				continue
			}
			typo := valid[:i] + string(c) + valid[i+1:]
			_, _, err := hebao.ParseCardNumber(typo)
			wantCode(t, fmt.Sprintf("%c at %d", c, i), err, hebao.CodeCardNumberInvalid)
		}
		if i+1 < len(valid) && valid[i] != valid[i+1] && valid[i:i+2] != "09" && valid[i:i+2] != "90" {
			swapped := valid[:i] + string(valid[i+1]) + string(valid[i]) + valid[i+2:]
			_, _, err := hebao.ParseCardNumber(swapped)
			wantCode(t, fmt.Sprintf("swap at %d", i), err, hebao.CodeCardNumberInvalid)
		}
	}
}

func TestLookupBIN(t *testing.T) {
	tests := []struct {
		number string
		code   string // "" for unknown
	}{
		{"6222020000000000018", "ICBC"},
		{"622202", "ICBC"},
		{"62220", ""}, // too short to hold a BIN
		{"", ""},
		{"6217000000000000000", "CCB"},
		{"6210568010000000000", "BOCOM"}, // 9 digits
		{"6210568020000000000", "BOCOM"},
		{"6210568040000000000", ""}, // no 6-, 7- or 8-digit prefix owns it
		{"6210560000000000000", ""},
		{"6259650000000000", ""}, // credit card
		{"4111111111111111", ""},
	}
	for _, tt := range tests {
		b, ok := hebao.LookupBIN(tt.number)
		if ok != (tt.code != "") || b.Code != tt.code {
			t.Errorf("LookupBIN(%q) = %+v, %v; want %q", tt.number, b, ok, tt.code)
		}
	}
}

// TestIssuingBanks: the table covers at least the ten largest Chinese banks, and
// each bank is complete.
func TestIssuingBanks(t *testing.T) {
	banks := hebao.IssuingBanks()
	var codes []string
	for _, b := range banks {
		codes = append(codes, b.Code)
		if b.Code == "" || b.NameZH == "" || b.NameEN == "" || strings.ToUpper(b.Code) != b.Code {
			t.Errorf("bank %+v is incomplete", b)
		}
	}
	want := []string{"ABC", "BOC", "BOCOM", "CCB", "CEB", "CGB", "CIB", "CITIC", "CMB", "CMBC", "HXB", "ICBC", "PAB", "PSBC", "SPDB"}
	if diff := cmp.Diff(want, codes); diff != "" {
		t.Errorf("IssuingBanks (-want +got):\n%s", diff)
	}
}

func TestMaskCard(t *testing.T) {
	tests := []struct{ in, want string }{
		{"6222021234567890", "6222 02** **** 7890"},
		{"62220212345678901", "6222 02** **** * 8901"},
		{"622202123456789012", "6222 02** **** ** 9012"},
		{"6222021234567890123", "6222 02** **** *** 0123"},
		{"6222 0212 3456 7890 123", "6222 02** **** *** 0123"},
		{"", "**** **** **** ****"},
		{"1234", "**** **** **** ****"},
		{"622202123456789", "**** **** **** ****"},      // 15 digits
		{"62220212345678901234", "**** **** **** ****"}, // 20 digits
		{"622202123456789X", "**** **** **** ****"},
	}
	for _, tt := range tests {
		if got := hebao.MaskCard(tt.in); got != tt.want {
			t.Errorf("MaskCard(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestSandboxBehaviour(t *testing.T) {
	tests := []struct {
		end  string
		want hebao.CardBehaviour
		name string
	}{
		{"0002", hebao.CardDeclines, "declines"},
		{"0051", hebao.CardInsufficientFunds, "insufficient_funds"},
		{"0119", hebao.CardNeverAnswers, "never_answers"},
		{"0259", hebao.CardAnswersLate, "answers_late"},
		{"1234", hebao.CardSucceeds, "succeeds"},
		{"0000", hebao.CardSucceeds, "succeeds"},
		{"0003", hebao.CardSucceeds, "succeeds"},
		{"1002", hebao.CardSucceeds, "succeeds"},
		{"0250", hebao.CardSucceeds, "succeeds"},
	}
	for _, tt := range tests {
		for _, n := range []int{16, 19} {
			number := testCardNumber("622202", n, tt.end)
			if _, _, err := hebao.ParseCardNumber(number); err != nil {
				t.Fatalf("test number %s: %v", number, err)
			}
			got := hebao.SandboxBehaviour(number)
			if got != tt.want || got.String() != tt.name {
				t.Errorf("SandboxBehaviour(%s) = %v, want %v", number, got, tt.want)
			}
			if got := hebao.SandboxBehaviour(number[:len(number)-2] + " " + number[len(number)-2:]); got != tt.want {
				t.Errorf("SandboxBehaviour(%s with a space) = %v, want %v", number, got, tt.want)
			}
		}
	}
	if got := hebao.SandboxBehaviour("02"); got != hebao.CardSucceeds {
		t.Errorf("SandboxBehaviour(short) = %v", got)
	}
	if hebao.SandboxLateAnswer.Seconds() != 5 || hebao.SandboxCardBalance != 1_000_000*100 {
		t.Errorf("sandbox constants: %v, %d fen", hebao.SandboxLateAnswer, hebao.SandboxCardBalance)
	}
}

func FuzzParseCardNumber(f *testing.F) {
	needCodes(f, hebao.CodeCardNumberInvalid, hebao.CodeCardBankUnknown)
	for _, s := range []string{"6222020000000000018", "6222 0200 0000 0000 018", "4111111111111111",
		"6210568010000000002", "", "622202000000000001A", "６２２２０２００００００００００１８"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		number, bank, err := hebao.ParseCardNumber(s)
		masked := hebao.MaskCard(s)
		if strings.Count(masked, "*")+strings.Count(masked, " ") < len(masked)-10 {
			t.Fatalf("MaskCard(%q) = %q shows more than ten digits", s, masked)
		}
		if err != nil {
			if code := hebao.ErrorCode(err); code != hebao.CodeCardNumberInvalid && code != hebao.CodeCardBankUnknown {
				t.Fatalf("ParseCardNumber(%q): code %q", s, code)
			}
			return
		}
		if number != strings.ReplaceAll(s, " ", "") || len(number) < 16 || len(number) > 19 ||
			luhnDigit(number[:len(number)-1]) != number[len(number)-1] {
			t.Fatalf("ParseCardNumber(%q) = %q", s, number)
		}
		if b, ok := hebao.LookupBIN(number); !ok || b != bank {
			t.Fatalf("LookupBIN(%q) = %+v, %v; ParseCardNumber said %+v", number, b, ok, bank)
		}
		if want := number[:6]; !strings.HasPrefix(strings.ReplaceAll(masked, " ", ""), want) ||
			!strings.HasSuffix(masked, " "+number[len(number)-4:]) || strings.Count(masked, "*") != len(number)-10 {
			t.Fatalf("MaskCard(%q) = %q", number, masked)
		}
	})
}
