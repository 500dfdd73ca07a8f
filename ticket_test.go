package hebao_test

import (
	"strings"
	"testing"

	"github.com/hebaopay/hebao"
)

func TestNextTicketStatus(t *testing.T) {
	for _, tc := range []struct {
		from hebao.TicketStatus
		ev   hebao.TicketEvent
		want hebao.TicketStatus
		code string
	}{
		{hebao.TicketOpen, hebao.TicketCustomerWrote, hebao.TicketOpen, ""},
		{hebao.TicketAnswered, hebao.TicketCustomerWrote, hebao.TicketOpen, ""},
		{hebao.TicketResolved, hebao.TicketCustomerWrote, hebao.TicketOpen, ""},
		{hebao.TicketOpen, hebao.TicketAgentReplied, hebao.TicketAnswered, ""},
		{hebao.TicketAnswered, hebao.TicketAgentReplied, hebao.TicketAnswered, ""},
		{hebao.TicketResolved, hebao.TicketAgentReplied, hebao.TicketAnswered, ""},
		{hebao.TicketOpen, hebao.TicketResolve, hebao.TicketResolved, ""},
		{hebao.TicketAnswered, hebao.TicketResolve, hebao.TicketResolved, ""},
		{hebao.TicketResolved, hebao.TicketResolve, "", "conflict"},
		{"closed", hebao.TicketCustomerWrote, "", "invalid_request"},
		{hebao.TicketOpen, "reopen", "", "invalid_request"},
	} {
		got, err := hebao.NextTicketStatus(tc.from, tc.ev)
		if got != tc.want || hebao.ErrorCode(err) != tc.code {
			t.Errorf("NextTicketStatus(%s, %s) = %q, %v; want %q, %s", tc.from, tc.ev, got, err, tc.want, tc.code)
		}
	}
}

func TestTicketRequestValidate(t *testing.T) {
	ok := hebao.TicketRequest{Category: hebao.TicketCard, Subject: " 卡绑不上 ", Message: "\r\n第一行\r\n第二行\n "}
	got, err := ok.Validate()
	if err != nil || got.Subject != "卡绑不上" || got.Message != "第一行\n第二行" {
		t.Fatalf("Validate = %+v, %v", got, err)
	}
	if _, err := (hebao.TicketRequest{Category: hebao.TicketOther, Subject: strings.Repeat("字", 100), Message: strings.Repeat("字", 2000)}).Validate(); err != nil {
		t.Errorf("the longest subject and message: %v", err)
	}
	for name, r := range map[string]hebao.TicketRequest{
		"no category":        {Subject: "s", Message: "m"},
		"unknown category":   {Category: "refund", Subject: "s", Message: "m"},
		"blank subject":      {Category: hebao.TicketOther, Subject: " \t ", Message: "m"},
		"subject too long":   {Category: hebao.TicketOther, Subject: strings.Repeat("字", 101), Message: "m"},
		"subject two lines":  {Category: hebao.TicketOther, Subject: "a\nb", Message: "m"},
		"subject tab":        {Category: hebao.TicketOther, Subject: "a\tb", Message: "m"},
		"blank message":      {Category: hebao.TicketOther, Subject: "s", Message: "\n\n"},
		"message too long":   {Category: hebao.TicketOther, Subject: "s", Message: strings.Repeat("字", 2001)},
		"message bell":       {Category: hebao.TicketOther, Subject: "s", Message: "a\ab"},
		"message lone CR":    {Category: hebao.TicketOther, Subject: "s", Message: "a\rb"},
		"message DEL":        {Category: hebao.TicketOther, Subject: "s", Message: "a\x7fb"},
		"message C1":         {Category: hebao.TicketOther, Subject: "s", Message: "a\u0085b"},
		"message override":   {Category: hebao.TicketOther, Subject: "s", Message: "a\u202eb"},
		"message isolate":    {Category: hebao.TicketOther, Subject: "s", Message: "a\u2066b"},
		"message bad UTF-8":  {Category: hebao.TicketOther, Subject: "s", Message: "a\xc3"},
		"bad transaction id": {Category: hebao.TicketOther, Subject: "s", Message: "m", TransactionID: "ord_06f8w3y0abcdefghjkmnpqrstv"},
	} {
		if _, err := r.Validate(); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
			t.Errorf("%s: %v, want invalid_request", name, err)
		}
	}
}

func TestMovementFailure(t *testing.T) {
	for _, tc := range []struct {
		m    hebao.Movement
		code string
		ok   bool
	}{
		{hebao.Movement{Kind: hebao.MovementTopup, Status: hebao.MovementSucceeded}, "", false},
		{hebao.Movement{Kind: hebao.MovementTopup, Status: hebao.MovementFailed, FailureCode: hebao.CodeCardDeclined}, hebao.CodeCardDeclined, true},
		{hebao.Movement{Kind: hebao.MovementWithdrawal, Status: hebao.MovementPending}, hebao.FailurePending, true},
		{hebao.Movement{Kind: hebao.MovementPayment, Status: hebao.MovementPending}, hebao.FailureAwaitingConfirmation, true},
	} {
		f, ok := hebao.MovementFailure(tc.m)
		if ok != tc.ok || f.Code != tc.code || ok && (f.Explanation == "" || f.NextStep == "") {
			t.Errorf("MovementFailure(%s %s) = %+v, %v", tc.m.Kind, tc.m.Status, f, ok)
		}
	}
}
