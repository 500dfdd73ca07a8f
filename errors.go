package hebao

import (
	"errors"
	"fmt"
	"sort"
)

// Kind is the small closed set of error classes. The kind alone decides the HTTP
// status of a problem document; the public Code tells the client which rule said no.
type Kind int

// The error kinds, in the order of the HTTP status they map to.
const (
	KindInternal        Kind = iota // 500: a real fault; its detail never leaks
	KindInvalid                     // 400: malformed request
	KindUnauthenticated             // 401
	KindForbidden                   // 403: wrong role
	KindNotFound                    // 404: missing, or not the caller's
	KindConflict                    // 409
	KindRejected                    // 422: a business rule said no
	KindLocked                      // 423
	KindUpgrade                     // 426
	KindRateLimited                 // 429
	KindUnavailable                 // 503: a dependency (database, bank) cannot be reached
)

// The stable public error codes of SPEC §10. Clients match on these; never rename one.
const (
	CodeInternal              = "internal"
	CodeInvalidRequest        = "invalid_request"
	CodeUnauthenticated       = "unauthenticated"
	CodeForbidden             = "forbidden"
	CodeNotFound              = "not_found"
	CodeInsufficientFunds     = "insufficient_funds"
	CodeLimitExceeded         = "limit_exceeded"
	CodeBalanceCapExceeded    = "balance_cap_exceeded"
	CodeWalletFrozen          = "wallet_frozen"
	CodePaymentPasswordWrong  = "payment_password_wrong"
	CodePaymentPasswordLocked = "payment_password_locked"
	CodeOTPInvalid            = "otp_invalid"
	CodeOTPExpired            = "otp_expired"
	CodeRateLimited           = "rate_limited"
	CodeOrderClosed           = "order_closed"
	CodeOrderAlreadyPaid      = "order_already_paid"
	CodeRefundExceedsPaid     = "refund_exceeds_paid"
	CodeIdempotencyKeyReused  = "idempotency_key_reused"
	CodeIdempotencyKeyInUse   = "idempotency_key_in_use"
	CodeCurrencyNotSupported  = "currency_not_supported"
	CodeCardDeclined          = "card_declined"
	CodeStepUpRequired        = "step_up_required"
	CodeClientUpgradeRequired = "client_upgrade_required"
	CodeConflict              = "conflict"
	CodeUnavailable           = "unavailable"
	// The failure codes of bank operations besides card_declined (SPEC §9): the card's
	// bank lacked the money, or did not answer before the bank time-out.
	CodeBankInsufficientFunds = "bank_insufficient_funds"
	CodeBankTimeout           = "bank_timeout"
	// CodePayeeUnavailable: the payee's wallet is frozen or closed and cannot receive
	// a transfer now.
	CodePayeeUnavailable = "payee_unavailable"
	// CodeNotifyURLForbidden: a merchant's notify_url is not https, or resolves to an
	// address webhooks may not reach (SPEC §8).
	CodeNotifyURLForbidden = "notify_url_forbidden"
	// CodePaymentCodeInvalid: the payment code a till read is unknown, expired or
	// used already.
	CodePaymentCodeInvalid = "payment_code_invalid"
	// CodeCouponUnusable: the coupon given cannot pay part of this order (used,
	// expired, for another merchant, below its threshold, or its campaign's budget
	// is spent).
	CodeCouponUnusable = "coupon_unusable"
	// CodePromotionUnavailable: a campaign's offer cannot be taken now (the campaign
	// is not running, its budget is spent, or the customer took it as often as
	// each may).
	CodePromotionUnavailable = "promotion_unavailable"
)

// codeKinds is the one table from public code to error kind.
var codeKinds = map[string]Kind{
	CodeInternal:              KindInternal,
	CodeInvalidRequest:        KindInvalid,
	CodeUnauthenticated:       KindUnauthenticated,
	CodeForbidden:             KindForbidden,
	CodeNotFound:              KindNotFound,
	CodeInsufficientFunds:     KindRejected,
	CodeLimitExceeded:         KindRejected,
	CodeBalanceCapExceeded:    KindRejected,
	CodeWalletFrozen:          KindRejected,
	CodePaymentPasswordWrong:  KindRejected,
	CodePaymentPasswordLocked: KindLocked,
	CodeOTPInvalid:            KindRejected,
	CodeOTPExpired:            KindRejected,
	CodeRateLimited:           KindRateLimited,
	CodeOrderClosed:           KindRejected,
	CodeOrderAlreadyPaid:      KindRejected,
	CodeRefundExceedsPaid:     KindRejected,
	CodeIdempotencyKeyReused:  KindRejected,
	CodeIdempotencyKeyInUse:   KindConflict,
	CodeCurrencyNotSupported:  KindRejected,
	CodeCardDeclined:          KindRejected,
	CodeBankInsufficientFunds: KindRejected,
	CodeBankTimeout:           KindRejected,
	CodePayeeUnavailable:      KindRejected,
	CodeNotifyURLForbidden:    KindRejected,
	CodePaymentCodeInvalid:    KindRejected,
	CodeCouponUnusable:        KindRejected,
	CodePromotionUnavailable:  KindRejected,
	CodeStepUpRequired:        KindRejected,
	CodeClientUpgradeRequired: KindUpgrade,
	CodeConflict:              KindConflict,
	CodeUnavailable:           KindUnavailable,
	CodeIDNumberInvalid:       KindRejected,
	CodeCardNumberInvalid:     KindRejected,
	CodeCardBankUnknown:       KindRejected,
	CodePaymentPasswordWeak:   KindRejected,
	CodeRealNameRequired:      KindRejected,
	CodeWalletNotEmpty:        KindRejected,
	CodeCardHolderMismatch:    KindRejected,
	CodeFaceCheckFailed:       KindRejected,
	CodeCardRequired:          KindRejected,
}

// Codes returns every public error code, sorted: the list the OpenAPI document's
// Problem schema must name.
func Codes() []string {
	out := make([]string, 0, len(codeKinds))
	for c := range codeKinds {
		out = append(out, c)
	}
	sort.Strings(out)
	return out
}

// Error is Hebao's one error type. Message is safe to show to the caller; Err, when set,
// is the underlying cause, kept for logs and errors.Is and never shown.
type Error struct {
	Kind    Kind
	Code    string
	Message string
	Err     error
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

func (e *Error) Unwrap() error { return e.Err }

// Is makes errors.Is(err, ErrX) match any *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// Errorf returns an *Error for a public code; its kind comes from the code table.
// An unknown code is a programming mistake and becomes an internal error.
func Errorf(code, format string, args ...any) *Error {
	kind, ok := codeKinds[code]
	if !ok {
		return &Error{Kind: KindInternal, Code: CodeInternal, Message: "internal error",
			Err: fmt.Errorf("unknown error code %q: "+format, append([]any{code}, args...)...)}
	}
	return &Error{Kind: kind, Code: code, Message: fmt.Sprintf(format, args...)}
}

// Sentinels for errors.Is; messages are generic, so prefer Errorf with detail when
// returning one.
var (
	ErrInvalid              = Errorf(CodeInvalidRequest, "invalid request")
	ErrNotFound             = Errorf(CodeNotFound, "not found")
	ErrInsufficientFunds    = Errorf(CodeInsufficientFunds, "insufficient funds")
	ErrIdempotencyKeyReused = Errorf(CodeIdempotencyKeyReused, "this Idempotency-Key was used with a different request")
	ErrIdempotencyKeyInUse  = Errorf(CodeIdempotencyKeyInUse, "a request with this Idempotency-Key is still being processed")
	ErrConflict             = Errorf(CodeConflict, "conflict")
)

// ErrorOf returns err as an *Error. Anything that is not already one is an internal
// fault: its text is kept as the cause and replaced by a generic message.
func ErrorOf(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Kind: KindInternal, Code: CodeInternal, Message: "internal error", Err: err}
}

// ErrorCode returns the public code of err, or "" for nil.
func ErrorCode(err error) string {
	if err == nil {
		return ""
	}
	return ErrorOf(err).Code
}
