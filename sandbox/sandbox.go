// Package sandbox is the sandbox bank: a real, in-process implementation of
// hebao.Bank for development, demonstrations and tests (SPEC §4, §13 "Sandbox bank test
// cards"). It moves test money only, between card accounts it keeps itself; no real bank
// is ever involved, and it says so wherever it shows (see Bank.Label).
//
// Any Luhn-valid card number whose BIN is in the shipped table is a sandbox card that
// holds hebao.SandboxCardBalance (¥1,000,000) when the bank first sees it. The last four
// digits choose what the bank does (hebao.SandboxBehaviour):
//
//	…0002  Debit and Credit are refused with card_declined
//	…0051  Debit is refused with bank_insufficient_funds; Credit succeeds
//	…0119  Debit and Credit never answer: the call blocks until ctx ends and returns
//	       hebao.ErrBankNoAnswer, leaving the order unapplied
//	…0259  Debit and Credit answer after Bank.LateAnswer (default hebao.SandboxLateAnswer)
//
// Every other ending answers at once, and a Debit larger than the card's balance at the
// bank is refused with bank_insufficient_funds.
//
// With a directory, every verdict is appended to a JSON-lines journal and synced to disk
// before the bank answers, so a process killed right after a bank call and restarted
// finds the same outcomes and balances (see Open).
package sandbox

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/hebaopay/hebao"
)

var _ hebao.Bank = (*Bank)(nil)

// ErrClosed is returned by calls on a Bank after Close.
var ErrClosed = errors.New("sandbox: the sandbox bank is closed")

// The operations of the journal.
const (
	opDebit  = "debit"
	opCredit = "credit"
	opCancel = "cancel"
)

// Bank is the sandbox bank. It is safe for use by many goroutines. Set its exported
// fields before the first call.
//
// Every reference (BankOrder.Ref) gets one outcome, for good: succeeded, refused or
// cancelled. Asking again with a reference already decided — by Debit, Credit or
// Cancel — returns that first outcome and moves nothing, even when the second order is
// for another operation, card or amount; like a real bank, the sandbox answers by
// reference and does not compare the orders.
type Bank struct {
	// LateAnswer is how long a card ending in 0259 takes to answer; zero means
	// hebao.SandboxLateAnswer. Tests set it short.
	LateAnswer time.Duration

	mu       sync.Mutex
	outcomes map[string]hebao.BankOutcome // by Ref: every decided order
	balances map[string]int64             // by cardKey: every card that money moved on
	waiters  map[string]*waiter           // by Ref: calls waiting for a late or no answer
	journal  *journal                     // nil in memory-only mode
	closed   bool
	closing  chan struct{} // closed by Close, waking every waiting call
}

// waiter lets the calls waiting on an undecided reference wake up as soon as the
// reference is decided by another call, typically Cancel.
type waiter struct {
	decided chan struct{}
	n       int // calls waiting
}

// Open returns a sandbox bank. With dir "" it keeps its state in memory only; otherwise
// it keeps an append-only journal in dir/sandbox-bank.jsonl, creating dir and the file
// if needed and replaying the file to restore every outcome and balance. A torn last
// line (a crash while appending) is ignored and cut off; any other unreadable line is
// an error.
func Open(dir string) (*Bank, error) {
	b := &Bank{
		outcomes: make(map[string]hebao.BankOutcome),
		balances: make(map[string]int64),
		waiters:  make(map[string]*waiter),
		closing:  make(chan struct{}),
	}
	if dir == "" {
		return b, nil
	}
	j, recs, err := openJournal(dir)
	if err != nil {
		return nil, err
	}
	for _, r := range recs {
		b.replay(r)
	}
	b.journal = j
	return b, nil
}

// Close closes the journal. Calls still waiting for a late answer return ErrClosed,
// and so does every later call. Closing twice is harmless.
func (b *Bank) Close() error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return nil
	}
	b.closed = true
	close(b.closing)
	if b.journal != nil {
		return b.journal.close()
	}
	return nil
}

// Label names the bank wherever it shows, so nobody mistakes test money for real money.
func (b *Bank) Label() string {
	return "Sandbox bank (test money, no real bank)"
}

// Balance returns what the card holds at the sandbox bank, in fen: a card the bank has
// not moved money on yet holds hebao.SandboxCardBalance. Spaces in cardNumber are
// ignored; a number that is not a valid card holds 0.
func (b *Bank) Balance(cardNumber string) int64 {
	number, _, err := hebao.ParseCardNumber(cardNumber)
	if err != nil {
		return 0
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.balance(cardKey(number))
}

// Debit takes o.Amount from the card (a top-up). It is refused with card_declined for
// a card ending in 0002 and with bank_insufficient_funds for one ending in 0051 or
// holding less than o.Amount. An order with an empty Ref, a non-positive Amount or an
// invalid card number is an error and is not recorded.
func (b *Bank) Debit(ctx context.Context, o hebao.BankOrder) (hebao.BankOutcome, error) {
	return b.order(ctx, opDebit, o)
}

// Credit pays o.Amount to the card (a withdrawal). It is refused with card_declined for
// a card ending in 0002. Orders are checked as for Debit.
func (b *Bank) Credit(ctx context.Context, o hebao.BankOrder) (hebao.BankOutcome, error) {
	return b.order(ctx, opCredit, o)
}

// Cancel voids the order with reference ref for good, unless it was already decided:
// an order applied or refused keeps its outcome, which Cancel returns; otherwise
// Cancel records ref as cancelled and answers BankCancelled, and a Debit or Credit with
// ref — later, or one waiting right now for a late answer — answers BankCancelled and
// moves nothing. Cancel always answers at once.
func (b *Bank) Cancel(ctx context.Context, ref string) (hebao.BankOutcome, error) {
	if ref == "" {
		return hebao.BankOutcome{}, errors.New("sandbox: cancel: empty reference")
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return hebao.BankOutcome{}, ErrClosed
	}
	if out, ok := b.outcomes[ref]; ok {
		return out, nil
	}
	out := hebao.BankOutcome{Status: hebao.BankCancelled}
	if err := b.decide(record{Ref: ref, Op: opCancel, Status: out.Status}); err != nil {
		return hebao.BankOutcome{}, err
	}
	return out, nil
}

// order runs a Debit or Credit: a decided reference answers at once; otherwise the
// card's behaviour decides when and how the bank answers.
func (b *Bank) order(ctx context.Context, op string, o hebao.BankOrder) (hebao.BankOutcome, error) {
	number, err := checkOrder(op, o)
	if err != nil {
		return hebao.BankOutcome{}, err
	}
	if out, ok, err := b.lookup(o.Ref); err != nil || ok {
		return out, err
	}
	if ctx.Err() != nil {
		return hebao.BankOutcome{}, hebao.ErrBankNoAnswer
	}
	switch hebao.SandboxBehaviour(number) {
	case hebao.CardNeverAnswers:
		// The bank answers only if the order is decided meanwhile (cancelled).
		if err := b.wait(ctx, o.Ref, nil); err != nil {
			return hebao.BankOutcome{}, err
		}
		out, ok, err := b.lookup(o.Ref)
		if err == nil && !ok {
			err = hebao.ErrBankNoAnswer
		}
		return out, err
	case hebao.CardAnswersLate:
		delay := b.LateAnswer
		if delay <= 0 {
			delay = hebao.SandboxLateAnswer
		}
		t := time.NewTimer(delay)
		defer t.Stop()
		if err := b.wait(ctx, o.Ref, t.C); err != nil {
			return hebao.BankOutcome{}, err
		}
	}
	return b.apply(op, number, o)
}

// checkOrder validates an order and returns the card's digits. Its errors never
// repeat the card number.
func checkOrder(op string, o hebao.BankOrder) (string, error) {
	if o.Ref == "" {
		return "", fmt.Errorf("sandbox: %s: empty reference", op)
	}
	if o.Amount <= 0 {
		return "", fmt.Errorf("sandbox: %s %q: amount %d fen is not positive", op, o.Ref, o.Amount)
	}
	number, _, err := hebao.ParseCardNumber(o.CardNumber)
	if err != nil {
		return "", fmt.Errorf("sandbox: %s %q: %w", op, o.Ref, err)
	}
	return number, nil
}

// lookup returns the outcome of ref, if decided.
func (b *Bank) lookup(ref string) (hebao.BankOutcome, bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return hebao.BankOutcome{}, false, ErrClosed
	}
	out, ok := b.outcomes[ref]
	return out, ok, nil
}

// wait blocks until ref is decided by another call, answer fires (nil never fires),
// ctx ends (ErrBankNoAnswer) or the bank closes (ErrClosed). A nil return does not
// mean ref is decided; the caller looks again.
func (b *Bank) wait(ctx context.Context, ref string, answer <-chan time.Time) error {
	b.mu.Lock()
	if _, ok := b.outcomes[ref]; ok {
		b.mu.Unlock()
		return nil
	}
	w := b.waiters[ref]
	if w == nil {
		w = &waiter{decided: make(chan struct{})}
		b.waiters[ref] = w
	}
	w.n++
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		w.n--
		if w.n == 0 && b.waiters[ref] == w {
			delete(b.waiters, ref)
		}
		b.mu.Unlock()
	}()

	select {
	case <-w.decided:
		return nil
	case <-answer:
		return nil
	case <-ctx.Done():
		return hebao.ErrBankNoAnswer
	case <-b.closing:
		return ErrClosed
	}
}

// apply decides an order now: the first call for a reference records the verdict and
// moves the money; any other returns the verdict already recorded.
func (b *Bank) apply(op, number string, o hebao.BankOrder) (hebao.BankOutcome, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		return hebao.BankOutcome{}, ErrClosed
	}
	if out, ok := b.outcomes[o.Ref]; ok {
		return out, nil
	}
	key := cardKey(number)
	out := hebao.BankOutcome{Status: hebao.BankSucceeded}
	switch behaviour := hebao.SandboxBehaviour(number); {
	case behaviour == hebao.CardDeclines:
		out = hebao.BankOutcome{Status: hebao.BankRefused, Code: hebao.CodeCardDeclined}
	case op == opDebit && (behaviour == hebao.CardInsufficientFunds || b.balance(key) < o.Amount):
		out = hebao.BankOutcome{Status: hebao.BankRefused, Code: hebao.CodeBankInsufficientFunds}
	}
	r := record{
		Ref:     o.Ref,
		Op:      op,
		Status:  out.Status,
		Code:    out.Code,
		Card:    hebao.MaskCard(number),
		CardKey: key,
		Amount:  o.Amount,
	}
	if err := b.decide(r); err != nil {
		return hebao.BankOutcome{}, err
	}
	return out, nil
}

// decide journals r, then applies it to the state and wakes the calls waiting on its
// reference. Called with b.mu held. On a journal error nothing changes.
func (b *Bank) decide(r record) error {
	if b.journal != nil {
		r.Time = time.Now().UTC()
		if err := b.journal.append(r); err != nil {
			return err
		}
	}
	b.replay(r)
	if w := b.waiters[r.Ref]; w != nil {
		close(w.decided)
		delete(b.waiters, r.Ref)
	}
	return nil
}

// replay applies one decided order to the in-memory state. A reference decided twice
// in a journal (which decide never writes) keeps its first outcome.
func (b *Bank) replay(r record) {
	if _, ok := b.outcomes[r.Ref]; ok {
		return
	}
	b.outcomes[r.Ref] = hebao.BankOutcome{Status: r.Status, Code: r.Code}
	if r.Status != hebao.BankSucceeded {
		return
	}
	switch r.Op {
	case opDebit:
		b.balances[r.CardKey] = b.balance(r.CardKey) - r.Amount
	case opCredit:
		b.balances[r.CardKey] = b.balance(r.CardKey) + r.Amount
	}
}

// balance returns the balance of the card with key; called with b.mu held.
func (b *Bank) balance(key string) int64 {
	if v, ok := b.balances[key]; ok {
		return v
	}
	return hebao.SandboxCardBalance
}

// cardKey is how the sandbox names a card in memory and in its journal: the hex
// SHA-256 of its digits, so the full number is never stored. (Unkeyed, it only keeps
// the number out of sight: sandbox cards are test cards, not secrets.)
func cardKey(number string) string {
	sum := sha256.Sum256([]byte(strings.ReplaceAll(number, " ", "")))
	return hex.EncodeToString(sum[:])
}
