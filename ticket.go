package hebao

import (
	"context"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// TicketCategory is what a customer-service ticket is about (SPEC §9).
type TicketCategory string

// The ticket categories.
const (
	TicketPaymentFailed TicketCategory = "payment_failed"
	TicketDelayed       TicketCategory = "delayed" // a top-up, withdrawal or payment still pending
	TicketCard          TicketCategory = "card"
	TicketAccount       TicketCategory = "account"
	TicketOther         TicketCategory = "other"
)

// Valid reports whether c is a known category.
func (c TicketCategory) Valid() bool {
	switch c {
	case TicketPaymentFailed, TicketDelayed, TicketCard, TicketAccount, TicketOther:
		return true
	}
	return false
}

// TicketStatus is where a ticket stands: open while customer service owes an
// answer, answered while it waits for the customer, resolved when closed by an
// agent (a customer's new message opens it again).
type TicketStatus string

// The ticket states.
const (
	TicketOpen     TicketStatus = "open"
	TicketAnswered TicketStatus = "answered"
	TicketResolved TicketStatus = "resolved"
)

// Valid reports whether s is a known status.
func (s TicketStatus) Valid() bool {
	return s == TicketOpen || s == TicketAnswered || s == TicketResolved
}

// Ticket is a customer's request to customer service, with its thread of
// messages kept as TicketMessages.
type Ticket struct {
	ID         string // "tkt_…"
	CustomerID string
	Category   TicketCategory
	Subject    string
	Status     TicketStatus
	// AssignedTo is the id of the staff member handling it; "" while nobody is.
	AssignedTo string
	// TransactionID is the customer's own movement the ticket is about, if any.
	TransactionID string
	// Messages counts the thread: the next message's Seq is Messages+1.
	Messages  int
	CreatedAt time.Time
	UpdatedAt time.Time
}

// AuthorKind says which side wrote a ticket message.
type AuthorKind string

// The sides of a ticket thread.
const (
	AuthorCustomer AuthorKind = "customer"
	AuthorAgent    AuthorKind = "agent"
)

// TicketMessage is one message of a ticket's thread. Seq numbers a ticket's
// messages 1, 2, 3… in the order they were committed.
type TicketMessage struct {
	ID        string // "tkm_…"
	TicketID  string
	Seq       int
	Author    AuthorKind
	AuthorID  string // the customer's or the staff member's id
	Body      string
	CreatedAt time.Time
}

// TicketTx is the part of Tx that keeps tickets and their threads.
type TicketTx interface {
	// CreateTicket stores a new ticket; conflict if its id exists.
	CreateTicket(ctx context.Context, t Ticket) error
	// Ticket returns the ticket with the given id; not_found if there is none.
	// Inside Transact the ticket is locked for the rest of the transaction, so
	// that the messages of one ticket are numbered one at a time, even by several
	// processes sharing a database.
	Ticket(ctx context.Context, id string) (Ticket, error)
	// UpdateTicket stores t's status, assignee, message count and update time;
	// not_found if there is no ticket with its id.
	UpdateTicket(ctx context.Context, t Ticket) error
	// AddTicketMessage stores a message; conflict if its ticket has a message with
	// its Seq already, not_found if the ticket does not exist.
	AddTicketMessage(ctx context.Context, m TicketMessage) error
	// TicketMessages returns the ticket's messages in Seq order.
	TicketMessages(ctx context.Context, ticketID string) ([]TicketMessage, error)
	// CustomerTickets returns up to limit of the customer's tickets, newest first,
	// with ids below before (from the newest when before is "").
	CustomerTickets(ctx context.Context, customerID, before string, limit int) ([]Ticket, error)
	// TicketQueue returns up to limit tickets with the given status, oldest first,
	// with ids above after (from the oldest when after is "").
	TicketQueue(ctx context.Context, status TicketStatus, after string, limit int) ([]Ticket, error)
}

// Ticket limits.
const (
	MaxTicketSubject = 100  // characters
	MaxTicketMessage = 2000 // characters
	// MaxTicketMessages is the most messages one ticket holds; a longer
	// conversation goes on in a new ticket.
	MaxTicketMessages = 200
)

// TicketEvent is something that moves a ticket to another status.
type TicketEvent string

// The ticket events.
const (
	TicketCustomerWrote TicketEvent = "customer_wrote"
	TicketAgentReplied  TicketEvent = "agent_replied"
	TicketResolve       TicketEvent = "resolve"
)

// NextTicketStatus is the ticket state machine: a customer's message makes any
// ticket open (a resolved one is reopened); an agent's reply makes any ticket
// answered; resolve closes an open or answered ticket. Resolving a resolved
// ticket is conflict; an unknown state or event is invalid_request.
func NextTicketStatus(from TicketStatus, ev TicketEvent) (TicketStatus, error) {
	if !from.Valid() {
		return "", Errorf(CodeInvalidRequest, "unknown ticket status %q", from)
	}
	switch ev {
	case TicketCustomerWrote:
		return TicketOpen, nil
	case TicketAgentReplied:
		return TicketAnswered, nil
	case TicketResolve:
		if from == TicketResolved {
			return "", Errorf(CodeConflict, "this ticket is resolved already")
		}
		return TicketResolved, nil
	}
	return "", Errorf(CodeInvalidRequest, "unknown ticket event %q", ev)
}

// TicketRequest is a customer's POST /v1/tickets: the ticket and its first
// message.
type TicketRequest struct {
	Category      TicketCategory
	Subject       string
	Message       string
	TransactionID string // optional: a "mov_…" of the customer's own history
}

// Validate checks the request's own fields and returns it cleaned: the subject
// and message trimmed, the message's line breaks made "\n".
// Errors: invalid_request.
func (r TicketRequest) Validate() (TicketRequest, error) {
	if !r.Category.Valid() {
		return r, Errorf(CodeInvalidRequest, "category must be payment_failed, delayed, card, account or other")
	}
	var err error
	if r.Subject, err = ticketText("subject", r.Subject, MaxTicketSubject, false); err != nil {
		return r, err
	}
	if r.Message, err = TicketMessageText(r.Message); err != nil {
		return r, err
	}
	if r.TransactionID != "" && !ValidID("mov", r.TransactionID) {
		return r, Errorf(CodeInvalidRequest, "transaction_id, when given, is the id of one of your transactions: mov_ and 26 letters and digits")
	}
	return r, nil
}

// TicketMessageText checks and cleans the body of a ticket message: 1 to
// MaxTicketMessage characters once trimmed, line breaks as "\n", no other
// control characters.
// Errors: invalid_request.
func TicketMessageText(s string) (string, error) {
	return ticketText("message", s, MaxTicketMessage, true)
}

// ticketText trims s and checks it is 1 to max characters of text. Control
// characters are refused (but for line breaks in a multiline field, where "\r\n"
// becomes "\n"), and so are the invisible characters that reorder text, which
// could make an agent read a message other than the one written.
func ticketText(field, s string, max int, multiline bool) (string, error) {
	if !utf8.ValidString(s) {
		return "", Errorf(CodeInvalidRequest, "%s must be text (UTF-8)", field)
	}
	if multiline {
		s = strings.ReplaceAll(s, "\r\n", "\n")
	}
	s = strings.TrimSpace(s)
	if s == "" {
		return "", Errorf(CodeInvalidRequest, "%s is required", field)
	}
	if n := utf8.RuneCountInString(s); n > max {
		return "", Errorf(CodeInvalidRequest, "%s must be at most %d characters; it has %d", field, max, n)
	}
	for _, r := range s {
		if r == '\n' && multiline {
			continue
		}
		if unicode.IsControl(r) || reordering(r) {
			if multiline {
				return "", Errorf(CodeInvalidRequest, "%s may not contain control characters other than line breaks", field)
			}
			return "", Errorf(CodeInvalidRequest, "%s must be one line of text without control characters", field)
		}
	}
	return s, nil
}

// reordering reports whether r is a bidirectional embedding, override or isolate
// character.
func reordering(r rune) bool {
	return r >= '\u202a' && r <= '\u202e' || r >= '\u2066' && r <= '\u2069'
}

// MovementFailure returns the explanation a customer is given of a movement that
// failed or is still pending (SPEC §9 "Why did my payment fail?"), and false for
// one that succeeded. A till's payment waiting for the customer has its own
// explanation.
func MovementFailure(m Movement) (Failure, bool) {
	code := ""
	switch m.Status {
	case MovementFailed:
		code = m.FailureCode
	case MovementPending:
		code = FailurePending
		if m.Kind == MovementPayment {
			code = FailureAwaitingConfirmation
		}
	default:
		return Failure{}, false
	}
	f, _ := Explain(code)
	return f, true
}

// The audited actions of agents on tickets (SPEC §6: every staff action).
const (
	ActionTicketReply   = "ticket.reply"
	ActionTicketAssign  = "ticket.assign"
	ActionTicketResolve = "ticket.resolve"
)

// EventTicketMessage is the outbox event of a message written to a ticket. Its
// payload is a TicketMessageEvent. An agent's reply becomes a notification in the
// customer's inbox, pushed live to their open apps; agents poll the queue.
const EventTicketMessage = "ticket.message"

// TicketMessageEvent is the payload of EventTicketMessage. It carries no message
// text: the thread is read from the API.
type TicketMessageEvent struct {
	TicketID   string       `json:"ticket_id"`
	CustomerID string       `json:"customer_id"`
	MessageID  string       `json:"message_id"`
	Author     AuthorKind   `json:"author"`
	Status     TicketStatus `json:"status"` // the ticket's status after the message
	At         time.Time    `json:"at"`
}
