// Package notify delivers what the transactional outbox announces (SPEC §8): a
// Dispatcher turns committed events into notifications in the customer's inbox,
// pushes them to the customer's open apps through a Hub (streamed by ServeEvents as
// Server-Sent Events) and sends an SMS when the amount reaches the customer's
// threshold (never for points expiring, whose amount is points, not fen, nor for
// customer service's replies to tickets, which have none). A payment-password reset
// started by customer service is a security notice: it is sent by SMS whatever the
// threshold, so that a holder who did not ask for it hears of it. Delivery is at least
// once: every notification carries an id derived from its event, so a repeat is
// stored once and can be dropped by receivers.
package notify

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/hebaopay/hebao"
)

// FromEvent returns the notification that the outbox event e announces to its first
// customer (a transfer's event announces both sides: see sidesOf), and false for
// events of kinds that make no notification. The notification's id is derived from
// the event's, so dispatching an event twice makes the same notification.
func FromEvent(e hebao.Event) (hebao.Notification, bool, error) {
	ss, ok, err := sidesOf(e)
	if !ok || err != nil {
		return hebao.Notification{}, false, err
	}
	return ss[0].n, true, nil
}

// side is one customer's part of an event, and its notification.
type side struct {
	m hebao.MovementEvent
	n hebao.Notification
}

// sidesOf decodes e once and returns the notification of each customer it
// announces: one, or two for a transfer between wallets (the other side's id is
// derived from its transaction id, which is announced by this event only); false
// for kinds that make no notification. Events that move no money — points
// expiring, customer service's reply to a ticket, a payment-password reset — come
// back with a side that names the customer and nothing else (and for a reset its
// wallet): no amount, so the dispatcher finds no SMS threshold to weigh them
// against (thresholds are fen, and a number of points is not) and sends no SMS,
// except for a reset, which smsPhone sends whatever the threshold.
func sidesOf(e hebao.Event) ([]side, bool, error) {
	switch e.Kind {
	case hebao.EventPointsExpired:
		p, err := pointsExpiredOf(e)
		if err != nil {
			return nil, false, err
		}
		return []side{{hebao.MovementEvent{CustomerID: p.CustomerID}, fromPointsExpired(e, p)}}, true, nil
	case hebao.EventTicketMessage:
		// Only an agent's reply makes a notification; agents see customers'
		// messages in their queue.
		p, ok, err := ticketReplyOf(e)
		if !ok || err != nil {
			return nil, false, err
		}
		return []side{{hebao.MovementEvent{CustomerID: p.CustomerID}, fromTicketReply(e, p)}}, true, nil
	case hebao.EventPaymentPasswordReset:
		p, err := resetOf(e)
		if err != nil {
			return nil, false, err
		}
		return []side{{hebao.MovementEvent{CustomerID: p.CustomerID, WalletID: p.WalletID}, fromReset(e, p)}}, true, nil
	case hebao.EventMovement:
		var m hebao.MovementEvent
		if err := json.Unmarshal(e.Payload, &m); err != nil {
			return nil, false, fmt.Errorf("event %s: %w", e.ID, err)
		}
		if e.ID == "" || m.CustomerID == "" || m.Kind == "" || m.Status == "" {
			return nil, false, fmt.Errorf("event %s: a movement event needs an id, a customer, a kind and a status", e.ID)
		}
		out := []side{{m, fromMovement(e, m)}}
		if o := m.Other; o != nil && o.CustomerID != "" {
			n := fromMovement(e, *o)
			n.ID = notificationID(o.TransactionID)
			out = append(out, side{*o, n})
		}
		return out, true, nil
	}
	return nil, false, nil
}

func fromMovement(e hebao.Event, m hebao.MovementEvent) hebao.Notification {
	at := m.At
	if at.IsZero() {
		at = e.CreatedAt
	}
	return hebao.Notification{
		ID:            notificationID(e.ID),
		CustomerID:    m.CustomerID,
		Kind:          string(m.Kind) + "." + string(m.Status),
		Title:         Title(m),
		Amount:        m.Amount,
		Counterparty:  m.Counterparty,
		BalanceAfter:  m.BalanceAfter,
		TransactionID: m.TransactionID,
		CreatedAt:     at.UTC(),
	}
}

// pointsExpiredOf decodes the payload of a points expiry event.
func pointsExpiredOf(e hebao.Event) (hebao.PointsExpiredEvent, error) {
	var p hebao.PointsExpiredEvent
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return p, fmt.Errorf("event %s: %w", e.ID, err)
	}
	if e.ID == "" || p.CustomerID == "" || p.Points <= 0 {
		return p, fmt.Errorf("event %s: a points expiry event needs an id, a customer and points", e.ID)
	}
	return p, nil
}

// NotificationPointsExpired is the kind of the notification that points expired.
const NotificationPointsExpired = "points.expired"

// fromPointsExpired is the notification that p's points expired: Amount is points,
// not fen, and no balance is shown.
func fromPointsExpired(e hebao.Event, p hebao.PointsExpiredEvent) hebao.Notification {
	at := p.At
	if at.IsZero() {
		at = e.CreatedAt
	}
	title := fmt.Sprintf("%d points expired", p.Points)
	if p.Points == 1 {
		title = "1 point expired"
	}
	return hebao.Notification{
		ID:            notificationID(e.ID),
		CustomerID:    p.CustomerID,
		Kind:          NotificationPointsExpired,
		Title:         title,
		Amount:        p.Points,
		TransactionID: p.TransferID,
		CreatedAt:     at.UTC(),
	}
}

// NotificationTicketAnswered is the kind of the notification that customer
// service replied to a ticket.
const NotificationTicketAnswered = "ticket.answered"

// ticketReplyOf decodes the payload of a ticket message event, and reports whether
// it makes a notification: only an agent's reply does.
func ticketReplyOf(e hebao.Event) (hebao.TicketMessageEvent, bool, error) {
	var p hebao.TicketMessageEvent
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return p, false, fmt.Errorf("event %s: %w", e.ID, err)
	}
	if e.ID == "" || p.CustomerID == "" || p.TicketID == "" || p.Author == "" {
		return p, false, fmt.Errorf("event %s: a ticket message event needs an id, a customer, a ticket and an author", e.ID)
	}
	return p, p.Author == hebao.AuthorAgent, nil
}

// fromTicketReply is the notification that customer service replied to p's
// ticket: no amount, and TransactionID is the ticket's id.
func fromTicketReply(e hebao.Event, p hebao.TicketMessageEvent) hebao.Notification {
	at := p.At
	if at.IsZero() {
		at = e.CreatedAt
	}
	return hebao.Notification{
		ID:            notificationID(e.ID),
		CustomerID:    p.CustomerID,
		Kind:          NotificationTicketAnswered,
		Title:         "Customer service replied to your ticket",
		TransactionID: p.TicketID,
		CreatedAt:     at.UTC(),
	}
}

// NotificationPaymentPasswordReset is the kind of the notification that customer
// service locked the payment password until the holder sets a new one.
const NotificationPaymentPasswordReset = hebao.EventPaymentPasswordReset

// ResetTitle is the notification of a payment-password reset started by customer
// service, in plain English; the app shows its own words for the kind.
const ResetTitle = "Customer service locked your payment password at your request. Set a new one in the app with an SMS code and your ID number. If you did not call us, contact us at once."

// resetSMS is the text message of a payment-password reset, in Chinese and
// English: it may reach a phone whose app is not open.
const resetSMS = "【荷包 Hebao】应您的要求，客服已锁定您的支付密码。请在荷包 App 中用短信验证码和身份证号设置新的支付密码。如果您没有联系过客服，请立即联系我们。 " + ResetTitle

// resetOf decodes the payload of a payment-password reset event.
func resetOf(e hebao.Event) (hebao.PaymentPasswordResetEvent, error) {
	var p hebao.PaymentPasswordResetEvent
	if err := json.Unmarshal(e.Payload, &p); err != nil {
		return p, fmt.Errorf("event %s: %w", e.ID, err)
	}
	if e.ID == "" || p.CustomerID == "" || p.WalletID == "" {
		return p, fmt.Errorf("event %s: a payment-password reset event needs an id, a customer and a wallet", e.ID)
	}
	return p, nil
}

// fromReset is the notification that customer service locked p's payment password
// until a reset: no amount, and no transaction.
func fromReset(e hebao.Event, p hebao.PaymentPasswordResetEvent) hebao.Notification {
	at := p.At
	if at.IsZero() {
		at = e.CreatedAt
	}
	return hebao.Notification{
		ID:         notificationID(e.ID),
		CustomerID: p.CustomerID,
		Kind:       NotificationPaymentPasswordReset,
		Title:      ResetTitle,
		CreatedAt:  at.UTC(),
	}
}

// notificationID is "ntf_" and the event id without its prefix: time-sortable like
// the event's, so an inbox read newest first by id is in the order of the events.
func notificationID(eventID string) string {
	if _, rest, ok := strings.Cut(eventID, "_"); ok {
		return "ntf_" + rest
	}
	return "ntf_" + eventID
}

// Title says in one line of plain English what happened to the customer's money,
// e.g. "You received ¥12.34 from 138****0000".
func Title(m hebao.MovementEvent) string {
	amount := hebao.FormatCNY(m.Amount)
	why := ""
	if m.FailureCode != "" {
		why = ": " + strings.ReplaceAll(m.FailureCode, "_", " ")
	}
	from, to := "", ""
	if m.Counterparty != "" {
		from, to = " from "+m.Counterparty, " to "+m.Counterparty
	}
	switch m.Kind {
	case hebao.MovementTopup:
		switch m.Status {
		case hebao.MovementPending:
			return "Top-up of " + amount + " is being processed"
		case hebao.MovementSucceeded:
			return "Top-up of " + amount + " succeeded"
		case hebao.MovementFailed:
			return "Top-up of " + amount + " failed" + why
		}
	case hebao.MovementWithdrawal:
		switch m.Status {
		case hebao.MovementPending:
			return "Withdrawal of " + amount + " is being processed"
		case hebao.MovementSucceeded:
			return "Withdrawal of " + amount + " succeeded"
		case hebao.MovementFailed:
			return "Withdrawal of " + amount + " failed" + why
		}
	case hebao.MovementTransferOut:
		switch m.Status {
		case hebao.MovementPending:
			return "Sending " + amount + to
		case hebao.MovementSucceeded:
			return "You sent " + amount + to
		case hebao.MovementFailed:
			return "Sending " + amount + to + " failed" + why
		}
	case hebao.MovementTransferIn:
		switch m.Status {
		case hebao.MovementPending:
			return amount + from + " is on its way"
		case hebao.MovementSucceeded:
			return "You received " + amount + from
		case hebao.MovementFailed:
			return amount + from + " did not arrive" + why
		}
	case hebao.MovementPayment:
		switch m.Status {
		case hebao.MovementPending:
			return "A till is waiting: confirm paying " + amount + to
		case hebao.MovementSucceeded:
			return "You paid " + amount + to
		case hebao.MovementFailed:
			return "Payment of " + amount + to + " was not made" + why
		}
	case hebao.MovementInterest:
		return "Interest of " + amount + " paid"
	case hebao.MovementPromoExpired:
		return "Red packet of " + amount + " expired"
	case hebao.MovementPointsCash:
		return "You received " + amount + " for points"
	case hebao.MovementRefund:
		if m.Status == hebao.MovementSucceeded {
			return "Refund of " + amount + from
		}
	}
	return fmt.Sprintf("%s of %s: %s%s", strings.ReplaceAll(string(m.Kind), "_", " "), amount, m.Status, why)
}

// SMSText is the text message for n: the title and the balance after it; for a
// payment-password reset, what to do, in Chinese and English.
func SMSText(n hebao.Notification) string {
	if n.Kind == NotificationPaymentPasswordReset {
		return resetSMS
	}
	return "【荷包 Hebao】" + n.Title + ". Balance: " + hebao.FormatCNY(n.BalanceAfter) + "."
}

// View is a notification as the API shows it, in the event stream and in
// GET /v1/notifications.
type View struct {
	ID            string    `json:"id"`
	Kind          string    `json:"kind"`
	Title         string    `json:"title"`
	Amount        int64     `json:"amount"`
	Counterparty  string    `json:"counterparty"`
	BalanceAfter  int64     `json:"balance_after"`
	TransactionID string    `json:"transaction_id"`
	CreatedAt     time.Time `json:"created_at"` // RFC 3339, UTC
}

// NewView returns the API's view of n.
func NewView(n hebao.Notification) View {
	return View{
		ID: n.ID, Kind: n.Kind, Title: n.Title, Amount: n.Amount, Counterparty: n.Counterparty,
		BalanceAfter: n.BalanceAfter, TransactionID: n.TransactionID, CreatedAt: n.CreatedAt.UTC(),
	}
}
