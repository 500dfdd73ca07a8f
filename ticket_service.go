package hebao

import (
	"context"
	"encoding/json"
	"fmt"
	"time"
)

// TicketService is customer service (SPEC §9): customers open tickets and write
// to them, agents work the queue, reply, take tickets and resolve them, and
// customers ask why their latest payment failed. Every agent action is audited;
// every message is announced through the outbox.
type TicketService struct {
	Store Store
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
	// Committed, if set, is called after each change that wrote an event.
	Committed func()
}

// TicketThread is a ticket with its messages in order.
type TicketThread struct {
	Ticket   Ticket
	Messages []TicketMessage
}

// AgentTicket is what an agent sees of a ticket: the thread and the customer's
// phone, masked (138****0000).
type AgentTicket struct {
	TicketThread
	CustomerPhone string
}

func checkTicketID(id string) error {
	if !ValidID("tkt", id) {
		return Errorf(CodeInvalidRequest, "a ticket id looks like tkt_ and 26 letters and digits")
	}
	return nil
}

// customerTicket loads the customer's own ticket: another customer's is
// not_found, as a missing one is, so ticket ids cannot be probed.
func customerTicket(ctx context.Context, tx Tx, customerID, id string) (Ticket, error) {
	t, err := tx.Ticket(ctx, id)
	if err == nil && t.CustomerID != customerID {
		err = Errorf(CodeNotFound, "no such ticket")
	}
	return t, err
}

// postMessage adds a message by author to t, moves t on (an agent's reply also
// assigns an unassigned ticket to them) and announces the message. It returns t
// as stored.
// Errors: conflict (the ticket is full).
func postMessage(ctx context.Context, tx Tx, t Ticket, author AuthorKind, authorID, body string, now time.Time) (Ticket, TicketMessage, error) {
	if t.Messages >= MaxTicketMessages {
		return t, TicketMessage{}, Errorf(CodeConflict, "this ticket has %d messages, the most one holds: please open a new ticket", MaxTicketMessages)
	}
	ev := TicketCustomerWrote
	if author == AuthorAgent {
		ev = TicketAgentReplied
	}
	next, err := NextTicketStatus(t.Status, ev)
	if err != nil {
		return t, TicketMessage{}, err
	}
	m := TicketMessage{ID: NewID("tkm"), TicketID: t.ID, Seq: t.Messages + 1, Author: author, AuthorID: authorID, Body: body, CreatedAt: now}
	if err := tx.AddTicketMessage(ctx, m); err != nil {
		return t, m, err
	}
	t.Status, t.Messages, t.UpdatedAt = next, m.Seq, now
	if author == AuthorAgent && t.AssignedTo == "" {
		t.AssignedTo = authorID
	}
	if err := tx.UpdateTicket(ctx, t); err != nil {
		return t, m, err
	}
	return t, m, emitTicketMessage(ctx, tx, t, m)
}

func emitTicketMessage(ctx context.Context, tx Tx, t Ticket, m TicketMessage) error {
	payload, err := json.Marshal(TicketMessageEvent{TicketID: t.ID, CustomerID: t.CustomerID, MessageID: m.ID,
		Author: m.Author, Status: t.Status, At: m.CreatedAt})
	if err != nil {
		return fmt.Errorf("encode ticket event: %w", err)
	}
	return tx.Emit(ctx, Event{Kind: EventTicketMessage, Payload: payload})
}

func (s *TicketService) committed() {
	if s.Committed != nil {
		s.Committed()
	}
}

// Open opens a ticket for the customer with its first message. A transaction id,
// if given, must be one of the customer's own.
// Errors: invalid_request, not_found (the transaction, or no wallet).
func (s *TicketService) Open(ctx context.Context, customerID string, req TicketRequest) (TicketThread, error) {
	req, err := req.Validate()
	if err != nil {
		return TicketThread{}, err
	}
	var out TicketThread
	err = s.Store.Transact(ctx, func(tx Tx) error {
		now := nowIn(s.Now, tx)
		if req.TransactionID != "" {
			w, err := tx.WalletByCustomer(ctx, customerID)
			if err != nil {
				return err
			}
			if _, err := tx.Movement(ctx, w.ID, req.TransactionID); err != nil {
				if ErrorCode(err) == CodeNotFound {
					return Errorf(CodeNotFound, "there is no transaction %s in your history", req.TransactionID)
				}
				return err
			}
		}
		t := Ticket{ID: NewID("tkt"), CustomerID: customerID, Category: req.Category, Subject: req.Subject, Status: TicketOpen,
			TransactionID: req.TransactionID, CreatedAt: now, UpdatedAt: now}
		if err := tx.CreateTicket(ctx, t); err != nil {
			return err
		}
		t, m, err := postMessage(ctx, tx, t, AuthorCustomer, customerID, req.Message, now)
		if err != nil {
			return err
		}
		out = TicketThread{Ticket: t, Messages: []TicketMessage{m}}
		return nil
	})
	if err != nil {
		return TicketThread{}, err
	}
	s.committed()
	return out, nil
}

// TicketPage is one page of a list of tickets. Next continues it: the cursor to
// pass for the page after; "" on the last page.
type TicketPage struct {
	Tickets []Ticket
	Next    string
}

// page checks a list's limit and cursor (the id of the last ticket of the page
// before) and reads limit+1 tickets with read, to know whether a next page exists.
// Errors: invalid_request (limit, cursor).
func (s *TicketService) page(ctx context.Context, cursor string, limit int, read func(tx Tx, n int) ([]Ticket, error)) (TicketPage, error) {
	if limit < 1 || limit > MaxPageSize {
		return TicketPage{}, Errorf(CodeInvalidRequest, "limit must be an integer from 1 to %d", MaxPageSize)
	}
	if cursor != "" && !ValidID("tkt", cursor) {
		return TicketPage{}, Errorf(CodeInvalidRequest, "cursor is not one this server gave out")
	}
	var p TicketPage
	err := s.Store.View(ctx, func(tx Tx) error {
		ts, err := read(tx, limit+1)
		p = TicketPage{Tickets: ts}
		if len(ts) > limit {
			p = TicketPage{Tickets: ts[:limit], Next: ts[limit-1].ID}
		}
		return err
	})
	return p, err
}

// List returns a page of up to limit (1 to MaxPageSize) of the customer's tickets,
// newest first, after cursor ("" for the newest).
// Errors: invalid_request (limit, cursor).
func (s *TicketService) List(ctx context.Context, customerID, cursor string, limit int) (TicketPage, error) {
	return s.page(ctx, cursor, limit, func(tx Tx, n int) ([]Ticket, error) {
		return tx.CustomerTickets(ctx, customerID, cursor, n)
	})
}

// Get returns the customer's own ticket with its thread.
// Errors: invalid_request (id), not_found (missing or another customer's).
func (s *TicketService) Get(ctx context.Context, customerID, id string) (TicketThread, error) {
	if err := checkTicketID(id); err != nil {
		return TicketThread{}, err
	}
	var out TicketThread
	err := s.Store.View(ctx, func(tx Tx) error {
		t, err := customerTicket(ctx, tx, customerID, id)
		if err != nil {
			return err
		}
		out, err = thread(ctx, tx, t)
		return err
	})
	return out, err
}

// Write adds the customer's message to their own ticket; a resolved or answered
// ticket is open again.
// Errors: invalid_request (id, message), not_found, conflict (the ticket is full).
func (s *TicketService) Write(ctx context.Context, customerID, id, message string) (TicketThread, error) {
	if err := checkTicketID(id); err != nil {
		return TicketThread{}, err
	}
	body, err := TicketMessageText(message)
	if err != nil {
		return TicketThread{}, err
	}
	var out TicketThread
	err = s.Store.Transact(ctx, func(tx Tx) error {
		t, err := customerTicket(ctx, tx, customerID, id)
		if err != nil {
			return err
		}
		if t, _, err = postMessage(ctx, tx, t, AuthorCustomer, customerID, body, nowIn(s.Now, tx)); err != nil {
			return err
		}
		out, err = thread(ctx, tx, t)
		return err
	})
	if err != nil {
		return TicketThread{}, err
	}
	s.committed()
	return out, nil
}

func thread(ctx context.Context, tx Tx, t Ticket) (TicketThread, error) {
	ms, err := tx.TicketMessages(ctx, t.ID)
	return TicketThread{Ticket: t, Messages: ms}, err
}

// Queue returns a page of up to limit (1 to MaxPageSize) tickets with the given
// status for agents, oldest first, after cursor ("" for the oldest).
// Errors: invalid_request (status, limit, cursor).
func (s *TicketService) Queue(ctx context.Context, status TicketStatus, cursor string, limit int) (TicketPage, error) {
	if !status.Valid() {
		return TicketPage{}, Errorf(CodeInvalidRequest, "status must be open, answered or resolved")
	}
	return s.page(ctx, cursor, limit, func(tx Tx, n int) ([]Ticket, error) {
		return tx.TicketQueue(ctx, status, cursor, n)
	})
}

// agentThread is the thread of t as an agent sees it, with the customer's phone
// masked.
func agentThread(ctx context.Context, tx Tx, t Ticket) (AgentTicket, error) {
	th, err := thread(ctx, tx, t)
	if err != nil {
		return AgentTicket{}, err
	}
	c, err := tx.CustomerByID(ctx, t.CustomerID)
	if err != nil {
		return AgentTicket{}, err
	}
	return AgentTicket{TicketThread: th, CustomerPhone: MaskPhone(c.Phone)}, nil
}

// AgentGet returns any ticket with its thread, for an agent.
// Errors: invalid_request (id), not_found.
func (s *TicketService) AgentGet(ctx context.Context, id string) (AgentTicket, error) {
	if err := checkTicketID(id); err != nil {
		return AgentTicket{}, err
	}
	var out AgentTicket
	err := s.Store.View(ctx, func(tx Tx) error {
		t, err := tx.Ticket(ctx, id)
		if err != nil {
			return err
		}
		out, err = agentThread(ctx, tx, t)
		return err
	})
	return out, err
}

// agentChange runs an agent's change of the ticket id in one transaction, with
// its audit record, and returns the ticket as the agent then sees it. change
// returns the audit record to write, or nil when it changed nothing; emits says
// whether a change writes an outbox event.
func (s *TicketService) agentChange(ctx context.Context, id string, emits bool, change func(tx Tx, t Ticket, now time.Time) (Ticket, *AuditRecord, error)) (AgentTicket, error) {
	if err := checkTicketID(id); err != nil {
		return AgentTicket{}, err
	}
	var (
		out     AgentTicket
		changed bool
	)
	err := s.Store.Transact(ctx, func(tx Tx) error {
		changed = false
		t, err := tx.Ticket(ctx, id)
		if err != nil {
			return err
		}
		t, rec, err := change(tx, t, nowIn(s.Now, tx))
		if err != nil {
			return err
		}
		if rec != nil {
			if err := tx.AddAudit(ctx, *rec); err != nil {
				return err
			}
			changed = true
		}
		out, err = agentThread(ctx, tx, t)
		return err
	})
	if err != nil {
		return AgentTicket{}, err
	}
	if changed && emits {
		s.committed()
	}
	return out, nil
}

// Reply adds an agent's message to a ticket: the ticket is answered (waiting for
// the customer) and, if nobody had it, assigned to the agent. The customer is
// notified. Audited.
// Errors: invalid_request (id, message), not_found, conflict (the ticket is full).
func (s *TicketService) Reply(ctx context.Context, st Staff, id, message string) (AgentTicket, error) {
	if err := checkTicketID(id); err != nil {
		return AgentTicket{}, err
	}
	body, err := TicketMessageText(message)
	if err != nil {
		return AgentTicket{}, err
	}
	return s.agentChange(ctx, id, true, func(tx Tx, t Ticket, now time.Time) (Ticket, *AuditRecord, error) {
		from := t
		t, m, err := postMessage(ctx, tx, t, AuthorAgent, st.ID, body, now)
		if err != nil {
			return t, nil, err
		}
		rec := audit(ctx, now, Actor{ActorStaff, st.ID}, ActionTicketReply, t.CustomerID, map[string]string{
			"ticket_id": t.ID, "message_id": m.ID, "status_from": string(from.Status), "status": string(t.Status),
			"assigned_from": from.AssignedTo, "assigned_to": t.AssignedTo})
		return t, &rec, nil
	})
}

// Assign gives the ticket to the agent, taking it over from another agent if one
// had it. Assigning a ticket the agent has already changes nothing. Audited.
// Errors: invalid_request (id), not_found.
func (s *TicketService) Assign(ctx context.Context, st Staff, id string) (AgentTicket, error) {
	return s.agentChange(ctx, id, false, func(tx Tx, t Ticket, now time.Time) (Ticket, *AuditRecord, error) {
		if t.AssignedTo == st.ID {
			return t, nil, nil
		}
		from := t.AssignedTo
		t.AssignedTo, t.UpdatedAt = st.ID, now
		if err := tx.UpdateTicket(ctx, t); err != nil {
			return t, nil, err
		}
		rec := audit(ctx, now, Actor{ActorStaff, st.ID}, ActionTicketAssign, t.CustomerID, map[string]string{
			"ticket_id": t.ID, "assigned_from": from, "assigned_to": st.ID})
		return t, &rec, nil
	})
}

// Resolve closes an open or answered ticket; the customer's next message opens it
// again. Audited.
// Errors: invalid_request (id), not_found, conflict (resolved already).
func (s *TicketService) Resolve(ctx context.Context, st Staff, id string) (AgentTicket, error) {
	return s.agentChange(ctx, id, false, func(tx Tx, t Ticket, now time.Time) (Ticket, *AuditRecord, error) {
		next, err := NextTicketStatus(t.Status, TicketResolve)
		if err != nil {
			return t, nil, err
		}
		from := t.Status
		t.Status, t.UpdatedAt = next, now
		if err := tx.UpdateTicket(ctx, t); err != nil {
			return t, nil, err
		}
		rec := audit(ctx, now, Actor{ActorStaff, st.ID}, ActionTicketResolve, t.CustomerID, map[string]string{
			"ticket_id": t.ID, "status_from": string(from), "status": string(next)})
		return t, &rec, nil
	})
}

// DiagnosisLookback is how many of a customer's latest movements Diagnose looks
// through for one that failed or is pending.
const DiagnosisLookback = MaxPageSize

// Diagnosis answers "why did my payment fail?" (SPEC §9) without a transaction id:
// the customer's latest movement that failed or is still pending, and why.
type Diagnosis struct {
	Movement *Movement // nil: none of the latest DiagnosisLookback movements failed or is pending
	Failure  Failure
}

// Category is the ticket category that fits the diagnosis: payment_failed for a
// failed movement, delayed for a pending one, other when there is none.
func (d Diagnosis) Category() TicketCategory {
	switch {
	case d.Movement == nil:
		return TicketOther
	case d.Movement.Status == MovementPending:
		return TicketDelayed
	}
	return TicketPaymentFailed
}

// Diagnose finds the customer's latest movement that failed or is still pending,
// among their latest DiagnosisLookback, with its explanation.
// Errors: not_found (no wallet).
func (s *TicketService) Diagnose(ctx context.Context, customerID string) (Diagnosis, error) {
	var d Diagnosis
	err := s.Store.View(ctx, func(tx Tx) error {
		d = Diagnosis{}
		w, err := tx.WalletByCustomer(ctx, customerID)
		if err != nil {
			return err
		}
		ms, err := tx.Movements(ctx, w.ID, "", DiagnosisLookback)
		if err != nil {
			return err
		}
		for _, m := range ms {
			if f, ok := MovementFailure(m); ok {
				d = Diagnosis{Movement: &m, Failure: f}
				return nil
			}
		}
		return nil
	})
	return d, err
}
