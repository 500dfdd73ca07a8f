package hebao

import (
	"context"
	"strconv"
	"time"
	"unicode/utf8"
)

// MovementKind is what a customer sees a movement of their money as (SPEC §5).
type MovementKind string

// The movement kinds of SPEC §5 so far.
const (
	MovementTopup       MovementKind = "topup"        // card → wallet
	MovementWithdrawal  MovementKind = "withdrawal"   // wallet → card
	MovementTransferOut MovementKind = "transfer_out" // this wallet → another
	MovementTransferIn  MovementKind = "transfer_in"  // another wallet → this one
	MovementPayment     MovementKind = "payment"      // this wallet → a merchant
	MovementRefund      MovementKind = "refund"       // a merchant → this wallet
)

// MovementStatus is the state of a money-moving operation (SPEC §6): pending while a
// bank has not answered, then succeeded or failed, once and for good.
type MovementStatus string

// The movement states.
const (
	MovementPending   MovementStatus = "pending"
	MovementSucceeded MovementStatus = "succeeded"
	MovementFailed    MovementStatus = "failed"
)

// Movement is one line of a customer's history (GET /v1/transactions), and the
// business record of the operation it shows: written in the same transaction as the
// ledger transfer it explains. A transfer between two wallets is two movements, one
// in each wallet's history, sharing Ref.
type Movement struct {
	ID         string // "mov_…": the transaction id the customer sees
	WalletID   string
	Account    AccountID // the wallet's CNY account
	CustomerID string
	Kind       MovementKind
	Status     MovementStatus
	Amount     int64 // fen, positive; Kind says which way it went
	// Card fields are set for top-ups and withdrawals. CardSealed is the full number
	// sealed under the card key with the customer id as additional data, kept so the
	// bank can be asked again after a restart even if the card was unbound meanwhile.
	CardID     string
	CardMasked string
	CardSealed string
	BankCode   string
	// Counterparty fields are set for transfers: the other wallet, and what this
	// customer is shown of its holder (a masked phone number).
	Counterparty     string
	CounterpartyName string
	Memo             string
	// FailureCode is set when Status is failed: a public code with an explanation
	// (Explain).
	FailureCode string
	// Ref ties a movement to its ledger transfers (their Ref) and to its other side: a
	// transfer's two movements share it.
	Ref       string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// MovementTx is the part of Tx that keeps movements and the counters of the limits.
type MovementTx interface {
	// CreateMovement stores a new movement; conflict if its id exists.
	CreateMovement(ctx context.Context, m Movement) error
	// Movement returns the wallet's movement with the given id; not_found if there
	// is none, or it is another wallet's.
	Movement(ctx context.Context, walletID, id string) (Movement, error)
	// Movements returns up to limit of the wallet's movements, newest first, with ids
	// below before (from the newest when before is "").
	Movements(ctx context.Context, walletID, before string, limit int) ([]Movement, error)
	// FinishMovement moves the wallet's pending movement with the given id to status (with
	// failureCode when failed) at at, and reports whether it did: false, changing
	// nothing, when it is no longer pending or does not exist. Two processes racing
	// to finish one movement see exactly one true.
	FinishMovement(ctx context.Context, walletID, id string, status MovementStatus, failureCode string, at time.Time) (bool, error)
	// PendingMovements returns up to limit pending top-ups, withdrawals and refunds to
	// a card last
	// changed before before, oldest first: the work a restart must finish.
	PendingMovements(ctx context.Context, before time.Time, limit int) ([]Movement, error)

	// Payer returns what deciding a payment by the customer needs, in one read: the
	// customer's wallet, their phone, the payment password (nil when none is set)
	// and the wallet's limit counters, locked as Usage locks them. not_found when
	// the customer has no wallet.
	Payer(ctx context.Context, customerID string) (Payer, error)
	// Payee returns the wallet with the given id — or, when walletID is "", the
	// wallet of the customer with the given phone — and its holder's phone;
	// not_found if there is none.
	Payee(ctx context.Context, walletID, phone string) (Wallet, string, error)

	// Usage returns the wallet's limit counters, locked for the rest of the
	// transaction (so concurrent movements are counted one after another, even by
	// several processes); zero counters for a wallet that has none yet.
	Usage(ctx context.Context, walletID string) (Usage, error)
	// SaveUsage stores the wallet's counters.
	SaveUsage(ctx context.Context, u Usage) error

	// AccountByOwner returns the account of the given kind and owner; not_found if
	// none. For the operator's own accounts, one per kind and owner (a bank code).
	AccountByOwner(ctx context.Context, kind AccountKind, owner string) (Account, error)
	// Device returns what is known of the customer's device; not_found if it was
	// never seen.
	Device(ctx context.Context, customerID, deviceID string) (Device, error)
}

// Payer is what deciding a payment needs to know about the payer (Tx.Payer).
type Payer struct {
	Wallet   Wallet
	Phone    string
	Password *PaymentPassword // nil: no payment password set yet
	Usage    Usage
}

// Usage counts what has left a wallet against its tier's limits (SPEC §3), in the
// same transaction as each movement: Day and Year are China-time periods
// (20261126, 2026); counts of another period are stale and read as zero. PendingIn
// is the sum of the wallet's pending top-ups, held against the balance cap so that
// a top-up, once accepted, can always be credited; PendingOut the same for
// withdrawals, whose money may come back.
type Usage struct {
	WalletID  string
	Day       int   // yyyymmdd in China time of DayTotal
	DayTotal  int64 // fen paid out that day
	Year      int   // of YearTotal
	YearTotal int64 // fen paid out that year
	PendingIn int64 // fen of pending top-ups
	// PendingOut is the sum of the wallet's pending withdrawals: held away from the
	// balance, and back in it if the bank refuses, so the balance cap counts it.
	PendingOut int64
}

// chinaDate returns t's day as yyyymmdd and year, in China time (UTC+8): the
// limits reset at midnight Beijing time and on 1 January.
func chinaDate(t time.Time) (day, year int) {
	c := t.In(chinaTime)
	return c.Year()*10000 + int(c.Month())*100 + c.Day(), c.Year()
}

// at returns u with the counters of a past day or year read as zero.
func (u Usage) at(now time.Time) Usage {
	day, year := chinaDate(now)
	if u.Day != day {
		u.Day, u.DayTotal = day, 0
	}
	if u.Year != year {
		u.Year, u.YearTotal = year, 0
	}
	return u
}

// Event kinds written to the outbox.
const (
	// EventMovement announces a change of a customer's money: a movement created or
	// finished. Its payload is a MovementEvent.
	EventMovement = "movement"
)

// MovementEvent is the payload of an EventMovement: what a notification says.
type MovementEvent struct {
	CustomerID    string         `json:"customer_id"`
	WalletID      string         `json:"wallet_id"`
	TransactionID string         `json:"transaction_id"`
	Kind          MovementKind   `json:"kind"`
	Status        MovementStatus `json:"status"`
	Amount        int64          `json:"amount"`
	Counterparty  string         `json:"counterparty,omitempty"` // what the customer is shown
	BalanceAfter  int64          `json:"balance_after"`
	FailureCode   string         `json:"failure_code,omitempty"`
	At            time.Time      `json:"at"`
	// Other is the other side of a transfer between two wallets, announced by the
	// same event: one outbox row per transfer rather than one per side.
	Other *MovementEvent `json:"other,omitempty"`
}

// emitMovement writes the outbox event that announces m with the wallet's balance
// after it.
func emitMovement(ctx context.Context, tx Tx, m Movement, balanceAfter int64) error {
	e := movementEvent(m, balanceAfter)
	return tx.Emit(ctx, Event{Kind: EventMovement, Payload: e.AppendJSON(make([]byte, 0, 320))})
}

// emitTransfer writes the one outbox event that announces both sides of a transfer.
func emitTransfer(ctx context.Context, tx Tx, out Movement, outBalance int64, in Movement, inBalance int64) error {
	e, other := movementEvent(out, outBalance), movementEvent(in, inBalance)
	e.Other = &other
	return tx.Emit(ctx, Event{Kind: EventMovement, Payload: e.AppendJSON(make([]byte, 0, 640))})
}

func movementEvent(m Movement, balanceAfter int64) MovementEvent {
	return MovementEvent{
		CustomerID: m.CustomerID, WalletID: m.WalletID, TransactionID: m.ID, Kind: m.Kind,
		Status: m.Status, Amount: m.Amount, Counterparty: m.CounterpartyName,
		BalanceAfter: balanceAfter, FailureCode: m.FailureCode, At: m.UpdatedAt,
	}
}

// AppendJSON appends e encoded as encoding/json would encode it: by hand, because
// the closures that emit events run one after another on the store's committer,
// where reflection costs every caller.
func (e MovementEvent) AppendJSON(b []byte) []byte {
	b = append(b, `{"customer_id":`...)
	b = appendJSONString(b, e.CustomerID)
	b = append(b, `,"wallet_id":`...)
	b = appendJSONString(b, e.WalletID)
	b = append(b, `,"transaction_id":`...)
	b = appendJSONString(b, e.TransactionID)
	b = append(b, `,"kind":`...)
	b = appendJSONString(b, string(e.Kind))
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(e.Status))
	b = append(b, `,"amount":`...)
	b = strconv.AppendInt(b, e.Amount, 10)
	if e.Counterparty != "" {
		b = append(b, `,"counterparty":`...)
		b = appendJSONString(b, e.Counterparty)
	}
	b = append(b, `,"balance_after":`...)
	b = strconv.AppendInt(b, e.BalanceAfter, 10)
	if e.FailureCode != "" {
		b = append(b, `,"failure_code":`...)
		b = appendJSONString(b, e.FailureCode)
	}
	b = append(b, `,"at":"`...)
	b = e.At.AppendFormat(b, time.RFC3339Nano)
	b = append(b, '"')
	if e.Other != nil {
		b = append(b, `,"other":`...)
		b = e.Other.AppendJSON(b)
	}
	return append(b, '}')
}

// appendJSONString appends s as a JSON string. Valid UTF-8 passes through; quotes,
// backslashes, control characters and the characters encoding/json escapes for
// HTML are escaped; invalid bytes become U+FFFD, as encoding/json does.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '"' || c == '\\':
				b = append(b, '\\', c)
			case c == '\n':
				b = append(b, '\\', 'n')
			case c == '\r':
				b = append(b, '\\', 'r')
			case c == '\t':
				b = append(b, '\\', 't')
			case c == '\b':
				b = append(b, '\\', 'b')
			case c == '\f':
				b = append(b, '\\', 'f')
			case c < 0x20 || c == '<' || c == '>' || c == '&':
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			default:
				b = append(b, c)
			}
			i++
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return append(b, '"')
}
