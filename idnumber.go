package hebao

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// CodeIDNumberInvalid is the public code for a resident ID number that fails the
// GB 11643 rules (422): wrong length or characters, a birth date that is no real day, a
// province that does not exist, or a check character that does not match.
const CodeIDNumberInvalid = "id_number_invalid"

// IDNumber is a PRC resident identity number (公民身份号码, GB 11643-1999) that
// ParseIDNumber accepted. Its String and GoString are the masked form, so that an
// IDNumber printed into a log or an error by mistake does not leak the number (SPEC §6);
// Number gives the full text for sealing and keyed lookups. The zero value is no number.
type IDNumber struct {
	s string // 17 digits and a check character, 0-9 or X
}

// idWeights are the GB 11643 weights of the first 17 digits: 2^(17-i) mod 11.
var idWeights = [17]int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}

// idCheckChars maps the weighted sum mod 11 to the check character.
const idCheckChars = "10X98765432"

// idMinYear is the earliest birth year accepted: no living holder was born before it.
const idMinYear = 1900

// ParseIDNumber checks s as an 18-character resident ID number: 17 digits, then a check
// digit or X (a lowercase x is accepted and stored as X); the first two digits a
// province-level region (11–15, 21–23, 31–37, 41–46, 50–54, 61–65, 71, and 81, 82, 83
// for the residence permits of Hong Kong, Macao and Taiwan residents); digits 7 to 14 a
// real calendar date, not before 1900 and not after today in China; and the check
// character the GB 11643 ISO 7064 MOD 11-2 one. Nothing around the number (spaces,
// dashes) is accepted. Error messages never repeat the number.
// Errors: id_number_invalid.
func ParseIDNumber(s string) (IDNumber, error) {
	bad := func(why string) (IDNumber, error) {
		return IDNumber{}, Errorf(CodeIDNumberInvalid, "the ID number %s", why)
	}
	if len(s) != 18 || !allDigits(s[:17]) || !(s[17] >= '0' && s[17] <= '9' || s[17] == 'X' || s[17] == 'x') {
		return bad("must be 18 characters: 17 digits, then a digit or X")
	}
	s = s[:17] + strings.ToUpper(s[17:])
	if !validProvince(s[:2]) {
		return bad("does not begin with the code of a province of China")
	}
	birth, ok := idBirthDate(s)
	if !ok {
		return bad("does not hold a real date of birth")
	}
	if birth.Year() < idMinYear {
		return bad("holds a date of birth before 1900")
	}
	y, m, d := time.Now().In(chinaTime).Date()
	if birth.After(time.Date(y, m, d, 0, 0, 0, 0, time.UTC)) {
		return bad("holds a date of birth in the future")
	}
	if s[17] != idCheckChar(s[:17]) {
		return bad("is mistyped: its last character does not match the others")
	}
	return IDNumber{s: s}, nil
}

// idCheckChar computes the check character of 17 digits.
func idCheckChar(digits string) byte {
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(digits[i]-'0') * idWeights[i]
	}
	return idCheckChars[sum%11]
}

// validProvince reports whether the two digits p are the code of a province-level
// region of GB/T 2260, or of the residence permits of Hong Kong (81), Macao (82) and
// Taiwan (83) residents. 71 (Taiwan) is kept because GB/T 2260 lists it.
func validProvince(p string) bool {
	n := int(p[0]-'0')*10 + int(p[1]-'0')
	switch {
	case n >= 11 && n <= 15, n >= 21 && n <= 23, n >= 31 && n <= 37, n >= 41 && n <= 46,
		n >= 50 && n <= 54, n >= 61 && n <= 65, n == 71, n >= 81 && n <= 83:
		return true
	}
	return false
}

// idBirthDate reads digits 7 to 14 as YYYYMMDD; ok is false when they are no real day
// (month 13, 30 February, 29 February of a common year).
func idBirthDate(s string) (time.Time, bool) {
	t, err := time.Parse("20060102", s[6:14])
	return t, err == nil
}

// Number returns the full number, with an uppercase X: the form to seal and to look
// up by. Never log it or show it; show Masked.
func (n IDNumber) Number() string { return n.s }

// IsZero reports whether n is the zero IDNumber, no number at all.
func (n IDNumber) IsZero() bool { return n.s == "" }

// BirthDate returns the holder's date of birth, at midnight UTC; zero for the zero
// IDNumber.
func (n IDNumber) BirthDate() time.Time {
	if n.s == "" {
		return time.Time{}
	}
	t, _ := idBirthDate(n.s)
	return t
}

// Masked returns the number for display with only its first and last characters
// visible, such as "1****************X": enough for a holder to recognise their number,
// while the first digit names only a broad part of China and the last is a check
// character, so neither the place nor the date of birth can be read from it.
func (n IDNumber) Masked() string {
	if n.s == "" {
		return ""
	}
	return n.s[:1] + strings.Repeat("*", 16) + n.s[17:]
}

// String returns Masked, so that formatting an IDNumber never prints the number.
func (n IDNumber) String() string { return n.Masked() }

// GoString returns Masked too, for %#v.
func (n IDNumber) GoString() string { return "hebao.IDNumber(" + n.Masked() + ")" }

// realNameDot is the middle dot of transcribed names such as 阿沛·阿旺晋美 and of the
// names of foreigners in Chinese, as the public security registry writes it (U+00B7).
const realNameDot = '·'

// ValidRealName reports whether name looks like a name on a resident identity card:
// 2 to 30 characters, either Chinese characters (Han) or Latin letters (including
// accented ones such as ü), not both; words may be joined by single middle dots (·),
// and Latin words also by single spaces; no digits, no other punctuation, nothing
// before the first or after the last letter. It only checks the shape: whether the
// name belongs to the ID number is the verification provider's question.
func ValidRealName(name string) bool {
	n := utf8.RuneCountInString(name)
	if n < 2 || n > 30 || !utf8.ValidString(name) {
		return false
	}
	var han, latin, sep bool // seen a Han letter, a Latin letter; the last rune a separator
	for i, r := range name {
		switch {
		case unicode.Is(unicode.Han, r):
			han, sep = true, false
		case unicode.Is(unicode.Latin, r) && unicode.IsLetter(r):
			latin, sep = true, false
		case r == realNameDot || r == ' ':
			if i == 0 || sep {
				return false
			}
			sep = true
			if r == ' ' {
				latin = true // a space only ever separates Latin words
			}
		default:
			return false
		}
	}
	return !sep && !(han && latin)
}
