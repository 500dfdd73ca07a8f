package http

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/notify"
)

// withTickets adds customer service to m's configuration and server.
func (m *money) withTickets(t *testing.T) {
	t.Helper()
	m.cfg.Tickets = &hebao.TicketService{Store: m.store, Now: m.clock.Now, Committed: m.disp.Wake}
	m.s = newTestServer(t, m.cfg)
}

// thread is a ticket with its thread as either side reads it.
type thread struct {
	ID            string  `json:"id"`
	Category      string  `json:"category"`
	Subject       string  `json:"subject"`
	Status        string  `json:"status"`
	TransactionID *string `json:"transaction_id"`
	MessageCount  int     `json:"message_count"`
	CustomerID    string  `json:"customer_id"`
	AssignedTo    *string `json:"assigned_to"`
	Customer      *struct {
		ID    string `json:"id"`
		Phone string `json:"phone"`
	} `json:"customer"`
	Messages []struct {
		Seq      int    `json:"seq"`
		Author   string `json:"author"`
		AuthorID string `json:"author_id"`
		Body     string `json:"body"`
	} `json:"messages"`
}

// ticketCall sends a request with token and decodes the thread it answers when
// the status is want; any other status fails the test.
func (m *money) ticketCall(t *testing.T, method, target, token, b string, want int) thread {
	t.Helper()
	h := bearerHeader(token)
	if b != "" {
		h = authJSON(token)
	}
	rec := m.s.do(t, method, target, h, b)
	if rec.Code != want {
		t.Fatalf("%s %s: %d %s, want %d", method, target, rec.Code, rec.Body, want)
	}
	var th thread
	if rec.Code < 300 {
		if err := json.Unmarshal(rec.Body.Bytes(), &th); err != nil {
			t.Fatal(err)
		}
		if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s %s: Cache-Control %q, want no-store", method, target, cc)
		}
	}
	return th
}

// queue is the ids in an agent's queue of the status.
func (m *money) queue(t *testing.T, token, status string) []string {
	t.Helper()
	rec := m.s.do(t, "GET", "/v1/agent/tickets?status="+status, bearerHeader(token), "")
	var page struct{ Items []thread }
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
		t.Fatalf("queue %s: %d %s", status, rec.Code, rec.Body)
	}
	ids := []string{}
	for _, it := range page.Items {
		ids = append(ids, it.ID)
	}
	return ids
}

// diagnosisOf is GET /v1/help/diagnosis for token.
func (m *money) diagnosisOf(t *testing.T, token string) (*txn, string) {
	t.Helper()
	rec := m.s.do(t, "GET", "/v1/help/diagnosis", bearerHeader(token), "")
	var d struct {
		Transaction       *txn   `json:"transaction"`
		SuggestedCategory string `json:"suggested_category"`
	}
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &d) != nil {
		t.Fatalf("diagnosis: %d %s", rec.Code, rec.Body)
	}
	return d.Transaction, d.SuggestedCategory
}

// TestTickets follows a ticket through both sides: a customer whose top-up failed
// asks why, opens a ticket about it, an agent answers (the customer is notified
// live), an admin takes it over, the agent resolves it, and the customer's next
// message opens it again. Another customer sees none of it.
func TestTickets(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withTickets(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	bob := m.register(t, "13700137000", "dev-b")

	// Nothing failed yet.
	if tx, cat := m.diagnosisOf(t, alice.Token); tx != nil || cat != "other" {
		t.Fatalf("diagnosis before anything failed: %+v, %q", tx, cat)
	}
	// A top-up from a card the bank declines.
	rec := m.s.do(t, "POST", "/v1/cards", authJSON(alice.Token), bindBody(cardDeclined, "张三", m.code(t, "13800138000", hebao.PurposeBindCard)))
	var declined struct{ ID string }
	if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &declined) != nil {
		t.Fatalf("bind the declined card: %d %s", rec.Code, rec.Body)
	}
	status, top := answer(t, m.post(t, alice.Token, "/v1/topups", "tk-top-1", body(map[string]any{"card_id": declined.ID, "amount": 500})))
	if status != 202 {
		t.Fatalf("top-up: %d", status)
	}
	if got := m.settle(t, alice.Token, "/v1/topups/"+top.ID); got.Status != "failed" {
		t.Fatalf("top-up from a declined card: %+v", got)
	}
	m.fund(t, alice, 1_000) // a later success does not hide the failure
	tx, cat := m.diagnosisOf(t, alice.Token)
	want, _ := hebao.Explain(hebao.CodeCardDeclined)
	if tx == nil || tx.ID != top.ID || tx.Failure == nil || tx.Failure.Code != "card_declined" || tx.Failure.NextStep != want.NextStep || cat != "payment_failed" {
		t.Fatalf("diagnosis: %+v %+v, %q", tx, tx.Failure, cat)
	}
	if tx, cat := m.diagnosisOf(t, bob.Token); tx != nil || cat != "other" {
		t.Errorf("bob's diagnosis: %+v, %q", tx, cat)
	}

	// Alice opens a ticket about it.
	open := body(map[string]string{"category": cat, "subject": "  充值失败  ", "message": "为什么失败了？\r\n卡里有钱", "transaction_id": tx.ID})
	th := m.ticketCall(t, "POST", "/v1/tickets", alice.Token, open, 201)
	if th.Status != "open" || th.Subject != "充值失败" || th.TransactionID == nil || *th.TransactionID != top.ID || th.MessageCount != 1 ||
		len(th.Messages) != 1 || th.Messages[0].Body != "为什么失败了？\n卡里有钱" || th.Messages[0].Author != "customer" || th.Messages[0].AuthorID != "" {
		t.Fatalf("opened: %+v", th)
	}
	id := th.ID
	if !hebao.ValidID("tkt", id) {
		t.Fatalf("ticket id %q", id)
	}
	// Bob cannot see, write to or cite Alice's things.
	m.ticketCall(t, "GET", "/v1/tickets/"+id, bob.Token, "", 404)
	m.ticketCall(t, "POST", "/v1/tickets/"+id+"/messages", bob.Token, `{"message": "hi"}`, 404)
	m.ticketCall(t, "POST", "/v1/tickets", bob.Token, body(map[string]string{"category": "delayed", "subject": "x", "message": "y", "transaction_id": top.ID}), 404)
	rec = m.s.do(t, "GET", "/v1/tickets", bearerHeader(bob.Token), "")
	if rec.Code != 200 || rec.Body.String() != `{"items":[],"next_cursor":null}`+"\n" {
		t.Errorf("bob's tickets: %d %s", rec.Code, rec.Body)
	}

	// The agent finds it at the head of the queue, unassigned, and answers.
	if q := m.queue(t, m.agent, "open"); len(q) != 1 || q[0] != id {
		t.Fatalf("open queue: %v", q)
	}
	ch, cancel := m.hub.Subscribe(alice.Customer.ID)
	defer cancel()
	th = m.ticketCall(t, "POST", "/v1/agent/tickets/"+id+"/messages", m.agent, `{"message": "银行拒绝了这张卡，请联系银行。"}`, 201)
	if th.Status != "answered" || th.AssignedTo == nil || len(th.Messages) != 2 || th.Messages[1].Author != "agent" ||
		th.Messages[1].AuthorID != *th.AssignedTo || th.Messages[0].AuthorID != alice.Customer.ID {
		t.Fatalf("answered: %+v", th)
	}
	agentID := *th.AssignedTo
	if th.Customer == nil || th.Customer.ID != alice.Customer.ID || th.Customer.Phone != "138****8000" {
		t.Errorf("the agent sees the customer as %+v", th.Customer)
	}
	if _, err := m.disp.DispatchOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var pushed []hebao.Notification
	for len(ch) > 0 {
		if n := <-ch; n.Kind == notify.NotificationTicketAnswered {
			pushed = append(pushed, n)
		}
	}
	if len(pushed) != 1 || pushed[0].TransactionID != id || pushed[0].Title != "Customer service replied to your ticket" {
		t.Errorf("pushed to alice: %+v", pushed)
	}
	if rec := m.s.do(t, "GET", "/v1/notifications", bearerHeader(alice.Token), ""); !strings.Contains(rec.Body.String(), `"kind":"ticket.answered"`) {
		t.Errorf("alice's inbox: %s", rec.Body)
	}
	if q := m.queue(t, m.agent, "open"); len(q) != 0 {
		t.Errorf("open queue after the answer: %v", q)
	}
	if q := m.queue(t, m.agent, "answered"); len(q) != 1 || q[0] != id {
		t.Errorf("answered queue: %v", q)
	}

	// The admin takes it over; the agent resolves it, once.
	th = m.ticketCall(t, "POST", "/v1/agent/tickets/"+id+"/assign", m.admin, "", 200)
	if th.AssignedTo == nil || *th.AssignedTo == agentID {
		t.Errorf("after the admin took it: assigned to %v", th.AssignedTo)
	}
	adminID := *th.AssignedTo
	m.ticketCall(t, "POST", "/v1/agent/tickets/"+id+"/assign", m.admin, "", 200) // already theirs: nothing audited
	if th = m.ticketCall(t, "POST", "/v1/agent/tickets/"+id+"/resolve", m.agent, "", 200); th.Status != "resolved" {
		t.Errorf("resolved: %+v", th)
	}
	m.ticketCall(t, "POST", "/v1/agent/tickets/"+id+"/resolve", m.agent, "", 409)

	// Alice writes again: the ticket is open again, the thread in order.
	m.ticketCall(t, "POST", "/v1/tickets/"+id+"/messages", alice.Token, `{"message": "还是不行"}`, 201)
	th = m.ticketCall(t, "GET", "/v1/tickets/"+id, alice.Token, "", 200)
	type line struct {
		Seq                    int
		Author, AuthorID, Body string
	}
	var got []line
	for _, msg := range th.Messages {
		got = append(got, line{msg.Seq, msg.Author, msg.AuthorID, msg.Body})
	}
	wantLines := []line{{1, "customer", "", "为什么失败了？\n卡里有钱"}, {2, "agent", "", "银行拒绝了这张卡，请联系银行。"}, {3, "customer", "", "还是不行"}}
	if d := cmp.Diff(wantLines, got); d != "" || th.Status != "open" || th.MessageCount != 3 || th.AssignedTo != nil || th.Customer != nil {
		t.Errorf("alice's thread (-want +got):\n%s\n%+v", d, th)
	}
	if q := m.queue(t, m.agent, "open"); len(q) != 1 || q[0] != id {
		t.Errorf("open queue after alice wrote again: %v", q)
	}

	// Every agent action is audited, with who and what, never the message.
	var audited []string
	for _, r := range m.store.Audit() {
		if !strings.HasPrefix(r.Action, "ticket.") {
			continue
		}
		audited = append(audited, r.Action+" "+r.Actor.ID+" "+r.Detail["status"]+" "+r.Detail["assigned_from"])
		if r.Subject != alice.Customer.ID || r.Detail["ticket_id"] != id || r.RequestID == "" {
			t.Errorf("audit record %+v", r)
		}
	}
	wantAudit := []string{"ticket.reply " + agentID + " answered ", "ticket.assign " + adminID + "  " + agentID, "ticket.resolve " + agentID + " resolved "}
	if d := cmp.Diff(wantAudit, audited); d != "" {
		t.Errorf("audit (-want +got):\n%s", d)
	}
	if strings.Contains(m.s.logs.String(), "13800138000") {
		t.Error("a full phone number is in the logs")
	}
}

// TestTicketsBadInput checks that refused requests leave nothing behind.
func TestTicketsBadInput(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withTickets(t)
	alice := m.register(t, "13800138000", "dev-a")
	for _, b := range []string{
		`{"category": "other", "subject": "", "message": "x"}`,
		`{"category": "other", "subject": "x\ny", "message": "x"}`,
		`{"category": "other", "subject": "x", "message": "\u202eevil"}`,
		`{"category": "other", "subject": "x", "message": "` + strings.Repeat("a", 2001) + `"}`,
		`{"category": "Other", "subject": "x", "message": "x"}`,
		`{"category": "other", "subject": "x", "message": "x", "transaction_id": "` + hebao.NewID("mov") + `"}`,
	} {
		if rec := m.s.do(t, "POST", "/v1/tickets", authJSON(alice.Token), b); rec.Code != 400 && rec.Code != 404 {
			t.Errorf("POST /v1/tickets %.60s: %d %s", b, rec.Code, rec.Body)
		}
	}
	if rec := m.s.do(t, "GET", "/v1/tickets", bearerHeader(alice.Token), ""); rec.Body.String() != `{"items":[],"next_cursor":null}`+"\n" {
		t.Errorf("tickets after bad requests: %s", rec.Body)
	}
	if q := m.queue(t, m.agent, "open"); len(q) != 0 {
		t.Errorf("queue after bad requests: %v", q)
	}
}

// TestTicketPages pages through a customer's tickets newest first and the queue
// oldest first.
func TestTicketPages(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withTickets(t)
	alice := m.register(t, "13800138000", "dev-a")
	var ids []string
	for i := range 5 {
		th := m.ticketCall(t, "POST", "/v1/tickets", alice.Token, body(map[string]string{"category": "other", "subject": "第" + string(rune('1'+i)) + "个", "message": "x"}), 201)
		ids = append(ids, th.ID)
	}
	walk := func(target, token string) []string {
		var out []string
		cursor := ""
		for range 10 {
			rec := m.s.do(t, "GET", target+"limit=2&cursor="+cursor, bearerHeader(token), "")
			var page struct {
				Items      []thread
				NextCursor *string `json:"next_cursor"`
			}
			if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &page) != nil {
				t.Fatalf("%s: %d %s", target, rec.Code, rec.Body)
			}
			for _, it := range page.Items {
				out = append(out, it.ID)
			}
			if page.NextCursor == nil {
				return out
			}
			cursor = *page.NextCursor
		}
		t.Fatalf("%s: more than 10 pages", target)
		return nil
	}
	newest := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if d := cmp.Diff(newest, walk("/v1/tickets?", alice.Token)); d != "" {
		t.Errorf("customer's pages (-want +got):\n%s", d)
	}
	if d := cmp.Diff(ids, walk("/v1/agent/tickets?status=open&", m.agent)); d != "" {
		t.Errorf("queue pages (-want +got):\n%s", d)
	}
}
