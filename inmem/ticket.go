package inmem

import (
	"cmp"
	"context"
	"maps"
	"slices"

	"github.com/hebaopay/hebao"
)

// ticketData is the tickets by id and each ticket's thread in Seq order.
type ticketData struct {
	tickets  map[string]hebao.Ticket
	messages map[string][]hebao.TicketMessage // by ticket id
}

func (d ticketData) clone() ticketData {
	c := ticketData{tickets: maps.Clone(d.tickets), messages: maps.Clone(d.messages)}
	for id, ms := range c.messages {
		c.messages[id] = slices.Clone(ms)
	}
	return c
}

// tickets returns the ticket data, made on first use.
func (t *tx) tickets() *ticketData {
	if t.d.tickets.tickets == nil {
		t.d.tickets = ticketData{tickets: map[string]hebao.Ticket{}, messages: map[string][]hebao.TicketMessage{}}
	}
	return &t.d.tickets
}

// CreateTicket implements hebao.Tx.
func (t *tx) CreateTicket(_ context.Context, tk hebao.Ticket) error {
	if err := t.write(); err != nil {
		return err
	}
	if tk.ID == "" || tk.CustomerID == "" || !tk.Category.Valid() || !tk.Status.Valid() {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a ticket needs an id, a customer, a category and a status")
	}
	if _, ok := t.d.customers[tk.CustomerID]; !ok {
		return notFound("customer")
	}
	d := t.tickets()
	if _, ok := d.tickets[tk.ID]; ok {
		return conflict("ticket")
	}
	d.tickets[tk.ID] = tk
	return nil
}

// Ticket implements hebao.Tx. Closures run one at a time: nothing to lock.
func (t *tx) Ticket(_ context.Context, id string) (hebao.Ticket, error) {
	if err := t.read(); err != nil {
		return hebao.Ticket{}, err
	}
	tk, ok := t.tickets().tickets[id]
	if !ok {
		return hebao.Ticket{}, notFound("ticket")
	}
	return tk, nil
}

// UpdateTicket implements hebao.Tx.
func (t *tx) UpdateTicket(_ context.Context, tk hebao.Ticket) error {
	if err := t.write(); err != nil {
		return err
	}
	d := t.tickets()
	old, ok := d.tickets[tk.ID]
	if !ok {
		return notFound("ticket")
	}
	if !tk.Status.Valid() {
		return hebao.Errorf(hebao.CodeInvalidRequest, "unknown ticket status %q", tk.Status)
	}
	old.Status, old.AssignedTo, old.Messages, old.UpdatedAt = tk.Status, tk.AssignedTo, tk.Messages, tk.UpdatedAt
	d.tickets[tk.ID] = old
	return nil
}

// AddTicketMessage implements hebao.Tx.
func (t *tx) AddTicketMessage(_ context.Context, m hebao.TicketMessage) error {
	if err := t.write(); err != nil {
		return err
	}
	if m.ID == "" || m.Seq < 1 || (m.Author != hebao.AuthorCustomer && m.Author != hebao.AuthorAgent) {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a ticket message needs an id, a sequence number and an author")
	}
	d := t.tickets()
	if _, ok := d.tickets[m.TicketID]; !ok {
		return notFound("ticket")
	}
	for _, other := range d.messages[m.TicketID] {
		if other.Seq == m.Seq || other.ID == m.ID {
			return conflict("ticket message")
		}
	}
	ms := append(d.messages[m.TicketID], m)
	slices.SortFunc(ms, func(a, b hebao.TicketMessage) int { return cmp.Compare(a.Seq, b.Seq) })
	d.messages[m.TicketID] = ms
	return nil
}

// TicketMessages implements hebao.Tx.
func (t *tx) TicketMessages(_ context.Context, ticketID string) ([]hebao.TicketMessage, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	return slices.Clone(t.tickets().messages[ticketID]), nil
}

// CustomerTickets implements hebao.Tx.
func (t *tx) CustomerTickets(_ context.Context, customerID, before string, limit int) ([]hebao.Ticket, error) {
	if err := t.read(); err != nil || limit <= 0 {
		return nil, err
	}
	var out []hebao.Ticket
	for _, tk := range t.tickets().tickets {
		if tk.CustomerID == customerID && (before == "" || tk.ID < before) {
			out = append(out, tk)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Ticket) int { return cmp.Compare(b.ID, a.ID) })
	return out[:min(len(out), limit)], nil
}

// TicketQueue implements hebao.Tx.
func (t *tx) TicketQueue(_ context.Context, status hebao.TicketStatus, after string, limit int) ([]hebao.Ticket, error) {
	if err := t.read(); err != nil || limit <= 0 {
		return nil, err
	}
	var out []hebao.Ticket
	for _, tk := range t.tickets().tickets {
		if tk.Status == status && tk.ID > after {
			out = append(out, tk)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Ticket) int { return cmp.Compare(a.ID, b.ID) })
	return out[:min(len(out), limit)], nil
}
