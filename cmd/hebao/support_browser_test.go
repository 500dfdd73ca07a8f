package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowserCustomerAsksForHelp: a top-up from a card the bank refuses fails; in
// the app's help the customer sees why (GET /v1/help/diagnosis), opens a ticket
// about that top-up in one step (the form first refuses an empty description, as
// the API would), and sees customer service's reply arrive in the open thread
// without reloading, and in the inbox.
func TestBrowserCustomerAsksForHelp(t *testing.T) {
	srv, dev := startStaffServer(t)
	// A real-named customer whose only card the sandbox bank refuses (numbers
	// ending 0002).
	phone := newPhone()
	if st := apiJSON(t, srv, "POST", "/v1/otp", "", "", map[string]string{"phone": phone, "purpose": "register"}, nil); st != 202 {
		t.Fatalf("register code: %d", st)
	}
	var reg struct{ Token string }
	if st := apiJSON(t, srv, "POST", "/v1/customers", "", "", map[string]string{"phone": phone, "otp": devCode(t, srv, phone),
		"password": "my secret 8", "device_id": "customer-phone"}, &reg); st != 201 {
		t.Fatalf("register: %d", st)
	}
	token := reg.Token
	if st := apiJSON(t, srv, "POST", "/v1/wallet/real-name", token, "", map[string]string{"name": "张三", "id_number": "11010519491231002X"}, nil); st != 200 {
		t.Fatalf("real name: %d", st)
	}
	apiJSON(t, srv, "POST", "/v1/otp", "", "", map[string]string{"phone": phone, "purpose": "bind_card"}, nil)
	var card struct{ ID string }
	if st := apiJSON(t, srv, "POST", "/v1/cards", token, "", map[string]string{"card_number": "6222026000020002", "holder_name": "张三",
		"otp": devCode(t, srv, phone)}, &card); st != 201 {
		t.Fatalf("bind the refused card: %d", st)
	}
	var top struct{ ID, Status, TransactionID string }
	if st := apiJSON(t, srv, "POST", "/v1/topups", token, "refused-topup", map[string]any{"card_id": card.ID, "amount": 20000}, &top); st != 202 {
		t.Fatalf("top-up: %d", st)
	}
	for i := 0; top.Status == "pending" && i < 100; i++ {
		time.Sleep(100 * time.Millisecond)
		apiJSON(t, srv, "GET", "/v1/topups/"+top.ID, token, "", nil, &top)
	}
	if top.Status != "failed" {
		t.Fatalf("the refused top-up is %s", top.Status)
	}

	b := newBrowser(t, srv)
	b.signIn(phone, "my secret 8")
	b.visit("help")
	b.waitFor("#diagnosis-ticket")
	if got := b.text("#diagnosis"); !strings.Contains(got, "¥200.00") {
		t.Errorf("the diagnosis does not show the refused ¥200.00 top-up: %q", got)
	}
	b.click("#diagnosis-ticket")
	b.waitFor("#ticket-form #ticket-about")
	if got := get(b, "read the category", chromedp.Evaluate[string](`document.querySelector("#ticket-category").value`)); got != "payment_failed" {
		t.Errorf("category %q, want payment_failed", got)
	}
	b.click("#ticket-form button[type=submit]") // no description yet
	b.waitFor("#ticket-form .field-error:not([hidden])")
	b.fill("#ticket-message", "卡里有钱，为什么充值失败？")
	b.click("#ticket-form button[type=submit]")
	b.waitFor(`#thread .msg.customer[data-seq="1"]`)
	loc := get(b, "read the address", chromedp.Location())
	i := strings.Index(loc, "#/tickets/")
	if i < 0 {
		t.Fatalf("after sending, the app is at %s", loc)
	}
	ticketID := loc[i+len("#/tickets/"):]

	// The ticket is about the top-up, as customer service sees it.
	agent := staffToken(t, srv, dev.Agent)
	var tk struct {
		TransactionID *string `json:"transaction_id"`
		Category      string
	}
	if st := apiJSON(t, srv, "GET", "/v1/agent/tickets/"+ticketID, agent, "", nil, &tk); st != 200 {
		t.Fatalf("the agent reads the ticket: %d", st)
	}
	if tk.Category != "payment_failed" || tk.TransactionID == nil || !strings.HasPrefix(*tk.TransactionID, "mov_") {
		t.Errorf("the agent sees %+v, want a payment_failed ticket about the top-up", tk)
	}

	// Customer service replies; the open thread shows it by itself.
	const answer = "您好，这张卡被发卡行拒绝了，请联系银行或换一张卡。"
	if st := apiJSON(t, srv, "POST", "/v1/agent/tickets/"+ticketID+"/messages", agent, "", map[string]string{"message": answer}, nil); st != 201 {
		t.Fatalf("agent reply: %d", st)
	}
	b.waitText(`#thread .msg.agent[data-seq="2"] .msg-body`, answer)
	b.waitText(`#ticket-head [data-status]`, "客服已回复")
	b.screenshot("ticket-thread")
	b.fill("#reply-message", "好的，我换一张卡试试，谢谢！")
	b.click("#reply-form button[type=submit]")
	b.waitText(`#thread .msg.customer[data-seq="3"] .msg-body`, "好的，我换一张卡试试，谢谢！")
	b.waitText(`#ticket-head [data-status]`, "待客服回复")

	b.visit("inbox")
	b.waitFor(fmt.Sprintf(`#inbox li[data-kind="ticket.answered"] a[href="#/tickets/%s"]`, ticketID))
	b.visit("tickets")
	b.waitFor(fmt.Sprintf(`#tickets li[data-ticket=%q][data-status="open"]`, ticketID))
}
