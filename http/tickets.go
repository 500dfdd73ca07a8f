package http

import (
	"net/http"
	"time"

	"github.com/hebaopay/hebao"
)

// ticketJSON is a ticket as its customer sees it, without the thread: the lines
// of GET /v1/tickets. TransactionID is null when the ticket is about none.
type ticketJSON struct {
	ID            string    `json:"id"`
	Category      string    `json:"category"`
	Subject       string    `json:"subject"`
	Status        string    `json:"status"`
	TransactionID *string   `json:"transaction_id"`
	MessageCount  int       `json:"message_count"`
	CreatedAt     time.Time `json:"created_at"`
	UpdatedAt     time.Time `json:"updated_at"`
}

// ticketMessageJSON is a message of a thread. AuthorID is shown to agents only:
// a customer sees that customer service wrote, not which staff member.
type ticketMessageJSON struct {
	ID        string    `json:"id"`
	Seq       int       `json:"seq"`
	Author    string    `json:"author"`
	AuthorID  string    `json:"author_id,omitempty"`
	Body      string    `json:"body"`
	CreatedAt time.Time `json:"created_at"`
}

// ticketThreadJSON is a customer's ticket with its messages, oldest first.
type ticketThreadJSON struct {
	ticketJSON
	Messages []ticketMessageJSON `json:"messages"`
}

// agentTicketJSON is a ticket as an agent sees it in the queue: AssignedTo is
// null while nobody has it.
type agentTicketJSON struct {
	ticketJSON
	CustomerID string  `json:"customer_id"`
	AssignedTo *string `json:"assigned_to"`
}

// agentThreadJSON is a ticket with its thread and its customer, whose phone is
// masked.
type agentThreadJSON struct {
	agentTicketJSON
	Customer struct {
		ID    string `json:"id"`
		Phone string `json:"phone"`
	} `json:"customer"`
	Messages []ticketMessageJSON `json:"messages"`
}

func optional(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func ticketOut(t hebao.Ticket) ticketJSON {
	return ticketJSON{ID: t.ID, Category: string(t.Category), Subject: t.Subject, Status: string(t.Status),
		TransactionID: optional(t.TransactionID), MessageCount: t.Messages, CreatedAt: t.CreatedAt.UTC(), UpdatedAt: t.UpdatedAt.UTC()}
}

func messagesOut(ms []hebao.TicketMessage, agent bool) []ticketMessageJSON {
	out := make([]ticketMessageJSON, 0, len(ms))
	for _, m := range ms {
		j := ticketMessageJSON{ID: m.ID, Seq: m.Seq, Author: string(m.Author), Body: m.Body, CreatedAt: m.CreatedAt.UTC()}
		if agent {
			j.AuthorID = m.AuthorID
		}
		out = append(out, j)
	}
	return out
}

func threadOut(th hebao.TicketThread) ticketThreadJSON {
	return ticketThreadJSON{ticketJSON: ticketOut(th.Ticket), Messages: messagesOut(th.Messages, false)}
}

func agentTicketOut(t hebao.Ticket) agentTicketJSON {
	return agentTicketJSON{ticketJSON: ticketOut(t), CustomerID: t.CustomerID, AssignedTo: optional(t.AssignedTo)}
}

func (s *Server) writeAgentTicket(w http.ResponseWriter, status int, at hebao.AgentTicket) error {
	out := agentThreadJSON{agentTicketJSON: agentTicketOut(at.Ticket), Messages: messagesOut(at.Messages, true)}
	out.Customer.ID, out.Customer.Phone = at.Ticket.CustomerID, at.CustomerPhone
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, status, out)
}

func writeThread(w http.ResponseWriter, status int, th hebao.TicketThread) error {
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, status, threadOut(th))
}

// ticketPage writes a page of tickets as {items, next_cursor}.
func ticketPage[T any](w http.ResponseWriter, p hebao.TicketPage, item func(hebao.Ticket) T) error {
	out := struct {
		Items      []T     `json:"items"`
		NextCursor *string `json:"next_cursor"`
	}{Items: []T{}, NextCursor: optional(p.Next)}
	for _, t := range p.Tickets {
		out.Items = append(out.Items, item(t))
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// messageRequest is the body of the routes that add a message to a ticket.
type messageRequest struct {
	Message string `json:"message"`
}

// openTicket opens a ticket: POST /v1/tickets {category, subject, message,
// transaction_id?} → 201 the ticket with its thread.
// Errors: invalid_request, not_found (the transaction), unavailable.
func (s *Server) openTicket(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req struct {
		Category      string `json:"category"`
		Subject       string `json:"subject"`
		Message       string `json:"message"`
		TransactionID string `json:"transaction_id"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.tickets == nil {
		return notConfigured("tickets")
	}
	th, err := s.tickets.Open(r.Context(), sess.CustomerID, hebao.TicketRequest{Category: hebao.TicketCategory(req.Category),
		Subject: req.Subject, Message: req.Message, TransactionID: req.TransactionID})
	if err != nil {
		return err
	}
	return writeThread(w, http.StatusCreated, th)
}

// listTickets pages through the caller's tickets, newest first: GET
// /v1/tickets?limit=&cursor= → {items, next_cursor}; next_cursor is null on the
// last page.
// Errors: invalid_request (limit, cursor), unavailable.
func (s *Server) listTickets(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	limit, cursor, err := page(r, "tkt")
	if err != nil {
		return err
	}
	if s.tickets == nil {
		return notConfigured("tickets")
	}
	p, err := s.tickets.List(r.Context(), sess.CustomerID, cursor, limit)
	if err != nil {
		return err
	}
	return ticketPage(w, p, ticketOut)
}

// getTicket shows one of the caller's tickets with its thread: GET
// /v1/tickets/{id}. Another customer's ticket is not_found.
// Errors: invalid_request, not_found, unavailable.
func (s *Server) getTicket(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if s.tickets == nil {
		return notConfigured("tickets")
	}
	th, err := s.tickets.Get(r.Context(), sess.CustomerID, r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeThread(w, http.StatusOK, th)
}

// writeTicket adds the caller's message to their ticket, opening it again if it
// was answered or resolved: POST /v1/tickets/{id}/messages {message} → 201 the
// ticket with its thread.
// Errors: invalid_request, not_found, conflict (the ticket is full), unavailable.
func (s *Server) writeTicket(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	var req messageRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.tickets == nil {
		return notConfigured("tickets")
	}
	th, err := s.tickets.Write(r.Context(), sess.CustomerID, r.PathValue("id"), req.Message)
	if err != nil {
		return err
	}
	return writeThread(w, http.StatusCreated, th)
}

// agentListTickets is the agents' queue: GET
// /v1/agent/tickets?status=&limit=&cursor= (agent) → {items, next_cursor}, the
// tickets with status (open when absent) oldest first.
// Errors: invalid_request (status, limit, cursor), unavailable.
func (s *Server) agentListTickets(w http.ResponseWriter, r *http.Request, _ hebao.Staff) error {
	limit, cursor, err := page(r, "tkt")
	if err != nil {
		return err
	}
	status := hebao.TicketOpen
	if v := r.URL.Query().Get("status"); v != "" {
		status = hebao.TicketStatus(v)
	}
	if s.tickets == nil {
		return notConfigured("tickets")
	}
	p, err := s.tickets.Queue(r.Context(), status, cursor, limit)
	if err != nil {
		return err
	}
	return ticketPage(w, p, agentTicketOut)
}

// agentGetTicket shows any ticket with its thread and the customer's masked phone:
// GET /v1/agent/tickets/{id} (agent).
// Errors: invalid_request, not_found, unavailable.
func (s *Server) agentGetTicket(w http.ResponseWriter, r *http.Request, _ hebao.Staff) error {
	if s.tickets == nil {
		return notConfigured("tickets")
	}
	at, err := s.tickets.AgentGet(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeAgentTicket(w, http.StatusOK, at)
}

// agentReplyTicket answers a ticket: POST /v1/agent/tickets/{id}/messages {message}
// (agent) → 201 the ticket, now answered and assigned to the agent if nobody had
// it. The customer is notified.
// Errors: invalid_request, not_found, conflict (the ticket is full), unavailable.
func (s *Server) agentReplyTicket(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	var req messageRequest
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.tickets == nil {
		return notConfigured("tickets")
	}
	at, err := s.tickets.Reply(r.Context(), st, r.PathValue("id"), req.Message)
	if err != nil {
		return err
	}
	return s.writeAgentTicket(w, http.StatusCreated, at)
}

// agentAssignTicket takes a ticket: POST /v1/agent/tickets/{id}/assign (agent) →
// 200 the ticket, assigned to the caller.
// Errors: invalid_request, not_found, unavailable.
func (s *Server) agentAssignTicket(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	if s.tickets == nil {
		return notConfigured("tickets")
	}
	at, err := s.tickets.Assign(r.Context(), st, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeAgentTicket(w, http.StatusOK, at)
}

// agentResolveTicket closes a ticket: POST /v1/agent/tickets/{id}/resolve (agent)
// → 200 the ticket, resolved.
// Errors: invalid_request, not_found, conflict (resolved already), unavailable.
func (s *Server) agentResolveTicket(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	if s.tickets == nil {
		return notConfigured("tickets")
	}
	at, err := s.tickets.Resolve(r.Context(), st, r.PathValue("id"))
	if err != nil {
		return err
	}
	return s.writeAgentTicket(w, http.StatusOK, at)
}

// diagnosisJSON answers "why did my payment fail?": the latest transaction that
// failed or is pending, with its failure, or null; and the ticket category that
// fits it, for a ticket about it.
type diagnosisJSON struct {
	Transaction       *transactionJSON `json:"transaction"`
	SuggestedCategory string           `json:"suggested_category"`
}

// diagnosis is GET /v1/help/diagnosis: the caller's latest transaction that failed
// or is still pending, among their latest 100, with {code, explanation,
// next_step}; transaction is null when there is none.
// Errors: not_found (no wallet), unavailable.
func (s *Server) diagnosis(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if s.tickets == nil {
		return notConfigured("tickets")
	}
	d, err := s.tickets.Diagnose(r.Context(), sess.CustomerID)
	if err != nil {
		return err
	}
	out := diagnosisJSON{SuggestedCategory: string(d.Category())}
	if d.Movement != nil {
		tx := transactionOut(*d.Movement)
		tx.Failure = &failureJSON{Code: d.Failure.Code, Explanation: d.Failure.Explanation, NextStep: d.Failure.NextStep}
		out.Transaction = &tx
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}
