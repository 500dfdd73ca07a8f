package hebao

import (
	"context"
	"regexp"
	"time"
)

// Merchant is a business that takes payments (SPEC §5, §8): it calls the merchant API
// with its API key, and its money collects in its settlement account in the ledger.
type Merchant struct {
	ID   string // "mch_…"
	Name string
	// APIKeyHash is the SHA-256 of the API key ("mk_…" and 256 random bits): the key
	// itself is shown once, at creation, and never stored.
	APIKeyHash [32]byte
	// WebhookSecretSealed is the webhook signing secret, sealed under the keyring with
	// the merchant id as additional data: it is needed again to sign each delivery.
	WebhookSecretSealed string
	Account             AccountID // settlement account (kind merchant)
	CreatedAt           time.Time
}

// OrderStatus is the state of a merchant order (SPEC §5), named as WeChat Pay names
// them so that integrators feel at home.
type OrderStatus string

// The order states: NOTPAY → SUCCESS | CLOSED, USERPAYING (a till's payment-code
// order waiting for the customer) → SUCCESS | CLOSED, SUCCESS → REFUND (any refund).
const (
	OrderNotPaid    OrderStatus = "NOTPAY"
	OrderUserPaying OrderStatus = "USERPAYING"
	OrderSuccess    OrderStatus = "SUCCESS"
	OrderClosed     OrderStatus = "CLOSED"
	OrderRefund     OrderStatus = "REFUND"
)

// Open reports whether an order in this state can still be paid.
func (s OrderStatus) Open() bool { return s == OrderNotPaid || s == OrderUserPaying }

// Paid reports whether an order in this state has been paid.
func (s OrderStatus) Paid() bool { return s == OrderSuccess || s == OrderRefund }

// OrderKind says how an order is paid: the customer scans the merchant's QR code
// (native), or the merchant's till scans the customer's payment code (code).
type OrderKind string

// The order kinds.
const (
	OrderNative OrderKind = "native"
	OrderCode   OrderKind = "code"
)

// Order limits (SPEC §5).
const (
	DefaultOrderExpiry = 2 * time.Hour
	MinOrderExpiry     = time.Minute
	MaxOrderExpiry     = 7 * 24 * time.Hour
	MaxSubject         = 128 // characters
	MaxNotifyURL       = 2048
)

var outTradeNoRE = regexp.MustCompile(`^[A-Za-z0-9_-]{6,32}$`)

// ValidOutTradeNo reports whether s is a merchant's order or refund number: 6 to 32
// characters of letters, digits, '_' and '-'.
func ValidOutTradeNo(s string) bool { return outTradeNoRE.MatchString(s) }

// Order is a merchant's request to be paid, and the business record of its payment.
type Order struct {
	ID         string // "ord_…"
	MerchantID string
	OutTradeNo string // the merchant's own number: unique per merchant, its idempotency key
	Kind       OrderKind
	Amount     int64 // fen
	Subject    string
	NotifyURL  string // "" for no webhooks
	Status     OrderStatus
	// RequestHash is the SHA-256 of the fields the merchant gave when creating the
	// order: the same out_trade_no with the same fields is the same order, with
	// different ones a mistake (422).
	RequestHash [32]byte
	// Set once paid: who paid, how, and the ledger transfer and movement of it.
	CustomerID string
	WalletID   string
	Method     string // "balance" or "card"
	CardID     string
	MovementID string // the payment in the customer's history
	Refunded   int64  // fen refunded so far
	Refunds    int    // refunds made so far
	// PromoPaid is the part of the payment that came from the payer's promo balance:
	// refunds give that share back to it, never as cash.
	PromoPaid int64
	// CouponID is the coupon the payer used, and Subsidy what its campaign paid of
	// Amount: the merchant receives the whole Amount.
	CouponID string
	Subsidy  int64
	// PromoRefunded and SubsidyRefunded are what refunds have given back so far of
	// PromoPaid and Subsidy.
	PromoRefunded   int64
	SubsidyRefunded int64
	// PointsEarned is what the payment earned, and PointsReversed what refunds
	// have taken back of it.
	PointsEarned   int64
	PointsReversed int64
	CreatedAt      time.Time
	ExpiresAt      time.Time
	PaidAt         time.Time // zero until paid
	ClosedAt       time.Time // zero unless closed
	UpdatedAt      time.Time
}

// WebhookDelivery is one event to send to a merchant's notify_url, written in the
// same transaction as the change it announces (the merchant side of the outbox), and
// the record of the attempts to send it.
type WebhookDelivery struct {
	ID         string // "whd_…"
	MerchantID string
	EventID    string // "evt_…": the same on every attempt and replay
	EventType  string // order.paid, order.closed, refund.succeeded
	URL        string
	Payload    []byte // the JSON body, signed at each attempt
	Attempts   int
	// Delivered is set once a receiver answered 2xx; until then NextAttemptAt says
	// when to try again, and a zero NextAttemptAt (with Delivered unset) means the
	// schedule ran out.
	Delivered     bool
	NextAttemptAt time.Time
	LastStatus    int    // the HTTP status of the last attempt, 0 if none came back
	LastError     string // why the last attempt failed, in words
	CreatedAt     time.Time
	UpdatedAt     time.Time
}

// Refund limits (SPEC §5).
const (
	MaxRefunds      = 50
	RefundWindow    = 366 * 24 * time.Hour // within a year of the payment
	MaxRefundReason = 80                   // characters
)

// Refund gives back some or all of a paid order's amount, to where it came from.
type Refund struct {
	ID          string // "rfd_…"
	MerchantID  string
	OrderID     string
	OutTradeNo  string
	OutRefundNo string // the merchant's own number: unique per merchant, its idempotency key
	Amount      int64
	Reason      string
	RequestHash [32]byte
	WalletID    string // where the money went back to
	MovementID  string // the refund in the customer's history
	CreatedAt   time.Time
	// Status is not stored: SUCCESS, or PROCESSING while a refund to a card waits for
	// the bank (from the refund's movement).
	Status string
}

// OrderTopup links a top-up to the order it was made to pay: paying by card is a
// top-up of the amount; auto top-up tops up the shortfall (Auto), trying the
// customer's cards in their order.
type OrderTopup struct {
	MovementID string
	OrderID    string
	Auto       bool
	CreatedAt  time.Time
}

// The webhook event types (SPEC §8).
const (
	EventOrderPaid       = "order.paid"
	EventOrderClosed     = "order.closed"
	EventRefundSucceeded = "refund.succeeded"
)

// MerchantTx is the part of Tx that keeps merchants, their orders and the webhook
// deliveries owed to them.
type MerchantTx interface {
	// CreateMerchant stores a new merchant; conflict if its id or key hash exists.
	CreateMerchant(ctx context.Context, m Merchant) error
	// MerchantByKey returns the merchant whose API key hashes to hash; not_found if none.
	MerchantByKey(ctx context.Context, hash [32]byte) (Merchant, error)
	// MerchantByID returns the merchant with this id; not_found if none.
	MerchantByID(ctx context.Context, id string) (Merchant, error)
	// Merchants returns up to limit merchants, newest first, with ids below before
	// (from the newest when before is "").
	Merchants(ctx context.Context, before string, limit int) ([]Merchant, error)

	// CreateOrder stores a new order; conflict if the merchant has one with its
	// out_trade_no already.
	CreateOrder(ctx context.Context, o Order) error
	// OrderByOutTradeNo returns the merchant's order with this number; not_found if none.
	OrderByOutTradeNo(ctx context.Context, merchantID, outTradeNo string) (Order, error)
	// OrderByID returns the order with this id; not_found if none.
	OrderByID(ctx context.Context, id string) (Order, error)
	// MerchantOrders returns up to q.Limit of q.MerchantID's orders that q selects,
	// newest first by creation time and then id. Only that merchant's orders come.
	MerchantOrders(ctx context.Context, q OrderQuery) ([]Order, error)
	// UpdateOrder stores o over the order with its id if that order's status, amount
	// refunded and number of refunds are still prev's, and reports whether it did:
	// two payments, or two refunds, racing for one order (even in two processes) never
	// both count.
	UpdateOrder(ctx context.Context, o, prev Order) (bool, error)
	// OpenOrdersExpiring returns up to limit orders still open (NOTPAY or
	// USERPAYING) whose expiry is at or before before, soonest first.
	OpenOrdersExpiring(ctx context.Context, before time.Time, limit int) ([]Order, error)

	// CreateRefund stores a new refund; conflict if the merchant has one with its
	// out_refund_no already.
	CreateRefund(ctx context.Context, r Refund) error
	// RefundByOutRefundNo returns the merchant's refund with this number; not_found if
	// none.
	RefundByOutRefundNo(ctx context.Context, merchantID, outRefundNo string) (Refund, error)
	// RefundByID returns the refund with this id; not_found if none.
	RefundByID(ctx context.Context, id string) (Refund, error)

	// CreateOrderTopup stores the link of a top-up to an order.
	CreateOrderTopup(ctx context.Context, t OrderTopup) error
	// OrderTopup returns the link of the top-up movement with this id; not_found if
	// it was made for no order.
	OrderTopup(ctx context.Context, movementID string) (OrderTopup, error)
	// OrderTopups returns the top-ups made to pay the order, oldest first.
	OrderTopups(ctx context.Context, orderID string) ([]OrderTopup, error)

	// CreateDelivery stores a new webhook delivery.
	CreateDelivery(ctx context.Context, d WebhookDelivery) error
	// DueDeliveries returns up to limit undelivered deliveries whose next attempt is
	// at or before now, oldest first.
	DueDeliveries(ctx context.Context, now time.Time, limit int) ([]WebhookDelivery, error)
	// UpdateDelivery stores d over the delivery with its id.
	UpdateDelivery(ctx context.Context, d WebhookDelivery) error
	// Deliveries returns up to limit of the merchant's deliveries, newest first, with
	// ids below before (from the newest when before is "").
	Deliveries(ctx context.Context, merchantID, before string, limit int) ([]WebhookDelivery, error)
	// Delivery returns the merchant's delivery with this id; not_found if none or
	// another merchant's.
	Delivery(ctx context.Context, merchantID, id string) (WebhookDelivery, error)
}
