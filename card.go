package hebao

import (
	"slices"
	"strings"
	"time"
)

// The public codes of a card number that cannot be bound (422).
const (
	// CodeCardNumberInvalid: not 16 to 19 digits, or the Luhn check fails (a typo).
	CodeCardNumberInvalid = "card_number_invalid"
	// CodeCardBankUnknown: a well-formed number whose BIN is not a debit card of a bank
	// in the shipped table.
	CodeCardBankUnknown = "card_bank_unknown"
)

// IssuingBank is a bank that issues the debit cards customers bind, as the BIN table
// names it. (Bank, unqualified, is kept for the connector interface of SPEC §4.)
type IssuingBank struct {
	Code   string // short stable code such as "ICBC"; stored with each card
	NameZH string // 中国工商银行
	NameEN string // Industrial and Commercial Bank of China
}

// The lengths of China UnionPay card numbers and of the BINs that start them.
const (
	cardMinDigits = 16
	cardMaxDigits = 19
	binMinDigits  = 6
	binMaxDigits  = 9
)

// ParseCardNumber checks a card number as a customer typed it: spaces are dropped (so
// "6222 0200 …" is fine), and what remains must be 16 to 19 digits that pass the Luhn
// check and start with a debit-card BIN of the shipped table. It returns the digits and
// the issuing bank. The length is not checked against the bank's usual length, so
// sandbox numbers of any length in range work with any BIN. Error messages never
// repeat the number.
// Errors: card_number_invalid, card_bank_unknown.
func ParseCardNumber(s string) (string, IssuingBank, error) {
	number := strings.ReplaceAll(s, " ", "")
	if len(number) < cardMinDigits || len(number) > cardMaxDigits || !allDigits(number) {
		return "", IssuingBank{}, Errorf(CodeCardNumberInvalid, "a card number has 16 to 19 digits")
	}
	if !luhnValid(number) {
		return "", IssuingBank{}, Errorf(CodeCardNumberInvalid, "this card number is mistyped: its digits do not add up; please check it")
	}
	bank, ok := LookupBIN(number)
	if !ok {
		return "", IssuingBank{}, Errorf(CodeCardBankUnknown, "this card's bank is not one we can bind yet; only debit cards of the listed banks can be bound")
	}
	return number, bank, nil
}

// luhnValid reports whether the digits s pass the Luhn (mod 10) check: from the right,
// every second digit is doubled, and the digit sum is a multiple of 10.
func luhnValid(s string) bool {
	sum := 0
	for i := 0; i < len(s); i++ {
		d := int(s[len(s)-1-i] - '0')
		if i%2 == 1 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return sum%10 == 0
}

// LookupBIN finds the issuing bank of a card number (digits only) by its longest
// prefix in the BIN table: a 9-digit BIN wins over a 6-digit one, which lets a bank
// own a sub-range of another's BIN. ok is false when no prefix of 6 to 9 digits is in
// the table.
func LookupBIN(number string) (IssuingBank, bool) {
	return lookupBIN(bins, number)
}

func lookupBIN(table map[string]string, number string) (IssuingBank, bool) {
	for n := min(binMaxDigits, len(number)); n >= binMinDigits; n-- {
		if code, ok := table[number[:n]]; ok {
			b, ok := issuingBanks[code]
			return b, ok
		}
	}
	return IssuingBank{}, false
}

// IssuingBanks returns every bank of the BIN table, sorted by code.
func IssuingBanks() []IssuingBank {
	out := make([]IssuingBank, 0, len(issuingBanks))
	for _, b := range issuingBanks {
		out = append(out, b)
	}
	slices.SortFunc(out, func(a, b IssuingBank) int { return strings.Compare(a.Code, b.Code) })
	return out
}

// MaskCard returns a card number for display: the BIN's first six digits and the last
// four, stars between, in groups of four from the left with the last four kept
// together, so the bank and the card stay recognisable and nothing else shows:
//
//	6222021234567890     → 6222 02** **** 7890
//	6222021234567890123  → 6222 02** **** *** 0123
//
// Spaces in number are ignored. Anything that is not 16 to 19 digits is masked
// entirely, so a wrong call shows less, never more.
func MaskCard(number string) string {
	d := strings.ReplaceAll(number, " ", "")
	if len(d) < cardMinDigits || len(d) > cardMaxDigits || !allDigits(d) {
		return "**** **** **** ****"
	}
	head := d[:6] + strings.Repeat("*", len(d)-10)
	var b strings.Builder
	for i := 0; i < len(head); i += 4 {
		b.WriteString(head[i:min(i+4, len(head))])
		b.WriteByte(' ')
	}
	b.WriteString(d[len(d)-4:])
	return b.String()
}

// CardBehaviour is what the sandbox bank does with a card (SPEC §13 "Sandbox bank test
// cards"), chosen by the card number's last four digits.
type CardBehaviour int

// The sandbox behaviours. Every ending not listed succeeds at once.
const (
	CardSucceeds          CardBehaviour = iota // any other ending
	CardDeclines                               // …0002: the bank declines (card_declined)
	CardInsufficientFunds                      // …0051: not enough money at the bank
	CardNeverAnswers                           // …0119: no answer; fails after the bank time-out
	CardAnswersLate                            // …0259: answers after SandboxLateAnswer
)

// SandboxLateAnswer is how long the sandbox bank takes to answer for a card ending in
// 0259.
const SandboxLateAnswer = 5 * time.Second

// SandboxCardBalance is what every sandbox card holds at the bank when the sandbox
// first sees it: ¥1,000,000, in fen.
const SandboxCardBalance int64 = 100_000_000

// SandboxBehaviour returns what the sandbox bank does with the card number (digits,
// spaces ignored), by its last four digits: 0002 declines, 0051 has insufficient funds,
// 0119 never answers, 0259 answers after SandboxLateAnswer; anything else succeeds.
func SandboxBehaviour(number string) CardBehaviour {
	d := strings.ReplaceAll(number, " ", "")
	if len(d) < 4 {
		return CardSucceeds
	}
	switch d[len(d)-4:] {
	case "0002":
		return CardDeclines
	case "0051":
		return CardInsufficientFunds
	case "0119":
		return CardNeverAnswers
	case "0259":
		return CardAnswersLate
	}
	return CardSucceeds
}

// String names the behaviour for logs and the sandbox's labels.
func (b CardBehaviour) String() string {
	switch b {
	case CardSucceeds:
		return "succeeds"
	case CardDeclines:
		return "declines"
	case CardInsufficientFunds:
		return "insufficient_funds"
	case CardNeverAnswers:
		return "never_answers"
	case CardAnswersLate:
		return "answers_late"
	}
	return "unknown"
}
