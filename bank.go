package hebao

import (
	"context"
	"errors"
)

// Bank is the connector to the card-issuing banks (SPEC §4): it takes money from a
// card (a top-up) and pays money to a card (a withdrawal). Every order carries a
// reference, and the bank applies each reference at most once: asking again with the
// same reference — after a time-out, or after a restart — returns the first outcome
// and never moves money twice.
//
// Results are asynchronous for the customer: the services record an operation as
// pending, commit, and only then call the bank, outside every database transaction,
// recording the answer in a transaction of its own. A call blocks until the bank
// answers or ctx ends; ending without an answer is ErrBankNoAnswer, which leaves the
// outcome unknown until the reference is asked about again or cancelled.
type Bank interface {
	// Debit takes o.Amount from the card (a top-up).
	Debit(ctx context.Context, o BankOrder) (BankOutcome, error)
	// Credit pays o.Amount to the card (a withdrawal).
	Credit(ctx context.Context, o BankOrder) (BankOutcome, error)
	// Cancel makes sure the order with reference ref never takes effect: an order not
	// yet applied (or never seen) is voided for good and Cancel answers
	// BankOutcome{Status: BankCancelled}; an order already applied or refused keeps
	// its outcome, which Cancel returns. Cancelling twice answers the same.
	Cancel(ctx context.Context, ref string) (BankOutcome, error)
}

// BankOrder is one instruction to the bank.
type BankOrder struct {
	Ref        string // the operation's id; the bank applies each Ref at most once
	CardNumber string // the full card number, digits only; never logged
	BankCode   string // the issuing bank, from the BIN table
	Amount     int64  // fen, positive
}

// BankStatus is the bank's verdict on an order.
type BankStatus string

// The bank's verdicts.
const (
	BankSucceeded BankStatus = "succeeded" // the money moved
	BankRefused   BankStatus = "refused"   // the bank said no; Code says why; nothing moved
	BankCancelled BankStatus = "cancelled" // voided by Cancel before it took effect; nothing moved
)

// BankOutcome is the bank's answer to an order.
type BankOutcome struct {
	Status BankStatus
	// Code is the public failure code when Status is BankRefused: card_declined or
	// bank_insufficient_funds.
	Code string
}

// ErrBankNoAnswer is returned by a Bank when ctx ended (the bank time-out) before
// the bank answered: the order may or may not take effect later.
var ErrBankNoAnswer = errors.New("hebao: the bank did not answer in time")
