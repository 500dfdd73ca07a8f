package hebao

import (
	"context"
	"crypto/sha256"
	"time"
)

// Store is where every use case reads and writes. Each write is one call to Transact:
// "load, decide, write" inside fn, which must do nothing but call tx (no network, no
// sleeping) because the store may run it more than once and runs it beside others.
type Store interface {
	// Transact runs fn in a database transaction and returns once its writes are
	// durable, or returns fn's error (or the store's) with nothing of fn written.
	// The store may run many callers' closures in one database commit, each as if
	// alone: one that fails is rolled back on its own. fn may be run again if the
	// database asks for a retry, so it must not keep state across runs.
	Transact(ctx context.Context, fn func(tx Tx) error) error
	// View runs fn on a read-only snapshot, beside the writers rather than queued
	// behind them: for reads such as GET requests. fn's Tx refuses every write.
	View(ctx context.Context, fn func(tx Tx) error) error
	// Ping reports whether the database can be reached.
	Ping(ctx context.Context) error
}

// Tx is the view of the database inside Transact. Reads see everything written before
// them in the same closure and in closures committed before it.
type Tx interface {
	// Now is the time of the transaction; use it for every timestamp written.
	Now() time.Time
	// CreateAccount stores a new account and returns it with its id.
	CreateAccount(ctx context.Context, a Account) (Account, error)
	// Accounts returns the accounts with the given ids, locked for the rest of the
	// transaction. A missing account is not_found.
	Accounts(ctx context.Context, ids ...AccountID) (map[AccountID]Account, error)
	// Post validates t, checks it against the balances (insufficient_funds when an
	// account that may not go negative would), and records it. Seq, CreatedAt,
	// PrevHash and Hash are set when Transact returns nil.
	Post(ctx context.Context, t *Transfer) error
	// Reply looks up an idempotency key: the stored reply if the key was used with the
	// same request, nil if it is unused, idempotency_key_reused if it was used with a
	// different request, idempotency_key_in_use if its first request has not finished.
	Reply(ctx context.Context, k IdempotencyKey) (*Reply, error)
	// SaveReply claims k and stores the reply to send again for it.
	SaveReply(ctx context.Context, k IdempotencyKey, r Reply) error
	// Emit writes an event to the outbox, to be delivered after the commit.
	Emit(ctx context.Context, e Event) error

	// OTPs returns the SMS codes sent to phone at or after since, newest first, and
	// locks the phone until the end of the transaction: decisions about one phone's
	// codes (a send against the limits, a check against its count) are taken one at
	// a time, even by several processes sharing a database.
	OTPs(ctx context.Context, phone string, since time.Time) ([]OTP, error)
	// CreateOTP stores a new code.
	CreateOTP(ctx context.Context, o OTP) error
	// AddOTPCheck counts one more check of the code with the given id; not_found if
	// there is none.
	AddOTPCheck(ctx context.Context, id string) error
	// UseOTP marks the code with the given id used at at, and reports whether it
	// did: false, changing nothing, when the code was used already or does not exist.
	UseOTP(ctx context.Context, id string, at time.Time) (bool, error)

	CustomerTx
	SessionTx
	StaffTx
	AuditTx
	IdentityTx
	CardTx
	PaymentPasswordTx
	MovementTx
	NotificationTx
	RelayTx
	MerchantTx
	BillTx
	PaymentCodeTx
	CampaignTx
	CouponTx
	InterestTx
	PointsTx
	TicketTx
	StatsTx
	DevTx
}

// CustomerTx is the part of Tx that keeps customers, their wallets and their devices.
type CustomerTx interface {
	// CreateCustomer stores a new customer; conflict if the phone has one already.
	CreateCustomer(ctx context.Context, c Customer) error
	// CustomerByPhone returns the customer with this phone; not_found if none.
	CustomerByPhone(ctx context.Context, phone string) (Customer, error)
	// CreateWallet stores a new wallet; conflict if the customer has one already.
	CreateWallet(ctx context.Context, w Wallet) error
	// WalletByCustomer returns the customer's wallet; not_found if none.
	WalletByCustomer(ctx context.Context, customerID string) (Wallet, error)
	// WalletByID returns the wallet with this id; not_found if none.
	WalletByID(ctx context.Context, id string) (Wallet, error)
	// SetWalletStatus sets the status of the wallet with the given id; not_found if
	// there is none.
	SetWalletStatus(ctx context.Context, walletID string, status WalletStatus) error
	// AddDevice records a device as known for its customer; adding a known device
	// again changes nothing.
	AddDevice(ctx context.Context, d Device) error
	// KnownDevice reports whether the customer has signed in from the device.
	KnownDevice(ctx context.Context, customerID, deviceID string) (bool, error)
}

// SessionTx is the part of Tx that keeps customers' sessions and the failed
// sign-ins that throttle guessing.
type SessionTx interface {
	// CreateSession stores a new session.
	CreateSession(ctx context.Context, s Session) error
	// SessionByToken returns the session whose token hashes to hash; not_found if
	// none.
	SessionByToken(ctx context.Context, hash [32]byte) (Session, error)
	// TouchSession moves the session's last use forward to at (never back).
	TouchSession(ctx context.Context, id string, at time.Time) error
	// DeleteSession removes one session and reports whether there was one.
	DeleteSession(ctx context.Context, id string) (bool, error)
	// DeleteSessions removes the customer's sessions last used before idleBefore,
	// or all of them when idleBefore is zero, and returns how many it removed.
	DeleteSessions(ctx context.Context, customerID string, idleBefore time.Time) (int, error)
	// LoginFailures returns the times of the failed sign-ins for subject (a phone,
	// or "staff:" and a username) at or after since, oldest first.
	LoginFailures(ctx context.Context, subject string, since time.Time) ([]time.Time, error)
	// AddLoginFailure records a failed sign-in for subject at at.
	AddLoginFailure(ctx context.Context, subject string, at time.Time) error
	// DeleteLoginFailures forgets subject's failed sign-ins before before, or all
	// of them when before is zero.
	DeleteLoginFailures(ctx context.Context, subject string, before time.Time) error
}

// StaffTx is the part of Tx that keeps staff accounts and their sessions.
type StaffTx interface {
	// CreateStaff stores a new staff account; conflict if the username is taken.
	CreateStaff(ctx context.Context, s Staff) error
	// StaffByUsername returns the staff account; not_found if none.
	StaffByUsername(ctx context.Context, username string) (Staff, error)
	// StaffByID returns the staff account; not_found if none.
	StaffByID(ctx context.Context, id string) (Staff, error)
	// CreateStaffSession stores a new staff session.
	CreateStaffSession(ctx context.Context, s StaffSession) error
	// StaffSessionByToken returns the staff session whose token hashes to hash;
	// not_found if none.
	StaffSessionByToken(ctx context.Context, hash [32]byte) (StaffSession, error)
	// TouchStaffSession moves the session's last use forward to at (never back).
	TouchStaffSession(ctx context.Context, id string, at time.Time) error
	// DeleteStaffSession removes one staff session and reports whether there was one.
	DeleteStaffSession(ctx context.Context, id string) (bool, error)
	// DeleteStaffSessions removes the staff member's sessions last used before
	// idleBefore, or all of them when idleBefore is zero, and returns how many.
	DeleteStaffSessions(ctx context.Context, staffID string, idleBefore time.Time) (int, error)
}

// AuditTx is the part of Tx that keeps the append-only audit log.
type AuditTx interface {
	// AddAudit appends a record; its Seq is assigned by the store.
	AddAudit(ctx context.Context, r AuditRecord) error
	// AuditLog returns up to limit records, newest first, with Seq below before
	// (from the newest when before is 0).
	AuditLog(ctx context.Context, before int64, limit int) ([]AuditRecord, error)
}

// LedgerVerifier proves the whole ledger (SPEC §2): the store's side of
// `hebao verify` and GET /v1/admin/ledger/verify. Not to be confused with the face
// check's Verifier of SPEC §6.
type LedgerVerifier interface {
	// Verify reads the journal in one snapshot and reports what it found; the
	// error is for failures to read, and a broken ledger is a report with OK false.
	Verify(ctx context.Context) (*VerifyReport, error)
}

// IdempotencyKey is a client's Idempotency-Key, scoped to the principal and route, with
// a hash of the request it first came with.
type IdempotencyKey struct {
	Scope       string // principal and route, e.g. "cus_123 POST /v1/transfers"
	Key         string
	RequestHash [32]byte
}

// NewIdempotencyKey returns the key for a request whose canonical body is body.
func NewIdempotencyKey(scope, key string, body []byte) IdempotencyKey {
	return IdempotencyKey{Scope: scope, Key: key, RequestHash: sha256.Sum256(body)}
}

// Reply is what was answered to the first request with a key: sent again, byte for
// byte, to every retry. Status 0 means the first request is still running.
type Reply struct {
	Status int
	Body   []byte
}

// Event is a row of the transactional outbox, written in the same transaction as the
// change it announces. Delivery is at least once; ID lets receivers drop duplicates.
type Event struct {
	ID        string
	Kind      string
	Payload   []byte // JSON
	CreatedAt time.Time
}

// SessionFinder is a Store that reads one session by its token's hash in a single
// statement, with no transaction around it: authentication does this for every
// request, and on PostgreSQL a View costs three round trips (begin, the read, the
// end) where one will do. It answers what SessionByToken would inside a View, and
// the store's time now.
type SessionFinder interface {
	FindSession(ctx context.Context, tokenHash [32]byte) (Session, time.Time, error)
}

// MerchantFinder is a Store that reads a merchant by its API key's hash in a single
// statement, with no transaction around it (see SessionFinder): every merchant
// request authenticates. It answers what MerchantByKey would inside a View.
type MerchantFinder interface {
	FindMerchant(ctx context.Context, apiKeyHash [32]byte) (Merchant, error)
}

// OrderCreator is a Store that stores a merchant's new order in one statement, with
// no transaction around it: creating an order moves no money, and it is the first
// of a payment's two requests. It calls build once, with the store's clock, for the
// order to store; if the order's merchant already has an order with its
// out_trade_no, nothing is stored and that order is returned with false. It does
// what Transact does with a closure that calls OrderByOutTradeNo and, when that
// finds none, CreateOrder.
type OrderCreator interface {
	CreateOrderOnce(ctx context.Context, build func(now time.Time) Order) (Order, bool, error)
}

// ReadAhead names the rows a Transact closure reads first, so that a store that
// pays a network round trip for every read (PostgreSQL) can read those of a whole
// batch of closures at once, before they run. It is only a hint, carried by the
// context given to Transact: the closure reads as it always does, and a store may
// ignore it.
type ReadAhead struct {
	Key         IdempotencyKey // looked up by Tx.Reply (Once sets it)
	Payer       string         // a customer id, read by Tx.Payer
	PayeeWallet string         // a wallet id, read by Tx.Payee
	PayeePhone  string         // a phone, read by Tx.Payee
	Order       string         // an order id, read by Tx.OrderByID
}

type readAheadKey struct{}

type movesNoMoneyKey struct{}

// MovesNoMoney marks the context of a Transact whose closure posts no transfer and
// reads no account: the notification dispatcher's, which stores notifications and
// marks outbox events delivered. A store whose money-moving batches queue behind
// one lock (the chain head, on PostgreSQL shared by several processes) may run
// such a closure in a transaction of its own beside them; the closure's writes are
// still atomic and durable when Transact returns. A store refuses the closure's
// Post and Accounts then.
func MovesNoMoney(ctx context.Context) context.Context {
	return context.WithValue(ctx, movesNoMoneyKey{}, true)
}

// MovesNoMoneyOf reports whether ctx was marked by MovesNoMoney.
func MovesNoMoneyOf(ctx context.Context) bool {
	v, _ := ctx.Value(movesNoMoneyKey{}).(bool)
	return v
}

// WithReadAhead returns ctx carrying ra for the Transact it is given to.
func WithReadAhead(ctx context.Context, ra ReadAhead) context.Context {
	return context.WithValue(ctx, readAheadKey{}, ra)
}

// ReadAheadOf returns the hint ctx carries, if any.
func ReadAheadOf(ctx context.Context) (ReadAhead, bool) {
	ra, ok := ctx.Value(readAheadKey{}).(ReadAhead)
	return ra, ok
}
