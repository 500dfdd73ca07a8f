package hebao_test

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hebaopay/hebao"
)

func TestErrorfKinds(t *testing.T) {
	// The kind decides the HTTP status: SPEC §10 (400 malformed, 401, 403 wrong role,
	// 404, 409 conflict, 422 a business rule said no, 423 locked, 426, 429, 500) and
	// SPEC §5/§6 for the idempotency (422/409) and lockout (423) codes.
	tests := []struct {
		code string
		want hebao.Kind
	}{
		{hebao.CodeInternal, hebao.KindInternal},
		{hebao.CodeInvalidRequest, hebao.KindInvalid},
		{hebao.CodeUnauthenticated, hebao.KindUnauthenticated},
		{hebao.CodeForbidden, hebao.KindForbidden},
		{hebao.CodeNotFound, hebao.KindNotFound},
		{hebao.CodeInsufficientFunds, hebao.KindRejected},
		{hebao.CodeLimitExceeded, hebao.KindRejected},
		{hebao.CodeBalanceCapExceeded, hebao.KindRejected},
		{hebao.CodeWalletFrozen, hebao.KindRejected},
		{hebao.CodePaymentPasswordWrong, hebao.KindRejected},
		{hebao.CodePaymentPasswordLocked, hebao.KindLocked},
		{hebao.CodeOTPInvalid, hebao.KindRejected},
		{hebao.CodeOTPExpired, hebao.KindRejected},
		{hebao.CodeRateLimited, hebao.KindRateLimited},
		{hebao.CodeOrderClosed, hebao.KindRejected},
		{hebao.CodeOrderAlreadyPaid, hebao.KindRejected},
		{hebao.CodeRefundExceedsPaid, hebao.KindRejected},
		{hebao.CodeIdempotencyKeyReused, hebao.KindRejected},
		{hebao.CodeIdempotencyKeyInUse, hebao.KindConflict},
		{hebao.CodeCurrencyNotSupported, hebao.KindRejected},
		{hebao.CodeCardDeclined, hebao.KindRejected},
		{hebao.CodeStepUpRequired, hebao.KindRejected},
		{hebao.CodeClientUpgradeRequired, hebao.KindUpgrade},
		{hebao.CodeConflict, hebao.KindConflict},
	}
	for _, tt := range tests {
		e := hebao.Errorf(tt.code, "because %d", 42)
		want := &hebao.Error{Kind: tt.want, Code: tt.code, Message: "because 42"}
		if diff := cmp.Diff(want, e); diff != "" {
			t.Errorf("Errorf(%q) (-want +got):\n%s", tt.code, diff)
		}
	}
}

// TestCodesAreStable pins the public strings: clients match on them (SPEC §10).
func TestCodesAreStable(t *testing.T) {
	got := []string{
		hebao.CodeInvalidRequest, hebao.CodeUnauthenticated, hebao.CodeNotFound, hebao.CodeInsufficientFunds,
		hebao.CodeLimitExceeded, hebao.CodeBalanceCapExceeded, hebao.CodeWalletFrozen, hebao.CodePaymentPasswordWrong,
		hebao.CodePaymentPasswordLocked, hebao.CodeOTPInvalid, hebao.CodeOTPExpired, hebao.CodeRateLimited,
		hebao.CodeOrderClosed, hebao.CodeOrderAlreadyPaid, hebao.CodeRefundExceedsPaid, hebao.CodeIdempotencyKeyReused,
		hebao.CodeIdempotencyKeyInUse, hebao.CodeCurrencyNotSupported, hebao.CodeCardDeclined, hebao.CodeStepUpRequired,
		hebao.CodeClientUpgradeRequired,
	}
	want := strings.Fields(`invalid_request unauthenticated not_found insufficient_funds
		limit_exceeded balance_cap_exceeded wallet_frozen payment_password_wrong
		payment_password_locked otp_invalid otp_expired rate_limited
		order_closed order_already_paid refund_exceeds_paid idempotency_key_reused
		idempotency_key_in_use currency_not_supported card_declined step_up_required
		client_upgrade_required`)
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("codes (-want +got):\n%s", diff)
	}
}

func TestErrorfUnknownCode(t *testing.T) {
	for _, code := range []string{"", "no_such_code", "NOT_FOUND", "not_found "} {
		e := hebao.Errorf(code, "oops")
		if e.Kind != hebao.KindInternal || e.Code != hebao.CodeInternal {
			t.Errorf("Errorf(%q): kind %d code %q, want internal", code, e.Kind, e.Code)
		}
	}
}

func TestErrorOfForeignError(t *testing.T) {
	cause := fmt.Errorf("dial tcp 10.0.0.7:5432: secret-host unreachable: %w", io.ErrUnexpectedEOF)
	e := hebao.ErrorOf(cause)
	want := &hebao.Error{Kind: hebao.KindInternal, Code: hebao.CodeInternal, Message: "internal error"}
	if diff := cmp.Diff(want, e, cmpopts.IgnoreFields(hebao.Error{}, "Err")); diff != "" {
		t.Errorf("ErrorOf (-want +got):\n%s", diff)
	}
	if e.Err != cause {
		t.Errorf("ErrorOf(cause).Err = %v, want the cause itself", e.Err)
	}
	if strings.Contains(e.Message, "secret-host") {
		t.Errorf("the message leaks the cause: %q", e.Message)
	}
	// The cause stays reachable for logs and errors.Is.
	if !errors.Is(e, io.ErrUnexpectedEOF) {
		t.Error("errors.Is(ErrorOf(cause), io.ErrUnexpectedEOF) = false")
	}
	if !strings.Contains(e.Error(), "secret-host") {
		t.Errorf("Error() = %q, want the cause in it for the log", e.Error())
	}
	if got := hebao.ErrorCode(cause); got != hebao.CodeInternal {
		t.Errorf("ErrorCode(foreign) = %q, want internal", got)
	}
}

func TestErrorOfWrapped(t *testing.T) {
	inner := hebao.Errorf(hebao.CodeWalletFrozen, "wallet %s is frozen", "wal_1")
	wrapped := fmt.Errorf("pay order ord_1: %w", fmt.Errorf("debit: %w", inner))
	if got := hebao.ErrorOf(wrapped); got != inner {
		t.Errorf("ErrorOf(wrapped) = %#v, want the inner *Error itself", got)
	}
	if got := hebao.ErrorCode(wrapped); got != hebao.CodeWalletFrozen {
		t.Errorf("ErrorCode(wrapped) = %q, want wallet_frozen", got)
	}
	if got := hebao.ErrorCode(nil); got != "" {
		t.Errorf("ErrorCode(nil) = %q, want \"\"", got)
	}
}

func TestErrorsIs(t *testing.T) {
	notFound := hebao.Errorf(hebao.CodeNotFound, "wallet %s not found", "wal_1")
	tests := []struct {
		name   string
		err    error
		target error
		want   bool
	}{
		{"same code, other message", notFound, hebao.ErrNotFound, true},
		{"through one %w", fmt.Errorf("load: %w", notFound), hebao.ErrNotFound, true},
		{"through two %w", fmt.Errorf("a: %w", fmt.Errorf("b: %w", notFound)), hebao.ErrNotFound, true},
		{"through errors.Join", errors.Join(io.EOF, notFound), hebao.ErrNotFound, true},
		{"other code", notFound, hebao.ErrInvalid, false},
		{"other code wrapped", fmt.Errorf("load: %w", notFound), hebao.ErrConflict, false},
		{"%v does not wrap", fmt.Errorf("load: %v", notFound), hebao.ErrNotFound, false},
		{"foreign error", io.EOF, hebao.ErrNotFound, false},
		{"internal is not not_found", hebao.ErrorOf(io.EOF), hebao.ErrNotFound, false},
		{"each sentinel: invalid", hebao.Errorf(hebao.CodeInvalidRequest, "x"), hebao.ErrInvalid, true},
		{"each sentinel: insufficient funds", hebao.Errorf(hebao.CodeInsufficientFunds, "x"), hebao.ErrInsufficientFunds, true},
		{"each sentinel: key reused", hebao.Errorf(hebao.CodeIdempotencyKeyReused, "x"), hebao.ErrIdempotencyKeyReused, true},
		{"each sentinel: key in use", hebao.Errorf(hebao.CodeIdempotencyKeyInUse, "x"), hebao.ErrIdempotencyKeyInUse, true},
		{"each sentinel: conflict", hebao.Errorf(hebao.CodeConflict, "x"), hebao.ErrConflict, true},
		{"key reused is not key in use", hebao.ErrIdempotencyKeyReused, hebao.ErrIdempotencyKeyInUse, false},
	}
	for _, tt := range tests {
		if got := errors.Is(tt.err, tt.target); got != tt.want {
			t.Errorf("%s: errors.Is(%v, %v) = %v, want %v", tt.name, tt.err, tt.target, got, tt.want)
		}
	}
}

func TestSentinels(t *testing.T) {
	tests := []struct {
		err  *hebao.Error
		code string
		kind hebao.Kind
	}{
		{hebao.ErrInvalid, hebao.CodeInvalidRequest, hebao.KindInvalid},
		{hebao.ErrNotFound, hebao.CodeNotFound, hebao.KindNotFound},
		{hebao.ErrInsufficientFunds, hebao.CodeInsufficientFunds, hebao.KindRejected},
		{hebao.ErrIdempotencyKeyReused, hebao.CodeIdempotencyKeyReused, hebao.KindRejected},
		{hebao.ErrIdempotencyKeyInUse, hebao.CodeIdempotencyKeyInUse, hebao.KindConflict},
		{hebao.ErrConflict, hebao.CodeConflict, hebao.KindConflict},
	}
	for _, tt := range tests {
		if tt.err.Code != tt.code || tt.err.Kind != tt.kind || tt.err.Message == "" {
			t.Errorf("%v: code %q kind %d, want %q kind %d and a message", tt.err, tt.err.Code, tt.err.Kind, tt.code, tt.kind)
		}
	}
}

func TestErrorString(t *testing.T) {
	tests := []struct {
		err  *hebao.Error
		want string
	}{
		{hebao.Errorf(hebao.CodeNotFound, "wallet %s not found", "wal_1"), "not_found: wallet wal_1 not found"},
		{&hebao.Error{Code: hebao.CodeInternal, Message: "internal error", Err: io.EOF}, "internal: internal error: EOF"},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, tt.err.Error()); diff != "" {
			t.Errorf("Error() (-want +got):\n%s", diff)
		}
	}
}
