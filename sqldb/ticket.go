package sqldb

import (
	"context"
	"fmt"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of customer-service tickets and their threads.
const (
	ticketColumns = `id, customer_id, category, subject, status, assigned_to, transaction_id, messages, created_at, updated_at`
	ticketInsert  = `INSERT INTO tickets (` + ticketColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`
	ticketByID    = `SELECT ` + ticketColumns + ` FROM tickets WHERE id = $1`
	ticketUpdate  = `UPDATE tickets SET status = $2, assigned_to = $3, messages = $4, updated_at = $5 WHERE id = $1`
	// A customer's tickets, newest first, and the agents' queue, oldest first.
	ticketsNewest = `SELECT ` + ticketColumns + ` FROM tickets WHERE customer_id = $1 ORDER BY id DESC LIMIT $2`
	ticketsBefore = `SELECT ` + ticketColumns + ` FROM tickets WHERE customer_id = $1 AND id < $2 ORDER BY id DESC LIMIT $3`
	ticketsQueue  = `SELECT ` + ticketColumns + ` FROM tickets WHERE status = $1 AND id > $2 ORDER BY id LIMIT $3`

	ticketMessageInsert = `INSERT INTO ticket_messages (ticket_id, seq, id, author, author_id, body, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	ticketMessagesByID  = `SELECT ticket_id, seq, id, author, author_id, body, created_at FROM ticket_messages WHERE ticket_id = $1 ORDER BY seq`
)

// CreateTicket implements hebao.Tx.
func (t *tx) CreateTicket(_ context.Context, tk hebao.Ticket) error {
	if tk.ID == "" || tk.CustomerID == "" || !tk.Category.Valid() || !tk.Status.Valid() {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a ticket needs an id, a customer, a category and a status")
	}
	_, err := t.execOwn(ticketInsert, tk.ID, tk.CustomerID, string(tk.Category), tk.Subject, string(tk.Status), tk.AssignedTo,
		tk.TransactionID, int64(tk.Messages), tk.CreatedAt.UnixMicro(), tk.UpdatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store ticket: %w", err))
	}
	return nil
}

// Ticket implements hebao.Tx. Batches of different processes already run one at a
// time behind the ledger head's lock (and SQLite has one writer), so this lock
// costs nothing today; it keeps the numbering of a ticket's messages safe if
// batches ever stop taking that lock.
func (t *tx) Ticket(_ context.Context, id string) (hebao.Ticket, error) {
	if err := t.check(); err != nil {
		return hebao.Ticket{}, err
	}
	q := ticketByID
	if _, pg := t.b.w.(*pgTx); pg && !t.b.readOnly {
		q += ` FOR UPDATE`
	}
	tk, err := scanTicket(t.queryRow(q, id))
	if isNoRows(err) {
		return hebao.Ticket{}, hebao.Errorf(hebao.CodeNotFound, "no such ticket")
	}
	if err != nil {
		return hebao.Ticket{}, fmt.Errorf("read ticket: %w", err)
	}
	return tk, nil
}

// UpdateTicket implements hebao.Tx.
func (t *tx) UpdateTicket(_ context.Context, tk hebao.Ticket) error {
	if !tk.Status.Valid() {
		return hebao.Errorf(hebao.CodeInvalidRequest, "unknown ticket status %q", tk.Status)
	}
	n, err := t.execOwn(ticketUpdate, tk.ID, string(tk.Status), tk.AssignedTo, int64(tk.Messages), tk.UpdatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("update ticket: %w", err))
	}
	if n == 0 {
		return hebao.Errorf(hebao.CodeNotFound, "no such ticket")
	}
	return nil
}

// AddTicketMessage implements hebao.Tx.
func (t *tx) AddTicketMessage(_ context.Context, m hebao.TicketMessage) error {
	if m.ID == "" || m.TicketID == "" || m.Seq < 1 || (m.Author != hebao.AuthorCustomer && m.Author != hebao.AuthorAgent) {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a ticket message needs an id, a ticket, a sequence number and an author")
	}
	_, err := t.execOwn(ticketMessageInsert, m.TicketID, int64(m.Seq), m.ID, string(m.Author), m.AuthorID, m.Body, m.CreatedAt.UnixMicro())
	if err != nil {
		return t.retryable(fmt.Errorf("store ticket message: %w", err))
	}
	return nil
}

// TicketMessages implements hebao.Tx.
func (t *tx) TicketMessages(_ context.Context, ticketID string) ([]hebao.TicketMessage, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(ticketMessagesByID, ticketID)
	if err != nil {
		return nil, fmt.Errorf("read ticket messages: %w", err)
	}
	defer rs.Close()
	var out []hebao.TicketMessage
	for rs.Next() {
		var (
			m            hebao.TicketMessage
			seq, created int64
			author       string
		)
		if err := rs.Scan(&m.TicketID, &seq, &m.ID, &author, &m.AuthorID, &m.Body, &created); err != nil {
			return nil, fmt.Errorf("read ticket messages: %w", err)
		}
		m.Seq, m.Author, m.CreatedAt = int(seq), hebao.AuthorKind(author), time.UnixMicro(created).UTC()
		out = append(out, m)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read ticket messages: %w", err)
	}
	return out, nil
}

// CustomerTickets implements hebao.Tx.
func (t *tx) CustomerTickets(_ context.Context, customerID, before string, limit int) ([]hebao.Ticket, error) {
	if limit <= 0 {
		return nil, nil
	}
	if before == "" {
		return t.tickets(ticketsNewest, customerID, int64(limit))
	}
	return t.tickets(ticketsBefore, customerID, before, int64(limit))
}

// TicketQueue implements hebao.Tx.
func (t *tx) TicketQueue(_ context.Context, status hebao.TicketStatus, after string, limit int) ([]hebao.Ticket, error) {
	if limit <= 0 {
		return nil, nil
	}
	return t.tickets(ticketsQueue, string(status), after, int64(limit))
}

func (t *tx) tickets(q string, args ...any) ([]hebao.Ticket, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(q, args...)
	if err != nil {
		return nil, fmt.Errorf("read tickets: %w", err)
	}
	defer rs.Close()
	var out []hebao.Ticket
	for rs.Next() {
		tk, err := scanTicket(rs)
		if err != nil {
			return nil, fmt.Errorf("read tickets: %w", err)
		}
		out = append(out, tk)
	}
	if err := rs.Err(); err != nil {
		return nil, fmt.Errorf("read tickets: %w", err)
	}
	return out, nil
}

func scanTicket(r scanner) (hebao.Ticket, error) {
	var (
		tk                         hebao.Ticket
		category, status           string
		messages, created, updated int64
	)
	err := r.Scan(&tk.ID, &tk.CustomerID, &category, &tk.Subject, &status, &tk.AssignedTo, &tk.TransactionID, &messages, &created, &updated)
	if err != nil {
		return hebao.Ticket{}, err
	}
	tk.Category, tk.Status, tk.Messages = hebao.TicketCategory(category), hebao.TicketStatus(status), int(messages)
	tk.CreatedAt, tk.UpdatedAt = time.UnixMicro(created).UTC(), time.UnixMicro(updated).UTC()
	return tk, nil
}
