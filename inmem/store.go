// Package inmem is a hebao.Store in memory, for tests of the domain and of the HTTP
// API that need a working database without one: every closure runs alone, all or
// nothing, like the real store's. It keeps the rules the real schema enforces
// (unique phones, usernames, wallets per customer, ID numbers and cards per
// customer), and nothing survives the process. Never use it for real money.
package inmem

import (
	"context"
	"errors"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/hebaopay/hebao"
)

// Store is an in-memory hebao.Store. The zero value is not ready; use New.
type Store struct {
	mu  sync.Mutex
	now func() time.Time
	d   *data
}

var _ hebao.Store = (*Store)(nil)

// data is everything stored. Transact clones it and puts the clone back if the
// closure fails.
type data struct {
	accounts      map[hebao.AccountID]hebao.Account
	transfers     []*hebao.Transfer
	head          hebao.ChainHead
	replies       map[[2]string]storedReply
	events        []hebao.Event
	otps          []hebao.OTP
	customers     map[string]hebao.Customer // by id
	wallets       map[string]hebao.Wallet   // by id
	devices       map[[2]string]hebao.Device
	sessions      map[string]hebao.Session // by id
	failures      []failure
	staff         map[string]hebao.Staff        // by id
	staffSessions map[string]hebao.StaffSession // by id
	audit         []hebao.AuditRecord
	identities    map[string]hebao.Identity        // by customer id
	cards         map[string]hebao.Card            // by id
	payPasswords  map[string]hebao.PaymentPassword // by wallet id
	notify        notifyData                       // inboxes, settings, deliveries: notification.go
	movements     map[string]hebao.Movement        // by id
	usage         map[string]hebao.Usage           // by wallet id
	merchants     map[string]hebao.Merchant        // by id
	orders        map[string]hebao.Order           // by id
	deliveries    map[string]hebao.WebhookDelivery // by id
	refunds       map[string]hebao.Refund          // by id
	codes         map[[32]byte]hebao.PaymentCode
	orderTopups   map[string]hebao.OrderTopup // by movement id
	campaigns     map[string]hebao.Campaign
	grants        map[string]hebao.Grant
	coupons       map[string]hebao.Coupon
	interest      interestData       // interest.go
	pointsExpiry  map[int]bool       // years whose points expiry finished
	tickets       ticketData         // ticket.go
	devSMS        []hebao.SMSMessage // oldest first: dev.go
	devSeed       []byte
	relay         relayData // the NATS relay queue: relay.go
}

type storedReply struct {
	hash  [32]byte
	reply hebao.Reply
}

type failure struct {
	subject string
	at      time.Time
}

func newData() *data {
	return &data{
		accounts: map[hebao.AccountID]hebao.Account{}, replies: map[[2]string]storedReply{},
		customers: map[string]hebao.Customer{}, wallets: map[string]hebao.Wallet{},
		devices: map[[2]string]hebao.Device{}, sessions: map[string]hebao.Session{},
		staff: map[string]hebao.Staff{}, staffSessions: map[string]hebao.StaffSession{},
		identities: map[string]hebao.Identity{}, cards: map[string]hebao.Card{},
		payPasswords: map[string]hebao.PaymentPassword{},
		notify:       newNotifyData(),
		movements:    map[string]hebao.Movement{}, usage: map[string]hebao.Usage{},
		merchants: map[string]hebao.Merchant{}, orders: map[string]hebao.Order{}, deliveries: map[string]hebao.WebhookDelivery{},
		refunds: map[string]hebao.Refund{}, codes: map[[32]byte]hebao.PaymentCode{},
		orderTopups: map[string]hebao.OrderTopup{},
		campaigns:   map[string]hebao.Campaign{}, grants: map[string]hebao.Grant{}, coupons: map[string]hebao.Coupon{},
		pointsExpiry: map[int]bool{},
	}
}

// clone copies d deeply enough that changes to the copy never reach d: maps and
// slices are copied; the values in them are replaced, never changed in place.
func (d *data) clone() *data {
	c := *d
	c.accounts = maps.Clone(d.accounts)
	c.transfers = slices.Clone(d.transfers)
	c.replies = maps.Clone(d.replies)
	c.events = slices.Clone(d.events)
	c.otps = slices.Clone(d.otps)
	c.customers = maps.Clone(d.customers)
	c.wallets = maps.Clone(d.wallets)
	c.devices = maps.Clone(d.devices)
	c.sessions = maps.Clone(d.sessions)
	c.failures = slices.Clone(d.failures)
	c.staff = maps.Clone(d.staff)
	c.staffSessions = maps.Clone(d.staffSessions)
	c.audit = slices.Clone(d.audit)
	c.identities = maps.Clone(d.identities)
	c.cards = maps.Clone(d.cards)
	c.payPasswords = maps.Clone(d.payPasswords)
	c.notify = d.notify.clone()
	c.movements = maps.Clone(d.movements)
	c.merchants = maps.Clone(d.merchants)
	c.orders = maps.Clone(d.orders)
	c.deliveries = maps.Clone(d.deliveries)
	c.refunds = maps.Clone(d.refunds)
	c.codes = maps.Clone(d.codes)
	c.orderTopups = maps.Clone(d.orderTopups)
	c.campaigns = maps.Clone(d.campaigns)
	c.grants = maps.Clone(d.grants)
	c.coupons = maps.Clone(d.coupons)
	c.usage = maps.Clone(d.usage)
	c.pointsExpiry = maps.Clone(d.pointsExpiry)
	c.interest = d.interest.clone()
	c.tickets = d.tickets.clone()
	c.devSMS = slices.Clone(d.devSMS)
	c.relay = d.relay.clone()
	return &c
}

// New returns an empty store whose transactions take their time from now (time.Now
// when nil).
func New(now func() time.Time) *Store {
	if now == nil {
		now = time.Now
	}
	return &Store{now: now, d: newData()}
}

// Transact implements hebao.Store: fn runs alone, and its writes stay only if it
// returns nil.
func (s *Store) Transact(ctx context.Context, fn func(hebao.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	work := s.d.clone()
	t := &tx{d: work, now: s.now().UTC().Truncate(time.Microsecond)}
	err := fn(t)
	t.done = true
	if err != nil {
		return err
	}
	for _, tr := range work.transfers[len(s.d.transfers):] {
		tr.Seal(work.head.Seq+1, t.now, work.head.Hash)
		work.head = hebao.ChainHead{Seq: tr.Seq, Hash: tr.Hash}
	}
	s.d = work
	return nil
}

// View implements hebao.Store: fn reads the committed data and may not write.
func (s *Store) View(ctx context.Context, fn func(hebao.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &tx{d: s.d.clone(), now: s.now().UTC().Truncate(time.Microsecond), readOnly: true}
	err := fn(t)
	t.done = true
	return err
}

// Ping implements hebao.Store.
func (s *Store) Ping(context.Context) error { return nil }

// tx is the hebao.Tx of one closure, working on its own copy of the data.
type tx struct {
	d        *data
	now      time.Time
	readOnly bool
	done     bool
}

var _ hebao.Tx = (*tx)(nil)

var (
	errDone     = errors.New("inmem: Tx used after its closure returned")
	errReadOnly = errors.New("inmem: write inside View; use Transact")
)

func (t *tx) read() error {
	if t.done {
		return errDone
	}
	return nil
}

func (t *tx) write() error {
	if t.readOnly {
		return errReadOnly
	}
	return t.read()
}

func (t *tx) Now() time.Time { return t.now }

func (t *tx) CreateAccount(_ context.Context, a hebao.Account) (hebao.Account, error) {
	if err := t.write(); err != nil {
		return hebao.Account{}, err
	}
	a.ID = hebao.AccountID(len(t.d.accounts) + 1)
	a.Balance, a.CreatedAt = 0, t.now
	t.d.accounts[a.ID] = a
	return a, nil
}

func (t *tx) Accounts(_ context.Context, ids ...hebao.AccountID) (map[hebao.AccountID]hebao.Account, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	out := map[hebao.AccountID]hebao.Account{}
	for _, id := range ids {
		a, ok := t.d.accounts[id]
		if !ok {
			return nil, hebao.Errorf(hebao.CodeNotFound, "account %d not found", id)
		}
		out[id] = a
	}
	return out, nil
}

// Post checks and applies the transfer at once; Transact seals it on success.
func (t *tx) Post(_ context.Context, tr *hebao.Transfer) error {
	if err := t.write(); err != nil {
		return err
	}
	if err := tr.Validate(); err != nil {
		return err
	}
	next, err := hebao.ApplyPostings(tr, t.d.accounts)
	if err != nil {
		return err
	}
	for id, bal := range next {
		a := t.d.accounts[id]
		a.Balance = bal
		t.d.accounts[id] = a
	}
	tr.CreatedAt = t.now
	tr.Balances = next
	t.d.transfers = append(t.d.transfers, tr)
	return nil
}

func (t *tx) Reply(_ context.Context, k hebao.IdempotencyKey) (*hebao.Reply, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	r, ok := t.d.replies[[2]string{k.Scope, k.Key}]
	switch {
	case !ok:
		return nil, nil
	case r.hash != k.RequestHash:
		return nil, hebao.ErrIdempotencyKeyReused
	}
	return &r.reply, nil
}

func (t *tx) SaveReply(_ context.Context, k hebao.IdempotencyKey, r hebao.Reply) error {
	if err := t.write(); err != nil {
		return err
	}
	t.d.replies[[2]string{k.Scope, k.Key}] = storedReply{hash: k.RequestHash, reply: r}
	return nil
}

func (t *tx) Emit(_ context.Context, e hebao.Event) error {
	if err := t.write(); err != nil {
		return err
	}
	if e.ID == "" {
		e.ID = hebao.NewID("evt")
	}
	e.CreatedAt = t.now
	t.d.events = append(t.d.events, e)
	return nil
}

func (t *tx) OTPs(_ context.Context, phone string, since time.Time) ([]hebao.OTP, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.OTP
	for _, o := range slices.Backward(t.d.otps) {
		if o.Phone == phone && !o.SentAt.Before(since) {
			out = append(out, o)
		}
	}
	return out, nil
}

func (t *tx) CreateOTP(_ context.Context, o hebao.OTP) error {
	if err := t.write(); err != nil {
		return err
	}
	t.d.otps = append(t.d.otps, o)
	return nil
}

func (t *tx) AddOTPCheck(_ context.Context, id string) error {
	if err := t.write(); err != nil {
		return err
	}
	for i := range t.d.otps {
		if t.d.otps[i].ID == id {
			t.d.otps[i].Checks++
			return nil
		}
	}
	return hebao.Errorf(hebao.CodeNotFound, "SMS code %s not found", id)
}

func (t *tx) UseOTP(_ context.Context, id string, at time.Time) (bool, error) {
	if err := t.write(); err != nil {
		return false, err
	}
	for i := range t.d.otps {
		if t.d.otps[i].ID == id && t.d.otps[i].UsedAt.IsZero() {
			t.d.otps[i].UsedAt = at
			return true, nil
		}
	}
	return false, nil
}

// ledgerKey is the checkpoint key of every in-memory ledger: nothing here is secret.
var ledgerKey = []byte("inmem ledger checkpoint key")

// Verify implements hebao.LedgerVerifier on the committed data, which Transact
// replaces rather than changes, so it is read without holding the lock.
func (s *Store) Verify(ctx context.Context) (*hebao.VerifyReport, error) {
	s.mu.Lock()
	d := s.d
	s.mu.Unlock()
	return hebao.Verify(ctx, journal{d}, ledgerKey)
}

var _ hebao.LedgerVerifier = (*Store)(nil)

// journal is the committed data as hebao.Verify reads it.
type journal struct{ d *data }

func (j journal) EachAccount(_ context.Context, fn func(hebao.Account) error) error {
	for _, id := range slices.Sorted(maps.Keys(j.d.accounts)) {
		if err := fn(j.d.accounts[id]); err != nil {
			return err
		}
	}
	return nil
}

func (j journal) EachTransfer(_ context.Context, fn func(*hebao.Transfer) error) error {
	for _, tr := range j.d.transfers {
		if err := fn(tr); err != nil {
			return err
		}
	}
	return nil
}

func (j journal) Head(context.Context) (hebao.ChainHead, [32]byte, error) {
	return j.d.head, j.d.head.Checkpoint(ledgerKey), nil
}

func (j journal) PostingCount(context.Context) (int64, error) {
	var n int64
	for _, tr := range j.d.transfers {
		n += int64(len(tr.Postings))
	}
	return n, nil
}
