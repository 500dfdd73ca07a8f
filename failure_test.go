package hebao_test

import (
	"strings"
	"testing"

	"github.com/hebaopay/hebao"
)

func explained() []string {
	return append(hebao.Codes(), hebao.FailurePending)
}

func TestExplainEveryCode(t *testing.T) {
	placeholders := []string{"todo", "tbd", "fixme", "xxx", "lorem", "%s", "%d", "%v", "{", "}", "<", ">"}
	for _, code := range explained() {
		f, ok := hebao.Explain(code)
		if !ok {
			t.Errorf("Explain(%q): no entry", code)
			continue
		}
		if f.Code != code {
			t.Errorf("Explain(%q).Code = %q", code, f.Code)
		}
		for name, s := range map[string]string{"Explanation": f.Explanation, "NextStep": f.NextStep} {
			if strings.TrimSpace(s) == "" {
				t.Errorf("Explain(%q).%s is empty", code, name)
				continue
			}
			if !strings.HasSuffix(s, ".") {
				t.Errorf("Explain(%q).%s = %q: does not end with a full stop", code, name, s)
			}
			if s != strings.TrimSpace(s) {
				t.Errorf("Explain(%q).%s = %q: stray spaces", code, name, s)
			}
			low := strings.ToLower(s)
			for _, p := range placeholders {
				if strings.Contains(low, p) {
					t.Errorf("Explain(%q).%s = %q: placeholder %q", code, name, s, p)
				}
			}
			for _, jargon := range []string{"idempoten", "http", "422", "500", "api"} {
				if strings.Contains(low, jargon) {
					t.Errorf("Explain(%q).%s = %q: jargon %q", code, name, s, jargon)
				}
			}
		}
	}
}

func TestExplainDistinct(t *testing.T) {
	seenExp := map[string]string{}
	seenNext := map[string]string{}
	for _, code := range explained() {
		f, _ := hebao.Explain(code)
		if other, ok := seenExp[f.Explanation]; ok {
			t.Errorf("%q and %q share the explanation %q", other, code, f.Explanation)
		}
		seenExp[f.Explanation] = code
		if other, ok := seenNext[f.NextStep]; ok {
			t.Errorf("%q and %q share the next step %q", other, code, f.NextStep)
		}
		seenNext[f.NextStep] = code
	}
}

func TestExplainUnknown(t *testing.T) {
	f, ok := hebao.Explain("no_such_code")
	if ok {
		t.Fatal("Explain of an unknown code: ok true")
	}
	if f.Code != "no_such_code" {
		t.Errorf("Code = %q", f.Code)
	}
	if f.Explanation == "" || !strings.HasSuffix(f.Explanation, ".") {
		t.Errorf("Explanation = %q", f.Explanation)
	}
	if !strings.Contains(f.NextStep, "customer service") || !strings.Contains(f.NextStep, "transaction id") {
		t.Errorf("NextStep = %q: should send the customer to customer service with the transaction id", f.NextStep)
	}
	for _, code := range explained() {
		g, _ := hebao.Explain(code)
		if g.Explanation == f.Explanation {
			t.Errorf("%q has the generic explanation", code)
		}
	}
}

// The money codes say what matters to the customer: whether money was taken and
// when a limit resets (SPEC §9).
func TestExplainMoneyFacts(t *testing.T) {
	for code, want := range map[string][]string{
		hebao.CodeBankTimeout:           {"not charged", "try again"},
		hebao.CodeCardDeclined:          {"nothing was taken", "contact your bank", "another card"},
		hebao.CodeBankInsufficientFunds: {"nothing was taken"},
		hebao.CodeLimitExceeded:         {"midnight beijing time", "1 january", "verifying your identity"},
		hebao.CodeInsufficientFunds:     {"top up", "smaller amount"},
		hebao.CodeWalletFrozen:          {"sms code", "id number", "customer service"},
		hebao.CodePaymentPasswordLocked: {"3 hours", "sms code", "id number"},
		hebao.FailurePending:            {"safe", "once", "held", "no need to try again"},
		hebao.CodeInternal:              {"none of your details", "try again"},
	} {
		f, _ := hebao.Explain(code)
		text := strings.ToLower(f.Explanation + " " + f.NextStep)
		for _, w := range want {
			if !strings.Contains(text, w) {
				t.Errorf("Explain(%q) does not say %q: %q", code, w, text)
			}
		}
	}
}
