package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"time"
)

// What the checks read back through the API.
type (
	txView struct {
		ID           string `json:"id"`
		Kind         string `json:"kind"`
		Status       string `json:"status"`
		Amount       int64  `json:"amount"`
		OrderID      string `json:"order_id"`
		Counterparty *struct {
			WalletID string `json:"wallet_id"`
		} `json:"counterparty"`
	}
	noteView struct {
		ID            string `json:"id"`
		Kind          string `json:"kind"`
		TransactionID string `json:"transaction_id"`
	}
	deliveryView struct {
		ID        string `json:"id"`
		EventID   string `json:"event_id"`
		EventType string `json:"event_type"`
		Status    string `json:"status"`
		Payload   struct {
			Data struct {
				OutTradeNo  string `json:"out_trade_no"`
				OutRefundNo string `json:"out_refund_no"`
			} `json:"data"`
		} `json:"payload"`
	}
)

// loadKinds are the kinds of transactions the load makes.
var loadKinds = map[string]bool{"transfer_out": true, "transfer_in": true, "payment": true, "refund": true}

// settled waits, reading through server i, until what the outbox owes has been
// delivered — every webhook delivery delivered and received, every transaction
// notified — and the histories and deliveries agree with the book; it returns what
// still disagrees when the deadline passes (nil when all agree).
func (l *load) settled(ctx context.Context, i int, rcv *hookReceiver, deadline time.Duration) []string {
	end := time.Now().Add(deadline)
	for {
		problems, err := l.compare(ctx, i, rcv)
		if err != nil {
			problems = append(problems, err.Error())
		}
		if len(problems) == 0 || time.Now().After(end) {
			return problems
		}
		time.Sleep(300 * time.Millisecond)
	}
}

// compare reads every customer's history and inbox and the merchant's webhook
// deliveries through server i, and returns how they differ from the book.
func (l *load) compare(ctx context.Context, i int, rcv *hookReceiver) ([]string, error) {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }
	l.mu.Lock()
	defer l.mu.Unlock()

	for ci, c := range l.b.customers {
		history, err := pages[txView](ctx, l.f, i, "/v1/transactions", c.token)
		if err != nil {
			return problems, err
		}
		inbox, err := pages[noteView](ctx, l.f, i, "/v1/notifications", c.token)
		if err != nil {
			return problems, err
		}
		// What the book says this customer sent, received, paid and got back.
		out := map[string]int64{}
		in := map[string]int{} // payer wallet and amount
		for _, tr := range l.transfers {
			if tr.from == ci {
				out[tr.id] = tr.amount
			}
			if tr.to == ci {
				in[fmt.Sprint(l.b.customers[tr.from].walletID, " ", tr.amount)]++
			}
		}
		payments := map[string]*orderRec{}
		for _, o := range l.orders {
			if o.payer == ci {
				payments[o.txID] = o
			}
		}
		refunds := map[int64]int{}
		for _, r := range l.refunds {
			if r.order.payer == ci {
				refunds[r.amount]++
			}
		}
		notes := map[string]int{}
		ids := map[string]bool{}
		for _, n := range inbox {
			if ids[n.ID] {
				bad("customer %d: notification %s is in the inbox twice", ci, n.ID)
			}
			ids[n.ID] = true
			notes[n.TransactionID]++
		}
		topups := 0
		for _, tx := range history {
			if tx.Kind == "topup" && tx.Status == "succeeded" && tx.Amount == l.b.cfg.topup {
				topups++
				continue
			}
			if !loadKinds[tx.Kind] {
				bad("customer %d: a %s %s transaction the load did not make: %+v", ci, tx.Status, tx.Kind, tx)
				continue
			}
			if tx.Status != "succeeded" {
				bad("customer %d: a %s %s transaction: %+v", ci, tx.Status, tx.Kind, tx)
				continue
			}
			if n := notes[tx.ID]; n != 1 {
				bad("customer %d: %d notifications of %s %s, want 1", ci, n, tx.Kind, tx.ID)
			}
			switch tx.Kind {
			case "transfer_out":
				amount, ok := out[tx.ID]
				if !ok || amount != tx.Amount {
					bad("customer %d: transfer %s of %d fen is not one the load was answered for (or is there twice)", ci, tx.ID, tx.Amount)
				}
				delete(out, tx.ID)
			case "transfer_in":
				if tx.Counterparty == nil {
					bad("customer %d: transfer in %s names no payer", ci, tx.ID)
					continue
				}
				k := fmt.Sprint(tx.Counterparty.WalletID, " ", tx.Amount)
				if in[k] == 0 {
					bad("customer %d: received %d fen from %s more often than the load was answered for", ci, tx.Amount, tx.Counterparty.WalletID)
				}
				in[k]--
			case "payment":
				o := payments[tx.ID]
				if o == nil || o.id != tx.OrderID || o.amount != tx.Amount {
					bad("customer %d: payment %s of %d fen for order %s is not one the load was answered for (or is there twice)", ci, tx.ID, tx.Amount, tx.OrderID)
				}
				delete(payments, tx.ID)
			case "refund":
				if refunds[tx.Amount] == 0 {
					bad("customer %d: a refund of %d fen more than the load was answered for", ci, tx.Amount)
				}
				refunds[tx.Amount]--
			}
		}
		if topups != 1 {
			bad("customer %d: %d top-ups of %d fen, want 1", ci, topups, l.b.cfg.topup)
		}
		for id := range out {
			bad("customer %d: acknowledged transfer %s is not in the history", ci, id)
		}
		for k, n := range in {
			if n > 0 {
				bad("customer %d: %d acknowledged transfers in (%s) are not in the history", ci, n, k)
			}
		}
		for id, o := range payments {
			bad("customer %d: acknowledged payment %s of order %s is not in the history", ci, id, o.outTradeNo)
		}
		for amount, n := range refunds {
			if n > 0 {
				bad("customer %d: %d acknowledged refunds of %d fen are not in the history", ci, n, amount)
			}
		}
	}

	// The merchant's webhooks: one order.paid per paid order, one refund.succeeded
	// per refund, every one delivered and received.
	deliveries, err := pages[deliveryView](ctx, l.f, i, "/v1/merchant/webhook-deliveries", l.b.merchantKey)
	if err != nil {
		return problems, err
	}
	received, rcvProblems := rcv.snapshot()
	problems = append(problems, rcvProblems...)
	paidEvents, refundEvents := map[string]string{}, map[string]string{}
	events := map[string]bool{}
	for _, d := range deliveries {
		if events[d.EventID] {
			bad("event %s has two deliveries", d.EventID)
		}
		events[d.EventID] = true
		if d.Status != "delivered" {
			bad("delivery %s of %s (%s) is %s", d.ID, d.EventType, d.EventID, d.Status)
		}
		if ev, ok := received[d.EventID]; !ok || ev.answered == 0 {
			bad("event %s (%s) never reached the receiver and was answered", d.EventID, d.EventType)
		}
		switch d.EventType {
		case "order.paid":
			if prev, ok := paidEvents[d.Payload.Data.OutTradeNo]; ok {
				bad("order %s has two order.paid events, %s and %s", d.Payload.Data.OutTradeNo, prev, d.EventID)
			}
			paidEvents[d.Payload.Data.OutTradeNo] = d.EventID
		case "refund.succeeded":
			if prev, ok := refundEvents[d.Payload.Data.OutRefundNo]; ok {
				bad("refund %s has two refund.succeeded events, %s and %s", d.Payload.Data.OutRefundNo, prev, d.EventID)
			}
			refundEvents[d.Payload.Data.OutRefundNo] = d.EventID
		default:
			bad("an event of type %s (%s)", d.EventType, d.EventID)
		}
	}
	for id, ev := range received {
		if !events[id] {
			bad("the receiver got event %s (%s) that no delivery lists", id, ev.typ)
		}
	}
	paid := 0
	for _, o := range l.orders {
		_, has := paidEvents[o.outTradeNo]
		switch {
		case o.payer >= 0 && !has:
			bad("paid order %s has no order.paid event", o.outTradeNo)
		case o.payer < 0 && has:
			bad("order %s, which no payment was acknowledged for, has an order.paid event", o.outTradeNo)
		}
		if o.payer >= 0 {
			paid++
		}
	}
	for _, r := range l.refunds {
		if _, ok := refundEvents[r.outRefundNo]; !ok {
			bad("refund %s has no refund.succeeded event", r.outRefundNo)
		}
	}
	if len(paidEvents) != paid || len(refundEvents) != len(l.refunds) {
		bad("%d order.paid and %d refund.succeeded events, want %d and %d", len(paidEvents), len(refundEvents), paid, len(l.refunds))
	}
	return problems, nil
}

// checkOrders reads every order the load made through server i: paid once by the
// customer the book says, refunded by exactly the acknowledged refunds, never more
// than paid; unpaid ones still NOTPAY.
func (l *load) checkOrders(ctx context.Context, i int) []string {
	var problems []string
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range l.orders {
		var got struct {
			Status   string `json:"status"`
			Amount   int64  `json:"amount"`
			Refunded int64  `json:"refunded"`
			Payer    string `json:"payer_wallet_id"`
		}
		if err := l.f.get(ctx, i, "/v1/merchant/orders/"+url.PathEscape(o.outTradeNo), l.b.merchantKey, &got); err != nil {
			problems = append(problems, err.Error())
			continue
		}
		want := "NOTPAY"
		payer := ""
		if o.payer >= 0 {
			want, payer = "SUCCESS", l.b.customers[o.payer].walletID
			if o.refunded > 0 {
				want = "REFUND"
			}
		}
		if got.Status != want || got.Amount != o.amount || got.Refunded != o.refunded || got.Refunded > got.Amount || got.Payer != payer {
			problems = append(problems, fmt.Sprintf("order %s is %+v, want %s, %d fen, %d refunded, paid by %q", o.outTradeNo, got, want, o.amount, o.refunded, payer))
		}
	}
	return problems
}

// verifyLedger asks server i, as the admin, to verify the ledger.
func (l *load) verifyLedger(ctx context.Context, i int, admin string) error {
	a, err := l.f.send(ctx, i, call{method: "GET", path: "/v1/admin/ledger/verify", token: admin})
	if err != nil {
		return err
	}
	var rep struct {
		OK bool `json:"ok"`
	}
	if a.status != http.StatusOK || json.Unmarshal(a.body, &rep) != nil || !rep.OK {
		return fmt.Errorf("GET /v1/admin/ledger/verify: %s", a)
	}
	return nil
}
