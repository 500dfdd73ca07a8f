package notify_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/notify"
)

func ticketEvent(t *testing.T, id string, author hebao.AuthorKind) hebao.Event {
	t.Helper()
	b, err := json.Marshal(hebao.TicketMessageEvent{TicketID: "tkt_06f8w3y0abcdefghjkmnpqrstv", CustomerID: "cus_1",
		MessageID: "tkm_06f8w3y0abcdefghjkmnpqrstv", Author: author, Status: hebao.TicketAnswered,
		At: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)})
	if err != nil {
		t.Fatal(err)
	}
	return hebao.Event{ID: id, Kind: hebao.EventTicketMessage, Payload: b}
}

func TestFromEventTicketMessage(t *testing.T) {
	got, ok, err := notify.FromEvent(ticketEvent(t, "evt_06f8w3y0abcdefghjkmnpqrstw", hebao.AuthorAgent))
	if err != nil || !ok {
		t.Fatalf("FromEvent of an agent's reply: %v, %v", ok, err)
	}
	want := hebao.Notification{ID: "ntf_06f8w3y0abcdefghjkmnpqrstw", CustomerID: "cus_1", Kind: "ticket.answered",
		Title: "Customer service replied to your ticket", TransactionID: "tkt_06f8w3y0abcdefghjkmnpqrstv",
		CreatedAt: time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("FromEvent (-want +got):\n%s", diff)
	}
	// The customer's own messages are for the agents' queue: no notification.
	if _, ok, err := notify.FromEvent(ticketEvent(t, "evt_x", hebao.AuthorCustomer)); ok || err != nil {
		t.Errorf("FromEvent of a customer's message: %v, %v; want false and no error", ok, err)
	}
	for _, bad := range []string{`{`, `{"ticket_id": "tkt_1", "author": "agent"}`, `{"customer_id": "cus_1", "author": "agent"}`, `{"customer_id": "cus_1", "ticket_id": "tkt_1"}`} {
		if _, ok, err := notify.FromEvent(hebao.Event{ID: "evt_x", Kind: hebao.EventTicketMessage, Payload: []byte(bad)}); ok || err == nil {
			t.Errorf("FromEvent of %s: %v, %v; want false and an error", bad, ok, err)
		}
	}
}

// TestDispatchTicketReply checks that an agent's reply reaches the customer's inbox
// and open apps once, never as an SMS, and that the customer's own message is
// delivered without a notification.
func TestDispatchTicketReply(t *testing.T) {
	ctx := context.Background()
	s := newStore(t, 0) // an SMS for every movement: still none for a ticket
	hub := notify.NewHub()
	texts := &smsLog{}
	d := &notify.Dispatcher{Store: s, Hub: hub, SMS: texts}
	ch, cancel := hub.Subscribe("cus_1")
	defer cancel()
	reply := ticketEvent(t, hebao.NewID("evt"), hebao.AuthorAgent)
	own := ticketEvent(t, hebao.NewID("evt"), hebao.AuthorCustomer)
	if err := s.Transact(ctx, func(tx hebao.Tx) error {
		if err := tx.Emit(ctx, own); err != nil {
			return err
		}
		return tx.Emit(ctx, reply)
	}); err != nil {
		t.Fatal(err)
	}
	for i, want := range []int{2, 0} {
		if n, err := d.DispatchOnce(ctx); err != nil || n != want {
			t.Fatalf("round %d: DispatchOnce = %d, %v; want %d", i, n, err, want)
		}
	}
	got := inbox(t, s)
	if len(got) != 1 || got[0].Kind != notify.NotificationTicketAnswered || got[0].TransactionID != "tkt_06f8w3y0abcdefghjkmnpqrstv" {
		t.Fatalf("inbox: %+v", got)
	}
	select {
	case n := <-ch:
		if n != got[0] {
			t.Errorf("published %+v, stored %+v", n, got[0])
		}
	default:
		t.Error("nothing published to the customer")
	}
	if len(ch) != 0 {
		t.Errorf("%d more notifications published", len(ch))
	}
	if n := len(texts.all()); n != 0 {
		t.Errorf("%d SMS sent about a ticket, want 0", n)
	}
}
