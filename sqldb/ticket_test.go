package sqldb

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// staffMember stores a staff account with role and returns it.
func staffMember(t *testing.T, db *DB, username string, role hebao.StaffRole) hebao.Staff {
	t.Helper()
	st := hebao.Staff{ID: hebao.NewID("stf"), Username: username, PasswordHash: "$argon2id$x", Role: role}
	transact(t, db, func(tx hebao.Tx) error { st.CreatedAt = tx.Now(); return tx.CreateStaff(context.Background(), st) })
	return st
}

// ticketRows counts what tickets wrote: tickets, messages, their outbox events and
// the agents' audit records.
func ticketRows(t *testing.T, db *DB) [4]int64 {
	t.Helper()
	return [4]int64{
		rawInt(t, db, `SELECT COUNT(*) FROM tickets`),
		rawInt(t, db, `SELECT COUNT(*) FROM ticket_messages`),
		rawInt(t, db, `SELECT COUNT(*) FROM outbox WHERE kind = ?`, hebao.EventTicketMessage),
		rawInt(t, db, `SELECT COUNT(*) FROM audit_log WHERE action LIKE 'ticket.%'`),
	}
}

// threadLines is a thread as "seq author body" lines.
func threadLines(th hebao.TicketThread) []string {
	var out []string
	for _, m := range th.Messages {
		out = append(out, fmt.Sprintf("%d %s %s", m.Seq, m.Author, m.Body))
	}
	return out
}

// TestTicketLifecycle follows a ticket on the real databases: a customer asks why a
// top-up failed, opens a ticket about one of their transactions, an agent replies
// and is assigned, an admin takes it over, the agent resolves it and the customer
// reopens it. Another customer gets not_found for all of it.
func TestTicketLifecycle(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		ctx := context.Background()
		svc := &hebao.TicketService{Store: w.db}
		alice := w.customer("13800000001", 3, 10_000)
		bob := w.customer("13800000002", 3, 0)
		agent := staffMember(t, w.db, "agent1", hebao.RoleAgent)
		admin := staffMember(t, w.db, "admin1", hebao.RoleAdmin)

		r, err := w.transfers.Send(ctx, transferRequest(alice, "13800000002", 2_500, "k1"))
		if err != nil {
			t.Fatal(err)
		}
		paid := movementID(t, r)
		// Nothing failed yet: the transfer succeeded on both sides.
		for _, c := range []hebao.Registered{alice, bob} {
			if d, err := svc.Diagnose(ctx, c.Customer.ID); err != nil || d.Movement != nil || d.Category() != hebao.TicketOther {
				t.Fatalf("diagnosis of %s before anything failed: %+v, %v", c.Customer.Phone, d, err)
			}
		}
		// A top-up from a card the bank declines fails; a later transfer does not
		// hide it.
		r, err = w.topup(alice, w.card(alice.Customer.ID, "0002"), 1_000, "t1")
		if err != nil {
			t.Fatal(err)
		}
		failed := movementID(t, r)
		if m := w.waitMovement(alice.Wallet.ID, failed, 3*time.Second); m.Status != hebao.MovementFailed {
			t.Fatalf("top-up from a declined card: %+v", m)
		}
		if _, err := w.transfers.Send(ctx, transferRequest(alice, "13800000002", 100, "k2")); err != nil {
			t.Fatal(err)
		}
		d, err := svc.Diagnose(ctx, alice.Customer.ID)
		if err != nil || d.Movement == nil || d.Movement.ID != failed || d.Failure.Code != hebao.CodeCardDeclined || d.Category() != hebao.TicketPaymentFailed {
			t.Fatalf("diagnosis: %+v, %v", d, err)
		}

		th, err := svc.Open(ctx, alice.Customer.ID, hebao.TicketRequest{Category: hebao.TicketPaymentFailed, Subject: " 转账问题 ",
			Message: "转给朋友的钱\r\n他说没收到", TransactionID: paid})
		if err != nil {
			t.Fatal(err)
		}
		id := th.Ticket.ID
		if th.Ticket.Status != hebao.TicketOpen || th.Ticket.Subject != "转账问题" || th.Ticket.Messages != 1 || th.Ticket.TransactionID != paid {
			t.Fatalf("opened: %+v", th.Ticket)
		}
		// Bob cannot cite Alice's transaction, read or write her ticket.
		if _, err := svc.Open(ctx, bob.Customer.ID, hebao.TicketRequest{Category: hebao.TicketDelayed, Subject: "x", Message: "y", TransactionID: paid}); hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("bob cites alice's transaction: %v, want not_found", err)
		}
		if _, err := svc.Get(ctx, bob.Customer.ID, id); hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("bob reads alice's ticket: %v, want not_found", err)
		}
		if _, err := svc.Write(ctx, bob.Customer.ID, id, "hi"); hebao.ErrorCode(err) != hebao.CodeNotFound {
			t.Errorf("bob writes to alice's ticket: %v, want not_found", err)
		}
		if p, err := svc.List(ctx, bob.Customer.ID, "", 20); err != nil || len(p.Tickets) != 0 {
			t.Errorf("bob's tickets: %+v, %v", p, err)
		}

		queue := func(status hebao.TicketStatus) []string {
			t.Helper()
			p, err := svc.Queue(ctx, status, "", 20)
			if err != nil {
				t.Fatal(err)
			}
			ids := []string{}
			for _, tk := range p.Tickets {
				ids = append(ids, tk.ID)
			}
			return ids
		}
		if q := queue(hebao.TicketOpen); !slices.Equal(q, []string{id}) {
			t.Fatalf("open queue: %v", q)
		}
		at, err := svc.Reply(ctx, agent, id, "我们查一下")
		if err != nil {
			t.Fatal(err)
		}
		if at.Ticket.Status != hebao.TicketAnswered || at.Ticket.AssignedTo != agent.ID || at.CustomerPhone != "138****0001" || len(at.Messages) != 2 {
			t.Fatalf("answered: %+v", at)
		}
		if q := queue(hebao.TicketOpen); len(q) != 0 {
			t.Errorf("open queue after the answer: %v", q)
		}
		if at, err = svc.Assign(ctx, admin, id); err != nil || at.Ticket.AssignedTo != admin.ID {
			t.Fatalf("admin takes it: %+v, %v", at.Ticket, err)
		}
		if at, err = svc.Resolve(ctx, agent, id); err != nil || at.Ticket.Status != hebao.TicketResolved {
			t.Fatalf("resolve: %+v, %v", at.Ticket, err)
		}
		if _, err := svc.Resolve(ctx, agent, id); hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Errorf("resolve again: %v, want conflict", err)
		}
		if q := queue(hebao.TicketResolved); !slices.Equal(q, []string{id}) {
			t.Errorf("resolved queue: %v", q)
		}
		if th, err = svc.Write(ctx, alice.Customer.ID, id, "还是没收到"); err != nil || th.Ticket.Status != hebao.TicketOpen {
			t.Fatalf("alice writes again: %+v, %v", th.Ticket, err)
		}

		th, err = svc.Get(ctx, alice.Customer.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		want := []string{"1 customer 转给朋友的钱\n他说没收到", "2 agent 我们查一下", "3 customer 还是没收到"}
		if d := cmp.Diff(want, threadLines(th)); d != "" || th.Ticket.Messages != 3 || th.Ticket.AssignedTo != admin.ID {
			t.Errorf("thread (-want +got):\n%s\n%+v", d, th.Ticket)
		}
		if th.Messages[1].AuthorID != agent.ID || !th.Ticket.UpdatedAt.Equal(th.Messages[2].CreatedAt) {
			t.Errorf("thread: %+v", th)
		}
		if p, err := svc.List(ctx, alice.Customer.ID, "", 20); err != nil || len(p.Tickets) != 1 || p.Tickets[0].ID != id || p.Next != "" {
			t.Errorf("alice's tickets: %+v, %v", p, err)
		}
		if got := ticketRows(t, w.db); got != [4]int64{1, 3, 3, 3} {
			t.Errorf("tickets, messages, events, audit records = %v, want [1 3 3 3]", got)
		}
		for _, action := range []string{hebao.ActionTicketReply, hebao.ActionTicketAssign, hebao.ActionTicketResolve} {
			if n := rawInt(t, w.db, `SELECT COUNT(*) FROM audit_log WHERE action = ? AND subject = ?`, action, alice.Customer.ID); n != 1 {
				t.Errorf("%d audit records of %s, want 1", n, action)
			}
		}
		mustVerify(t, w.db)
	})
}

// TestTicketBadInputsLeaveNothing sends every kind of refused request and checks
// that none of them wrote a ticket, a message, an event or an audit record.
func TestTicketBadInputsLeaveNothing(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		ctx := context.Background()
		svc := &hebao.TicketService{Store: w.db}
		alice := w.customer("13800000001", 3, 0)
		bob := w.customer("13800000002", 3, 0)
		agent := staffMember(t, w.db, "agent1", hebao.RoleAgent)
		th, err := svc.Open(ctx, alice.Customer.ID, hebao.TicketRequest{Category: hebao.TicketCard, Subject: "卡", Message: "绑不上"})
		if err != nil {
			t.Fatal(err)
		}
		id := th.Ticket.ID
		if _, err := svc.Resolve(ctx, agent, id); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Assign(ctx, agent, id); err != nil {
			t.Fatal(err)
		}
		before := ticketRows(t, w.db)

		ok := hebao.TicketRequest{Category: hebao.TicketOther, Subject: "s", Message: "m"}
		with := func(f func(*hebao.TicketRequest)) hebao.TicketRequest { r := ok; f(&r); return r }
		for name, tc := range map[string]struct {
			call func() error
			code string
		}{
			"unknown category": {func() error {
				_, err := svc.Open(ctx, alice.Customer.ID, with(func(r *hebao.TicketRequest) { r.Category = "refund" }))
				return err
			}, "invalid_request"},
			"empty subject": {func() error {
				_, err := svc.Open(ctx, alice.Customer.ID, with(func(r *hebao.TicketRequest) { r.Subject = "   " }))
				return err
			}, "invalid_request"},
			"long subject": {func() error {
				_, err := svc.Open(ctx, alice.Customer.ID, with(func(r *hebao.TicketRequest) { r.Subject = strings.Repeat("字", 101) }))
				return err
			}, "invalid_request"},
			"two-line subject": {func() error {
				_, err := svc.Open(ctx, alice.Customer.ID, with(func(r *hebao.TicketRequest) { r.Subject = "a\nb" }))
				return err
			}, "invalid_request"},
			"long message": {func() error {
				_, err := svc.Open(ctx, alice.Customer.ID, with(func(r *hebao.TicketRequest) { r.Message = strings.Repeat("字", 2001) }))
				return err
			}, "invalid_request"},
			"control character": {func() error {
				_, err := svc.Open(ctx, alice.Customer.ID, with(func(r *hebao.TicketRequest) { r.Message = "a\x00b" }))
				return err
			}, "invalid_request"},
			"reordering": {func() error {
				_, err := svc.Open(ctx, alice.Customer.ID, with(func(r *hebao.TicketRequest) { r.Message = "a\u202eb" }))
				return err
			}, "invalid_request"},
			"bad utf-8": {func() error {
				_, err := svc.Open(ctx, alice.Customer.ID, with(func(r *hebao.TicketRequest) { r.Message = "a\xffb" }))
				return err
			}, "invalid_request"},
			"bad transaction": {func() error {
				_, err := svc.Open(ctx, alice.Customer.ID, with(func(r *hebao.TicketRequest) { r.TransactionID = "mov_1" }))
				return err
			}, "invalid_request"},
			"unknown transaction": {func() error {
				_, err := svc.Open(ctx, alice.Customer.ID, with(func(r *hebao.TicketRequest) { r.TransactionID = hebao.NewID("mov") }))
				return err
			}, "not_found"},
			"another's ticket":  {func() error { _, err := svc.Write(ctx, bob.Customer.ID, id, "hi"); return err }, "not_found"},
			"unknown ticket":    {func() error { _, err := svc.Write(ctx, alice.Customer.ID, hebao.NewID("tkt"), "hi"); return err }, "not_found"},
			"bad ticket id":     {func() error { _, err := svc.Get(ctx, alice.Customer.ID, "tkt_x"); return err }, "invalid_request"},
			"empty message":     {func() error { _, err := svc.Write(ctx, alice.Customer.ID, id, "\n \n"); return err }, "invalid_request"},
			"empty reply":       {func() error { _, err := svc.Reply(ctx, agent, id, ""); return err }, "invalid_request"},
			"reply to unknown":  {func() error { _, err := svc.Reply(ctx, agent, hebao.NewID("tkt"), "hi"); return err }, "not_found"},
			"assign unknown":    {func() error { _, err := svc.Assign(ctx, agent, hebao.NewID("tkt")); return err }, "not_found"},
			"resolve resolved":  {func() error { _, err := svc.Resolve(ctx, agent, id); return err }, "conflict"},
			"queue, bad status": {func() error { _, err := svc.Queue(ctx, "closed", "", 20); return err }, "invalid_request"},
			"list, bad cursor":  {func() error { _, err := svc.List(ctx, alice.Customer.ID, "x", 20); return err }, "invalid_request"},
			"list, bad limit":   {func() error { _, err := svc.List(ctx, alice.Customer.ID, "", 101); return err }, "invalid_request"},
		} {
			if got := hebao.ErrorCode(tc.call()); got != tc.code {
				t.Errorf("%s: %q, want %s", name, got, tc.code)
			}
		}
		// Assigning a ticket to the agent who has it already changes nothing either.
		if at, err := svc.Assign(ctx, agent, id); err != nil || at.Ticket.AssignedTo != agent.ID {
			t.Fatalf("assign again: %+v, %v", at.Ticket, err)
		}
		if got := ticketRows(t, w.db); got != before {
			t.Errorf("after refused requests: tickets, messages, events, audit records = %v, want %v", got, before)
		}
		// A full ticket takes no more messages, from either side.
		if _, err := rawExec(t, w.db, `UPDATE tickets SET messages = ? WHERE id = ?`, hebao.MaxTicketMessages, id); err != nil {
			t.Fatal(err)
		}
		if _, err := svc.Write(ctx, alice.Customer.ID, id, "one more"); hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Errorf("write to a full ticket: %v, want conflict", err)
		}
		if _, err := svc.Reply(ctx, agent, id, "one more"); hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Errorf("reply to a full ticket: %v, want conflict", err)
		}
		if got := ticketRows(t, w.db); got != before {
			t.Errorf("after writing to a full ticket: %v, want %v", got, before)
		}
		mustVerify(t, w.db)
	})
}

// TestTicketConcurrentMessages writes 20 messages to one ticket at once, half by
// the customer and half by an agent, through two handles of one database (two
// processes): every message is kept, numbered 1 to 21 without a gap or a repeat,
// each announced once.
func TestTicketConcurrentMessages(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		dbs := []*DB{open(t), open(t)}
		w := newWorld(t, dbs[0], nil)
		ctx := context.Background()
		alice := w.customer("13800000001", 3, 0)
		agent := staffMember(t, dbs[0], "agent1", hebao.RoleAgent)
		th, err := (&hebao.TicketService{Store: dbs[0]}).Open(ctx, alice.Customer.ID, hebao.TicketRequest{Category: hebao.TicketOther, Subject: "s", Message: "first"})
		if err != nil {
			t.Fatal(err)
		}
		id := th.Ticket.ID
		const n = 20
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			svc := &hebao.TicketService{Store: dbs[i%2]}
			body := fmt.Sprintf("message %02d", i)
			wg.Go(func() {
				if i%4 < 2 {
					_, errs[i] = svc.Write(ctx, alice.Customer.ID, id, body)
				} else {
					_, errs[i] = svc.Reply(ctx, agent, id, body)
				}
			})
		}
		wg.Wait()
		if d := cmp.Diff(map[string]int{"": n}, codeCounts(errs)); d != "" {
			t.Fatalf("outcomes (-want +got):\n%s\n%v", d, errs)
		}
		th, err = (&hebao.TicketService{Store: dbs[1]}).Get(ctx, alice.Customer.ID, id)
		if err != nil {
			t.Fatal(err)
		}
		if th.Ticket.Messages != n+1 || len(th.Messages) != n+1 || th.Ticket.AssignedTo != agent.ID {
			t.Fatalf("ticket %+v with %d messages", th.Ticket, len(th.Messages))
		}
		bodies := map[string]bool{}
		for i, m := range th.Messages {
			if m.Seq != i+1 {
				t.Errorf("message %d has seq %d", i, m.Seq)
			}
			if i > 0 && m.CreatedAt.Before(th.Messages[0].CreatedAt) {
				t.Errorf("message %d is older than the first", m.Seq)
			}
			bodies[m.Body] = true
		}
		for i := range n {
			if !bodies[fmt.Sprintf("message %02d", i)] {
				t.Errorf("message %02d is missing", i)
			}
		}
		// The last message decides the status.
		wantStatus := hebao.TicketOpen
		if th.Messages[n].Author == hebao.AuthorAgent {
			wantStatus = hebao.TicketAnswered
		}
		if th.Ticket.Status != wantStatus {
			t.Errorf("status %s after a last message by the %s", th.Ticket.Status, th.Messages[n].Author)
		}
		if got := ticketRows(t, dbs[0]); got != [4]int64{1, n + 1, n + 1, n / 2} {
			t.Errorf("tickets, messages, events, audit records = %v, want [1 %d %d %d]", got, n+1, n+1, n/2)
		}
		mustVerify(t, dbs[0])
	})
}
