package hebao

import (
	"context"
	"crypto/sha256"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// OrderService keeps merchant orders paid by scanning a QR code (SPEC §5 扫码):
// the merchant creates, queries and closes them; a customer sees and pays them;
// a job closes those that expire.
type OrderService struct {
	Store     Store
	Tiers     TierLimits // zero: DefaultTierLimits
	Passwords *PaymentPasswordService
	// OTP checks the step_up codes of large payments from new devices.
	OTP OTPChecker
	// CheckURL refuses a notify_url the policy forbids (SPEC §8); nil refuses every
	// notify_url.
	CheckURL func(ctx context.Context, url string) error
	// PayURL is where the web app opens an order (qr_payload is PayURL + the order
	// id); the HTTP server derives it from its public URL, so the service keeps it
	// only for callers that build links themselves.
	PayURL string
	// Codes takes the payment codes tills read; nil refuses code payments.
	Codes *PaymentCodeService
	// Bank tops up from a card to pay by card or to top up a shortfall; nil refuses
	// card payments and makes no auto top-up.
	Bank *BankService
	// Now is the clock; nil uses each transaction's time.
	Now func() time.Time
	// Committed, if set, is called after each change that wrote an event or a
	// webhook delivery (to wake their dispatchers).
	Committed func()
}

// OrderRequest is a merchant's POST /v1/merchant/orders.
type OrderRequest struct {
	OutTradeNo string
	Amount     int64
	Subject    string
	ExpiresIn  time.Duration // 0: DefaultOrderExpiry
	NotifyURL  string
}

// Validate checks the request's own fields.
// Errors: invalid_request.
func (r OrderRequest) Validate() error {
	if !ValidOutTradeNo(r.OutTradeNo) {
		return Errorf(CodeInvalidRequest, "out_trade_no must be 6 to 32 letters, digits, '_' or '-'")
	}
	if err := CheckAmount(r.Amount); err != nil {
		return err
	}
	if strings.TrimSpace(r.Subject) == "" || utf8.RuneCountInString(r.Subject) > MaxSubject || !utf8.ValidString(r.Subject) || strings.IndexFunc(r.Subject, unicode.IsControl) >= 0 {
		return Errorf(CodeInvalidRequest, "subject must be 1 to %d characters of text", MaxSubject)
	}
	if r.ExpiresIn != 0 && (r.ExpiresIn < MinOrderExpiry || r.ExpiresIn > MaxOrderExpiry) {
		return Errorf(CodeInvalidRequest, "expires_in must be from 60 seconds to 7 days")
	}
	if len(r.NotifyURL) > MaxNotifyURL {
		return Errorf(CodeInvalidRequest, "notify_url is longer than %d characters", MaxNotifyURL)
	}
	return nil
}

// hash is what makes a repeated out_trade_no the same order: every field given.
func (r OrderRequest) hash() [32]byte {
	expiry := r.ExpiresIn
	if expiry == 0 {
		expiry = DefaultOrderExpiry // absent and the default are the same order
	}
	var b []byte
	for _, f := range []string{r.OutTradeNo, strconv.FormatInt(r.Amount, 10), r.Subject, strconv.FormatInt(int64(expiry/time.Second), 10), r.NotifyURL} {
		b = strconv.AppendInt(b, int64(len(f)), 10)
		b = append(b, ':')
		b = append(b, f...)
	}
	return sha256.Sum256(b)
}

// Create stores the merchant's order, or returns the one it created before with the
// same out_trade_no and the same fields (created false).
// Errors: invalid_request, idempotency_key_reused (the same out_trade_no with other
// fields), notify_url_forbidden.
func (s *OrderService) Create(ctx context.Context, m Merchant, r OrderRequest) (Order, bool, error) {
	if err := r.Validate(); err != nil {
		return Order{}, false, err
	}
	h := r.hash()
	if r.NotifyURL != "" {
		// A retry of an order made before answers it without checking the URL again.
		var prior Order
		err := s.Store.View(ctx, func(tx Tx) (err error) {
			prior, err = tx.OrderByOutTradeNo(ctx, m.ID, r.OutTradeNo)
			return err
		})
		if err == nil && prior.RequestHash == h {
			return prior, false, nil
		}
		if s.CheckURL == nil {
			return Order{}, false, Errorf(CodeNotifyURLForbidden, "this server sends no webhooks")
		}
		if err := s.CheckURL(ctx, r.NotifyURL); err != nil {
			return Order{}, false, Errorf(CodeNotifyURLForbidden, "notify_url cannot be used: %v", err)
		}
	}
	build := func(now time.Time) Order {
		if s.Now != nil {
			now = s.Now().UTC().Truncate(time.Microsecond)
		}
		expiry := r.ExpiresIn
		if expiry == 0 {
			expiry = DefaultOrderExpiry
		}
		return Order{ID: NewID("ord"), MerchantID: m.ID, OutTradeNo: r.OutTradeNo, Kind: OrderNative, Amount: r.Amount,
			Subject: r.Subject, NotifyURL: r.NotifyURL, Status: OrderNotPaid, RequestHash: h,
			CreatedAt: now, ExpiresAt: now.Add(expiry), UpdatedAt: now}
	}
	var (
		out     Order
		created bool
		err     error
	)
	if oc, ok := s.Store.(OrderCreator); ok {
		out, created, err = oc.CreateOrderOnce(ctx, build)
	} else {
		out, created, err = CreateOrderInTransaction(ctx, s.Store, build)
	}
	if err != nil {
		return Order{}, false, err
	}
	if !created && out.RequestHash != h {
		return Order{}, false, Errorf(CodeIdempotencyKeyReused, "out_trade_no %s was used for an order with other fields", r.OutTradeNo)
	}
	return out, created, nil
}

// CreateOrderInTransaction does with a transaction of s what an OrderCreator does in
// one statement: it stores the order build makes from the transaction's clock, unless
// the order's merchant already has one with its out_trade_no, which it then returns
// with false. Creating an order moves no money: a store may run it beside the
// ledger's batches (MovesNoMoney). Two creations of one out_trade_no at once still
// store one order: the store runs the loser again, and it finds the winner's.
func CreateOrderInTransaction(ctx context.Context, s Store, build func(now time.Time) Order) (Order, bool, error) {
	var (
		out     Order
		created bool
	)
	err := s.Transact(MovesNoMoney(ctx), func(tx Tx) (err error) {
		out, created, err = createOrderIn(ctx, tx, build)
		return err
	})
	return out, created, err
}

// createOrderIn is CreateOrderInTransaction's work in tx.
func createOrderIn(ctx context.Context, tx Tx, build func(now time.Time) Order) (Order, bool, error) {
	o := build(tx.Now())
	prior, err := tx.OrderByOutTradeNo(ctx, o.MerchantID, o.OutTradeNo)
	switch {
	case err == nil:
		return prior, false, nil
	case ErrorCode(err) != CodeNotFound:
		return Order{}, false, err
	}
	return o, true, tx.CreateOrder(ctx, o)
}

// Get returns the merchant's order with this out_trade_no.
// Errors: not_found (none, or another merchant's).
func (s *OrderService) Get(ctx context.Context, m Merchant, outTradeNo string) (Order, error) {
	if !ValidOutTradeNo(outTradeNo) {
		return Order{}, Errorf(CodeNotFound, "no such order")
	}
	var o Order
	err := s.Store.View(ctx, func(tx Tx) (err error) {
		o, err = tx.OrderByOutTradeNo(ctx, m.ID, outTradeNo)
		return err
	})
	if ErrorCode(err) == CodeNotFound {
		err = Errorf(CodeNotFound, "no such order")
	}
	return o, err
}

// Close closes the merchant's unpaid order; closing a closed order again changes
// nothing.
// Errors: not_found, order_already_paid.
func (s *OrderService) Close(ctx context.Context, m Merchant, outTradeNo string) (Order, error) {
	if !ValidOutTradeNo(outTradeNo) {
		return Order{}, Errorf(CodeNotFound, "no such order")
	}
	var out Order
	wrote := false
	err := s.Store.Transact(ctx, func(tx Tx) error {
		wrote = false
		o, err := tx.OrderByOutTradeNo(ctx, m.ID, outTradeNo)
		if ErrorCode(err) == CodeNotFound {
			return Errorf(CodeNotFound, "no such order")
		}
		if err != nil {
			return err
		}
		switch {
		case o.Status == OrderClosed:
			out = o
			return nil
		case o.Status.Paid():
			return Errorf(CodeOrderAlreadyPaid, "order %s is paid: refund it instead of closing it", outTradeNo)
		}
		out, err = closeOrder(ctx, tx, o, nowIn(s.Now, tx))
		wrote = err == nil
		return err
	})
	if wrote && s.Committed != nil {
		s.Committed()
	}
	return out, err
}

// closeOrder closes the open order o and owes its merchant the webhook.
func closeOrder(ctx context.Context, tx Tx, o Order, now time.Time) (Order, error) {
	prev := o
	o.Status, o.ClosedAt, o.UpdatedAt = OrderClosed, now, now
	ok, err := tx.UpdateOrder(ctx, o, prev)
	if err != nil {
		return Order{}, err
	}
	if !ok {
		return Order{}, Errorf(CodeConflict, "order %s changed meanwhile; try again", o.OutTradeNo)
	}
	if prev.Status == OrderUserPaying && o.MovementID != "" {
		if err := failPending(ctx, tx, o, now); err != nil {
			return Order{}, err
		}
	}
	return o, owe(ctx, tx, o, EventOrderClosed, now)
}

// failPending ends the pending movement of a till's order that closed unconfirmed,
// and tells the customer.
func failPending(ctx context.Context, tx Tx, o Order, now time.Time) error {
	m, err := tx.Movement(ctx, o.WalletID, o.MovementID)
	if err != nil {
		return err
	}
	ok, err := tx.FinishMovement(ctx, o.WalletID, o.MovementID, MovementFailed, CodeOrderClosed, now)
	if err != nil || !ok {
		return err
	}
	m.Status, m.FailureCode, m.UpdatedAt = MovementFailed, CodeOrderClosed, now
	as, err := tx.Accounts(ctx, m.Account)
	if err != nil {
		return err
	}
	return emitMovement(ctx, tx, m, as[m.Account].Balance)
}

// owe writes the webhook delivery announcing o to its merchant, if it asked for them.
func owe(ctx context.Context, tx Tx, o Order, eventType string, now time.Time) error {
	return oweEvent(ctx, tx, o, eventType, o.MerchantView(), now)
}

// oweEvent writes the webhook delivery of an event about o, carrying data, to o's
// notify_url, if it has one.
func oweEvent(ctx context.Context, tx Tx, o Order, eventType string, data any, now time.Time) error {
	if o.NotifyURL == "" {
		return nil
	}
	eventID := NewID("evt")
	payload, err := json.Marshal(WebhookEvent{ID: eventID, Type: eventType, CreatedAt: now, Data: data})
	if err != nil {
		return err
	}
	return tx.CreateDelivery(ctx, WebhookDelivery{ID: NewID("whd"), MerchantID: o.MerchantID, EventID: eventID, EventType: eventType,
		URL: o.NotifyURL, Payload: payload, NextAttemptAt: now, CreatedAt: now, UpdatedAt: now})
}

// WebhookEvent is the JSON body of a webhook (docs/webhooks.md).
type WebhookEvent struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	CreatedAt time.Time `json:"created_at"`
	Data      any       `json:"data"`
}

// MerchantOrder is an order as the merchant API and webhooks show it.
type MerchantOrder struct {
	ID         string     `json:"id"`
	OutTradeNo string     `json:"out_trade_no"`
	Status     string     `json:"status"`
	Amount     int64      `json:"amount"`
	Subject    string     `json:"subject"`
	Refunded   int64      `json:"refunded"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	PaidAt     *time.Time `json:"paid_at,omitempty"`
	ClosedAt   *time.Time `json:"closed_at,omitempty"`
	// Payer is the paying wallet, for the merchant's own records; never the
	// customer's phone or name.
	Payer  string `json:"payer_wallet_id,omitempty"`
	Method string `json:"method,omitempty"`
}

// MerchantView returns the order as its merchant sees it.
func (o Order) MerchantView() MerchantOrder {
	v := MerchantOrder{ID: o.ID, OutTradeNo: o.OutTradeNo, Status: string(o.Status), Amount: o.Amount, Subject: o.Subject,
		Refunded: o.Refunded, CreatedAt: o.CreatedAt.UTC(), ExpiresAt: o.ExpiresAt.UTC(), Payer: o.WalletID, Method: o.Method}
	if !o.PaidAt.IsZero() {
		t := o.PaidAt.UTC()
		v.PaidAt = &t
	}
	if !o.ClosedAt.IsZero() {
		t := o.ClosedAt.UTC()
		v.ClosedAt = &t
	}
	return v
}

// CustomerOrder is what a customer who scanned an order sees of it.
type CustomerOrder struct {
	Order    Order
	Merchant Merchant
	// Yours says the customer asking paid it; Theirs that it is that customer's
	// (paid by them, or a till's order waiting for them), so its movement is theirs.
	Yours  bool
	Theirs bool
}

// ForCustomer returns the order with this id as a customer sees it before paying: any
// signed-in customer may open an unpaid order (it is what its QR code is for); a paid
// order shows who paid it only to that customer.
// Errors: not_found.
func (s *OrderService) ForCustomer(ctx context.Context, customerID, orderID string) (CustomerOrder, error) {
	if !ValidID("ord", orderID) {
		return CustomerOrder{}, Errorf(CodeNotFound, "no such order")
	}
	var out CustomerOrder
	err := s.Store.View(ctx, func(tx Tx) error {
		o, err := tx.OrderByID(ctx, orderID)
		if err != nil {
			return err
		}
		if o.Kind != OrderNative && o.CustomerID != customerID {
			// A till's order is between the till and the customer whose code it read.
			return Errorf(CodeNotFound, "no such order")
		}
		m, err := tx.MerchantByID(ctx, o.MerchantID)
		if err != nil {
			return err
		}
		out = CustomerOrder{Order: o, Merchant: m, Yours: o.CustomerID == customerID && o.CustomerID != "" && o.Status.Paid(),
			Theirs: o.CustomerID == customerID && o.CustomerID != ""}
		return nil
	})
	if ErrorCode(err) == CodeNotFound {
		err = Errorf(CodeNotFound, "no such order")
	}
	return out, err
}

// PayRequest is a customer's POST /v1/orders/{id}/pay.
type PayRequest struct {
	CustomerID      string
	DeviceID        string
	OrderID         string
	Method          string // "balance" or "card"
	CardID          string // for "card": one of the customer's cards
	CouponID        string // a coupon of the customer's, "" for none
	PaymentPassword string
	OTP             string
	Key             IdempotencyKey
	// Reply renders what is answered, and answered again to every retry with Key.
	Reply func(Order, Movement) (Reply, error)
}

// Pay pays the order from the customer's balance, once: the order must be open and
// unexpired; the payment password, the payer's limits and balance are checked in the
// transaction that moves the money, marks the order paid, records the payment in the
// customer's history, announces it and owes the merchant its webhook.
// Errors: invalid_request, not_found, order_closed, order_already_paid,
// wallet_frozen, payment_password_wrong, payment_password_locked, step_up_required,
// otp_invalid, otp_expired, limit_exceeded, insufficient_funds,
// idempotency_key_reused, idempotency_key_in_use.
func (s *OrderService) Pay(ctx context.Context, r PayRequest) (Reply, error) {
	if !ValidID("ord", r.OrderID) {
		return Reply{}, Errorf(CodeNotFound, "no such order")
	}
	switch r.Method {
	case "balance":
	case "card":
		if r.CardID == "" {
			return Reply{}, Errorf(CodeInvalidRequest, "paying by card needs card_id: one of your bound cards")
		}
		if s.Bank == nil {
			return Reply{}, Errorf(CodeUnavailable, "paying by card is not available on this server")
		}
	default:
		return Reply{}, Errorf(CodeInvalidRequest, "method must be balance or card")
	}
	if r.OTP != "" && !validOTPCode(r.OTP) {
		return Reply{}, Errorf(CodeInvalidRequest, "otp must be the %d-digit code sent by SMS", otpDigits)
	}
	// A step_up code that came with the request is checked before the transaction,
	// against the order's amount; without one, the transaction itself says whether
	// one was needed.
	var pass *OTPPass
	if r.OTP != "" {
		if rep, err := Replayed(ctx, s.Store, r.Key); err != nil || rep != nil {
			if rep != nil {
				return *rep, nil
			}
			return Reply{}, err
		}
		var amount int64
		if err := s.Store.View(ctx, func(tx Tx) error {
			o, err := tx.OrderByID(ctx, r.OrderID)
			amount = o.Amount
			return err
		}); err != nil {
			if ErrorCode(err) == CodeNotFound {
				err = Errorf(CodeNotFound, "no such order")
			}
			return Reply{}, err
		}
		var err error
		if pass, err = stepUp(ctx, s.Store, s.OTP, s.Now, r.CustomerID, r.DeviceID, amount, r.OTP); err != nil {
			return Reply{}, err
		}
	}
	var topup *Movement // started at the bank once the transaction commits
	ctx = WithReadAhead(ctx, ReadAhead{Payer: r.CustomerID, Order: r.OrderID})
	reply, err := Once(ctx, s.Store, r.Key, func(tx Tx) (Reply, error) {
		topup = nil
		now := nowIn(s.Now, tx)
		o, err := tx.OrderByID(ctx, r.OrderID)
		if ErrorCode(err) == CodeNotFound || (err == nil && o.Kind != OrderNative) {
			return Reply{}, Errorf(CodeNotFound, "no such order")
		}
		if err != nil {
			return Reply{}, err
		}
		if err := payable(o, now); err != nil {
			return Reply{}, err
		}
		if pass == nil {
			if err := stepUpNeeded(ctx, tx, s.Now, r.CustomerID, r.DeviceID, o.Amount); err != nil {
				return Reply{}, err
			}
		}
		o, m, started, err := s.payByCustomer(ctx, tx, r, o, pass, now)
		if err != nil {
			return Reply{}, err
		}
		topup = started
		return r.Reply(o, m)
	})
	if err != nil {
		return Reply{}, err
	}
	if topup != nil {
		s.Bank.StartPending(*topup)
	}
	if s.Committed != nil {
		s.Committed()
	}
	return reply, nil
}

// payByCustomer is what paying the open order o by its customer takes, inside the
// transaction, for a scanned order and a till's order alike: the wallet may pay, the
// payment password, the step-up code spent, the coupon; then either the top-up that
// pays it (by card, or auto top-up of a shortfall: the payment follows when the bank
// says yes) or the payment itself. It returns the order and the movement to answer
// with, and the top-up to start at the bank once the transaction commits.
func (s *OrderService) payByCustomer(ctx context.Context, tx Tx, r PayRequest, o Order, pass *OTPPass, now time.Time) (Order, Movement, *Movement, error) {
	who, err := tx.Payer(ctx, r.CustomerID)
	if err != nil {
		return Order{}, Movement{}, nil, err
	}
	payer := who.Wallet
	if err := CanPay(payer); err != nil {
		return Order{}, Movement{}, nil, err
	}
	if err := s.Passwords.checkIn(ctx, tx, payer.ID, r.PaymentPassword, who.Password, now); err != nil {
		return Order{}, Movement{}, nil, err
	}
	limits, err := s.Tiers.orDefault().For(payer.Tier)
	if err != nil {
		return Order{}, Movement{}, nil, err
	}
	if pass != nil {
		if err := s.OTP.Use(ctx, tx, *pass); err != nil {
			return Order{}, Movement{}, nil, err
		}
	}
	if r.CouponID != "" {
		if o, err = applyCoupon(ctx, tx, o, r.CustomerID, r.CouponID, now); err != nil {
			return Order{}, Movement{}, nil, err
		}
	}
	if m, ok, err := s.topupToPay(ctx, tx, r, o, payer, limits, now); err != nil || ok {
		if err != nil {
			return Order{}, Movement{}, nil, err
		}
		return o, m, &m, nil
	}
	if err := chargeOutgoing(ctx, tx, payer, limits, o.Amount-o.Subsidy, now); err != nil {
		return Order{}, Movement{}, nil, err
	}
	o, m, err := payOrder(ctx, tx, o, payer, "balance", now)
	return o, m, nil, err
}

// topupToPay starts, in tx, the top-up that pays o when the payer pays by card, or
// by balance with auto top-up on and too little balance: the whole amount from the
// chosen card, or the shortfall from their first card. It reports false when the
// payment is a plain balance payment. The limits are checked now, and counted when
// the payment is made.
func (s *OrderService) topupToPay(ctx context.Context, tx Tx, r PayRequest, o Order, payer Wallet, limits Limits, now time.Time) (Movement, bool, error) {
	if r.Method == "card" && o.CouponID != "" {
		return Movement{}, false, Errorf(CodeCouponUnusable, "coupons take money off payments from the balance, not by card")
	}
	if r.Method == "card" {
		if err := noTopupWaiting(ctx, tx, o, payer); err != nil {
			return Movement{}, false, err
		}
		if err := wouldCharge(ctx, tx, payer, limits, o.Amount, now); err != nil {
			return Movement{}, false, err
		}
		card, err := findCard(ctx, tx, payer.CustomerID, r.CardID)
		if err != nil {
			return Movement{}, false, err
		}
		m, err := s.Bank.startOrderTopup(ctx, tx, payer, card, o, o.Amount, false, now)
		return m, err == nil, err
	}
	if s.Bank == nil {
		return Movement{}, false, nil
	}
	// The common case, enough balance, reads nothing more.
	bal, err := balanceHint(ctx, tx, payer.Account)
	if err != nil || bal >= o.Amount {
		return Movement{}, false, err
	}
	promo, err := promoAvailable(ctx, tx, payer, o.Amount)
	if err != nil || bal+promo >= o.Amount-o.Subsidy || o.CouponID != "" {
		return Movement{}, false, err // with a coupon, too little is too little: no auto top-up
	}
	bal += promo
	set, err := tx.WalletSettings(ctx, payer.ID)
	if err != nil || !set.AutoTopup {
		return Movement{}, false, err
	}
	cards, err := tx.Cards(ctx, payer.CustomerID)
	if err != nil || len(cards) == 0 {
		return Movement{}, false, err // no card: the payment fails for want of money, as without auto top-up
	}
	if err := noTopupWaiting(ctx, tx, o, payer); err != nil {
		return Movement{}, false, err
	}
	if err := wouldCharge(ctx, tx, payer, limits, o.Amount, now); err != nil {
		return Movement{}, false, err
	}
	m, err := s.Bank.startOrderTopup(ctx, tx, payer, cards[0], o, o.Amount-bal, true, now)
	return m, err == nil, err
}

// noTopupWaiting refuses a second payment of o by the payer while the top-up of their
// first one waits for the bank: it would charge the card twice.
// Errors: conflict.
func noTopupWaiting(ctx context.Context, tx Tx, o Order, payer Wallet) error {
	ots, err := tx.OrderTopups(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, ot := range ots {
		m, err := tx.Movement(ctx, payer.ID, ot.MovementID)
		if ErrorCode(err) == CodeNotFound {
			continue // another customer's
		}
		if err != nil {
			return err
		}
		if m.Status == MovementPending {
			return Errorf(CodeConflict, "your payment of this order is waiting for the bank: wait for it (you will be notified) instead of paying again")
		}
	}
	return nil
}

// wouldCharge checks that amount may leave w now under its limits, counting nothing.
// Errors: limit_exceeded.
func wouldCharge(ctx context.Context, tx Tx, w Wallet, l Limits, amount int64, now time.Time) error {
	_, err := checkOutgoing(ctx, tx, w, l, amount, now)
	return err
}

// split moves amount between a wallet's two accounts and another account: part of it
// (promo, from 0 to amount) on the promo side, the rest on the cash side. A positive
// amount goes from the wallet to other, a negative one from other to the wallet.
func split(promoAcct AccountID, promo int64, cashAcct, other AccountID, amount int64) []Posting {
	ps := make([]Posting, 0, 3)
	if promo != 0 {
		ps = append(ps, Posting{Account: promoAcct, Unit: CNY, Amount: -promo})
	}
	if cash := amount - promo; cash != 0 {
		ps = append(ps, Posting{Account: cashAcct, Unit: CNY, Amount: -cash})
	}
	return append(ps, Posting{Account: other, Unit: CNY, Amount: amount})
}

// applyCoupon checks that the customer's coupon can pay part of o now and records its
// discount on o (the coupon is used when the payment is made).
// Errors: not_found (not the customer's), coupon_unusable (including a campaign
// whose budget cannot cover the discount: it stops cleanly, and says so).
func applyCoupon(ctx context.Context, tx Tx, o Order, customerID, couponID string, now time.Time) (Order, error) {
	c, err := tx.Coupon(ctx, customerID, couponID)
	if ErrorCode(err) == CodeNotFound {
		return Order{}, Errorf(CodeNotFound, "no such coupon")
	}
	if err != nil {
		return Order{}, err
	}
	if err := c.Usable(o, now); err != nil {
		return Order{}, err
	}
	cmp, err := tx.CampaignByID(ctx, c.CampaignID)
	if err != nil {
		return Order{}, err
	}
	d := c.Discount(o.Amount)
	if left, err := balanceHint(ctx, tx, cmp.Account); err != nil {
		return Order{}, err
	} else if left < d {
		return Order{}, Errorf(CodeCouponUnusable, "the promotion behind this coupon has run out: pay without it")
	}
	o.CouponID, o.Subsidy = c.ID, d
	return o, nil
}

// promoAvailable is how much of amount the payer's promo balance covers, as far as
// the store's memory knows (balanceHint).
func promoAvailable(ctx context.Context, tx Tx, w Wallet, amount int64) (int64, error) {
	if w.PromoAccount == 0 {
		return 0, nil
	}
	bal, err := balanceHint(ctx, tx, w.PromoAccount)
	return min(bal, amount), err
}

// balanceHinter is a Tx that can tell an account's balance from memory, without a
// database read: a hint, good enough to decide how to split a payment, because the
// ledger itself refuses any transfer the real balance cannot cover.
type balanceHinter interface {
	BalanceHint(ctx context.Context, id AccountID) (int64, error)
}

// balanceHint is the account's balance from tx's memory if it has one, else read.
func balanceHint(ctx context.Context, tx Tx, id AccountID) (int64, error) {
	if h, ok := tx.(balanceHinter); ok {
		return h.BalanceHint(ctx, id)
	}
	return accountBalance(ctx, tx, id)
}

// payable says why o cannot be paid now, if it cannot.
func payable(o Order, now time.Time) error {
	switch {
	case o.Status.Paid():
		return Errorf(CodeOrderAlreadyPaid, "this order is paid already")
	case o.Status == OrderClosed:
		return Errorf(CodeOrderClosed, "this order is closed: ask the merchant for a new one")
	case !now.Before(o.ExpiresAt):
		return Errorf(CodeOrderClosed, "this order expired: ask the merchant for a new one")
	}
	return nil
}

// payOrder moves the open order's amount from payer to its merchant, marks it paid,
// writes the payer's movement and event and owes the merchant its webhook. The
// caller has checked the payer may pay.
func payOrder(ctx context.Context, tx Tx, o Order, payer Wallet, method string, now time.Time) (Order, Movement, error) {
	mch, err := tx.MerchantByID(ctx, o.MerchantID)
	if err != nil {
		return Order{}, Movement{}, err
	}
	// Red-packet money first (SPEC §7), then the balance; a card payment is what the
	// customer chose to pay with, so its top-up pays it all.
	// The payer pays the amount less a coupon's subsidy; the coupon's campaign pays
	// the subsidy; the merchant receives the whole amount.
	due := o.Amount - o.Subsidy
	var promo int64
	if method != "card" {
		if promo, err = promoAvailable(ctx, tx, payer, due); err != nil {
			return Order{}, Movement{}, err
		}
	}
	var budget AccountID
	if o.CouponID != "" {
		c, err := tx.Coupon(ctx, payer.CustomerID, o.CouponID)
		if err != nil {
			return Order{}, Movement{}, err
		}
		cmp, err := tx.CampaignByID(ctx, c.CampaignID)
		if err != nil {
			return Order{}, Movement{}, err
		}
		budget = cmp.Account
		ok, err := tx.UseCoupon(ctx, c.ID, o.ID)
		if err != nil {
			return Order{}, Movement{}, err
		}
		if !ok {
			return Order{}, Movement{}, Errorf(CodeCouponUnusable, "this coupon has been used")
		}
	}
	postings := func() []Posting {
		ps := split(payer.PromoAccount, promo, payer.Account, mch.Account, due)
		if o.Subsidy > 0 {
			// The merchant's posting is last: make it the whole amount, paid in part by
			// the campaign.
			ps[len(ps)-1].Amount = o.Amount
			ps = append(ps, Posting{Account: budget, Unit: CNY, Amount: -o.Subsidy})
		}
		return ps
	}
	t := &Transfer{ID: NewID("trf"), Kind: TransferPayment, Ref: o.ID, Postings: postings()}
	err = tx.Post(ctx, t)
	if ErrorCode(err) == CodeInsufficientFunds && method != "card" {
		// The promo balance the split counted on was only remembered: read it, and
		// split again.
		bal, rerr := accountBalance(ctx, tx, payer.PromoAccount)
		if rerr != nil {
			return Order{}, Movement{}, rerr
		}
		promo = min(bal, due)
		t.Postings = postings()
		err = tx.Post(ctx, t)
	}
	if ErrorCode(err) == CodeInsufficientFunds && o.Subsidy > 0 {
		// Is it the campaign that is short? Then it is the coupon that cannot be used.
		if left, rerr := accountBalance(ctx, tx, budget); rerr == nil && left < o.Subsidy {
			err = Errorf(CodeCouponUnusable, "the promotion behind this coupon has run out: pay without it")
		}
	}
	if err != nil {
		return Order{}, Movement{}, err
	}
	o.PromoPaid = promo
	if method != "card" {
		// Points for what the payer paid from the cash balance (SPEC §7).
		if o, err = earnPoints(ctx, tx, o, payer, due-promo, now); err != nil {
			return Order{}, Movement{}, err
		}
	}
	mv := Movement{ID: NewID("mov"), WalletID: payer.ID, Account: payer.Account, CustomerID: payer.CustomerID, Kind: MovementPayment,
		Status: MovementSucceeded, Amount: o.Amount, Counterparty: mch.ID, CounterpartyName: mch.Name, Memo: o.Subject,
		Ref: o.ID, CreatedAt: now, UpdatedAt: now}
	if o.MovementID != "" {
		// A till's order the customer confirms: its pending movement succeeds.
		pending, err := tx.Movement(ctx, payer.ID, o.MovementID)
		if err != nil {
			return Order{}, Movement{}, err
		}
		ok, err := tx.FinishMovement(ctx, payer.ID, o.MovementID, MovementSucceeded, "", now)
		if err != nil {
			return Order{}, Movement{}, err
		}
		if !ok {
			return Order{}, Movement{}, Errorf(CodeOrderAlreadyPaid, "this order is paid already")
		}
		mv.ID, mv.CreatedAt = pending.ID, pending.CreatedAt
	} else if err := tx.CreateMovement(ctx, mv); err != nil {
		return Order{}, Movement{}, err
	}
	prev := o
	o.Status, o.CustomerID, o.WalletID, o.Method, o.MovementID, o.PaidAt, o.UpdatedAt = OrderSuccess, payer.CustomerID, payer.ID, method, mv.ID, now, now
	ok, err := tx.UpdateOrder(ctx, o, prev)
	if err != nil {
		return Order{}, Movement{}, err
	}
	if !ok {
		return Order{}, Movement{}, Errorf(CodeOrderAlreadyPaid, "this order is paid already")
	}
	if err := emitMovement(ctx, tx, mv, t.Balances[payer.Account]); err != nil {
		return Order{}, Movement{}, err
	}
	return o, mv, owe(ctx, tx, o, EventOrderPaid, now)
}

// ExpireDue closes every open order whose expiry has passed, and returns how many it
// closed.
func (s *OrderService) ExpireDue(ctx context.Context) (int, error) {
	closed := 0
	for {
		var due []Order
		now := time.Now()
		if s.Now != nil {
			now = s.Now()
		}
		if err := s.Store.View(ctx, func(tx Tx) (err error) {
			due, err = tx.OpenOrdersExpiring(ctx, now, 100)
			return err
		}); err != nil {
			return closed, err
		}
		n, failed := 0, 0
		var firstErr error
		for _, d := range due {
			did := false
			err := s.Store.Transact(ctx, func(tx Tx) error {
				did = false
				o, err := tx.OrderByID(ctx, d.ID)
				if err != nil {
					return err
				}
				if !o.Status.Open() || nowIn(s.Now, tx).Before(o.ExpiresAt) {
					return nil // paid, closed or extended meanwhile
				}
				_, err = closeOrder(ctx, tx, o, nowIn(s.Now, tx))
				did = err == nil
				return err
			})
			switch {
			case err != nil:
				// One order that cannot be closed must not keep the others open:
				// report it, and go on.
				failed++
				if firstErr == nil {
					firstErr = fmt.Errorf("close expired order %s: %w", d.ID, err)
				}
			case did:
				n++
			}
		}
		if failed == len(due) && firstErr != nil {
			return closed + n, firstErr
		}
		closed += n
		if n > 0 && s.Committed != nil {
			s.Committed()
		}
		if len(due) < 100 {
			return closed, firstErr
		}
	}
}

// RunExpiry closes expired orders every interval until ctx ends.
func (s *OrderService) RunExpiry(ctx context.Context, interval time.Duration, log func(error)) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		if _, err := s.ExpireDue(ctx); err != nil && ctx.Err() == nil && log != nil {
			log(err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Exists reports whether there is an order with this id.
// Errors: not_found.
func (s *OrderService) Exists(ctx context.Context, id string) error {
	err := s.Store.View(ctx, func(tx Tx) error {
		_, err := tx.OrderByID(ctx, id)
		return err
	})
	if ErrorCode(err) == CodeNotFound {
		err = Errorf(CodeNotFound, "no such order")
	}
	return err
}
