package hebao

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"slices"
	"time"
)

// AccountID identifies a ledger account. IDs are assigned by the store in ascending
// order; when one operation touches several accounts it locks them in ascending id
// order.
type AccountID int64

// AccountKind says what an account is for, and with it whether it may go negative.
type AccountKind string

// The account kinds.
const (
	AccountWallet           AccountKind = "wallet"             // a customer's CNY balance
	AccountPromo            AccountKind = "promo"              // a customer's red-packet balance
	AccountPoints           AccountKind = "points"             // a customer's points (POINT)
	AccountMerchant         AccountKind = "merchant"           // a merchant's settlement account
	AccountBankClearing     AccountKind = "bank_clearing"      // money in transit with one bank
	AccountCampaignBudget   AccountKind = "campaign_budget"    // a campaign's budget: never overspent
	AccountMarketingFunding AccountKind = "marketing_funding"  // where campaign budgets come from
	AccountInterestExpense  AccountKind = "interest_expense"   // operator pays interest from here
	AccountRefundsInTransit AccountKind = "refunds_in_transit" // refunds on their way to a card
	AccountPointsIssuance   AccountKind = "points_issuance"    // source of all points (POINT)
	// AccountWithdrawalsInTransit holds withdrawals the bank has not yet paid out: the
	// money left the wallet at once and returns to it if the bank declines.
	AccountWithdrawalsInTransit AccountKind = "withdrawals_in_transit"
	AccountTest                 AccountKind = "test" // accounts made by tests and benchmarks
)

var accountKinds = map[AccountKind]struct {
	unit          Unit
	mayGoNegative bool
}{
	AccountWallet:               {CNY, false},
	AccountPromo:                {CNY, false},
	AccountPoints:               {POINT, false},
	AccountMerchant:             {CNY, false},
	AccountBankClearing:         {CNY, true},
	AccountCampaignBudget:       {CNY, false},
	AccountMarketingFunding:     {CNY, true},
	AccountInterestExpense:      {CNY, true},
	AccountRefundsInTransit:     {CNY, false},
	AccountPointsIssuance:       {POINT, true},
	AccountWithdrawalsInTransit: {CNY, false},
}

// Account is one ledger account and its current balance.
type Account struct {
	ID    AccountID
	Kind  AccountKind
	Unit  Unit
	Owner string // the id of what owns it (wallet, merchant, campaign, bank code); may be ""
	// MayGoNegative is false for every account that holds someone's money or a budget:
	// the store refuses, and a database CHECK constraint backs the refusal.
	MayGoNegative bool
	Balance       int64
	CreatedAt     time.Time
}

// NewAccount returns an account of kind k with the unit and sign rule that kind
// implies. Test accounts take unit and rule from the arguments.
func NewAccount(k AccountKind, owner string, unit Unit, mayGoNegative bool) (Account, error) {
	if k == AccountTest {
		if !unit.Valid() {
			return Account{}, Errorf(CodeInvalidRequest, "unknown unit %q", unit)
		}
		return Account{Kind: k, Unit: unit, Owner: owner, MayGoNegative: mayGoNegative}, nil
	}
	r, ok := accountKinds[k]
	if !ok {
		return Account{}, Errorf(CodeInvalidRequest, "unknown account kind %q", k)
	}
	return Account{Kind: k, Unit: r.unit, Owner: owner, MayGoNegative: r.mayGoNegative}, nil
}

// TransferKind names the business event a transfer records.
type TransferKind string

// The transfer kinds.
const (
	TransferTopup         TransferKind = "topup"
	TransferWithdrawal    TransferKind = "withdrawal"
	TransferP2P           TransferKind = "p2p"
	TransferPayment       TransferKind = "payment"
	TransferRefund        TransferKind = "refund"
	TransferPromo         TransferKind = "promo"
	TransferCouponSubsidy TransferKind = "coupon_subsidy"
	TransferPointsEarn    TransferKind = "points_earn"
	TransferPointsRedeem  TransferKind = "points_redeem"
	TransferInterest      TransferKind = "interest"
	TransferFunding       TransferKind = "funding"
	TransferHold          TransferKind = "hold"
	TransferRelease       TransferKind = "release"
	TransferExpiry        TransferKind = "expiry"
	TransferReversal      TransferKind = "reversal"
	TransferTest          TransferKind = "test"
)

var transferKinds = map[TransferKind]bool{
	TransferTopup: true, TransferWithdrawal: true, TransferP2P: true, TransferPayment: true,
	TransferRefund: true, TransferPromo: true, TransferCouponSubsidy: true, TransferPointsEarn: true,
	TransferPointsRedeem: true, TransferInterest: true, TransferFunding: true, TransferHold: true,
	TransferRelease: true, TransferExpiry: true, TransferReversal: true, TransferTest: true,
}

// Posting moves Amount of Unit into (positive) or out of (negative) an account.
type Posting struct {
	Account AccountID
	Unit    Unit
	Amount  int64
}

// Transfer is one immutable, balanced movement of value: its postings sum to zero per
// unit. ID, Kind, Ref and Postings are set by the caller; Seq, CreatedAt, PrevHash and
// Hash are set by the store when the transfer is committed.
type Transfer struct {
	ID        string
	Seq       int64
	Kind      TransferKind
	Ref       string // the business reference: order, refund, top-up id
	Postings  []Posting
	CreatedAt time.Time
	PrevHash  [32]byte
	Hash      [32]byte
	// Balances is set by Post: the balance of each of the transfer's accounts right
	// after it, in journal order. It is not part of the canonical encoding.
	Balances map[AccountID]int64
}

// MaxPostings bounds the size of one transfer.
const MaxPostings = 64

// maxPosting bounds one posting; with MaxPostings of them no sum can overflow int64.
const maxPosting int64 = 1 << 53

// Validate checks the rules a transfer must meet before it touches any account: an id,
// a known kind, two to MaxPostings postings, no zero amounts, no account twice, and a
// zero sum per unit. It returns invalid_request naming the broken rule.
func (t *Transfer) Validate() error {
	bad := func(format string, args ...any) error {
		return Errorf(CodeInvalidRequest, "transfer: "+format, args...)
	}
	if t.ID == "" || len(t.ID) > 64 {
		return bad("id must be 1 to 64 bytes")
	}
	if !transferKinds[t.Kind] {
		return bad("unknown kind %q", truncate(string(t.Kind), 32))
	}
	if len(t.Ref) > 128 {
		return bad("ref must be at most 128 bytes")
	}
	if len(t.Postings) < 2 || len(t.Postings) > MaxPostings {
		return bad("needs 2 to %d postings, has %d", MaxPostings, len(t.Postings))
	}
	sums := map[Unit]int64{}
	seen := make(map[AccountID]bool, len(t.Postings))
	for _, p := range t.Postings {
		if !p.Unit.Valid() {
			return bad("unknown unit %q", p.Unit)
		}
		if p.Amount == 0 || p.Amount > maxPosting || p.Amount < -maxPosting {
			return bad("posting amount %d out of range", p.Amount)
		}
		if seen[p.Account] {
			return bad("account %d appears twice", p.Account)
		}
		seen[p.Account] = true
		sums[p.Unit] += p.Amount
	}
	for u, s := range sums {
		if s != 0 {
			return bad("postings in %s sum to %d, not zero", u, s)
		}
	}
	return nil
}

// Move returns the two postings that move amount of unit from one account to another.
func Move(from, to AccountID, unit Unit, amount int64) []Posting {
	return []Posting{{Account: from, Unit: unit, Amount: -amount}, {Account: to, Unit: unit, Amount: amount}}
}

// Reverse returns a new transfer that undoes t: the same postings with the signs
// turned, of kind reversal, referring to t by id. Nothing in the journal is ever
// edited; a correction is always a new transfer.
func (t *Transfer) Reverse(id string) *Transfer {
	r := &Transfer{ID: id, Kind: TransferReversal, Ref: t.ID, Postings: make([]Posting, len(t.Postings))}
	for i, p := range t.Postings {
		r.Postings[i] = Posting{Account: p.Account, Unit: p.Unit, Amount: -p.Amount}
	}
	return r
}

// CanonicalEncoding returns the bytes a transfer's hash covers. It is fixed forever
// (version 1); integers are big-endian, strings are a uint32 byte length then the bytes:
//
//	"hebao.transfer.v1"      the 17 ASCII bytes, no length
//	seq                      uint64
//	id, kind, ref            strings
//	created_at               int64, microseconds since the Unix epoch, UTC
//	number of postings       uint32
//	for each posting, in the transfer's order:
//	  account id             int64
//	  unit                   string
//	  amount                 int64 (two's complement)
func (t *Transfer) CanonicalEncoding() []byte {
	n := 17 + 8 + 12 + len(t.ID) + len(t.Kind) + len(t.Ref) + 8 + 4
	for _, p := range t.Postings {
		n += 8 + 4 + len(p.Unit) + 8
	}
	b := make([]byte, 0, n)
	b = append(b, "hebao.transfer.v1"...)
	b = binary.BigEndian.AppendUint64(b, uint64(t.Seq))
	b = appendString(b, t.ID)
	b = appendString(b, string(t.Kind))
	b = appendString(b, t.Ref)
	b = binary.BigEndian.AppendUint64(b, uint64(t.CreatedAt.UnixMicro()))
	b = binary.BigEndian.AppendUint32(b, uint32(len(t.Postings)))
	for _, p := range t.Postings {
		b = binary.BigEndian.AppendUint64(b, uint64(p.Account))
		b = appendString(b, string(p.Unit))
		b = binary.BigEndian.AppendUint64(b, uint64(p.Amount))
	}
	return b
}

func appendString(b []byte, s string) []byte {
	b = binary.BigEndian.AppendUint32(b, uint32(len(s)))
	return append(b, s...)
}

// ChainHash returns SHA-256(prev ‖ CanonicalEncoding()): the hash that links t to the
// transfer before it. The first transfer's prev is 32 zero bytes.
func (t *Transfer) ChainHash(prev [32]byte) [32]byte {
	h := sha256.New()
	h.Write(prev[:])
	h.Write(t.CanonicalEncoding())
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// Seal sets t's place in the chain: its sequence number, creation time (truncated to
// the microsecond the encoding keeps), previous hash and hash.
func (t *Transfer) Seal(seq int64, at time.Time, prev [32]byte) {
	t.Seq = seq
	t.CreatedAt = at.UTC().Truncate(time.Microsecond)
	t.PrevHash = prev
	t.Hash = t.ChainHash(prev)
}

// ChainHead is the newest point of the hash chain: the last transfer's sequence
// number and hash (zero and zero bytes for an empty ledger).
type ChainHead struct {
	Seq  int64
	Hash [32]byte
}

// Checkpoint returns HMAC-SHA-256(key, "hebao.checkpoint.v1" ‖ seq ‖ hash). The store
// keeps it beside the chain head; the key lives outside the database, so whoever can
// edit the database can neither rewrite history and re-hash it nor cut off its tail
// without verify noticing.
func (h ChainHead) Checkpoint(key []byte) [32]byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte("hebao.checkpoint.v1"))
	m.Write(binary.BigEndian.AppendUint64(nil, uint64(h.Seq)))
	m.Write(h.Hash[:])
	var out [32]byte
	m.Sum(out[:0])
	return out
}

// sortedAccounts returns the distinct accounts of ps in ascending order: the order in
// which a store locks them.
func sortedAccounts(ps []Posting) []AccountID {
	ids := make([]AccountID, len(ps))
	for i, p := range ps {
		ids[i] = p.Account
	}
	slices.Sort(ids)
	return slices.Compact(ids)
}

// SortedAccounts returns the distinct accounts t touches, in ascending id order.
func (t *Transfer) SortedAccounts() []AccountID { return sortedAccounts(t.Postings) }

// ApplyPostings checks t's postings against the accounts they touch and returns the
// new balances, without changing anything. It is the ledger's one decision: every
// posting's unit must be its account's unit, and no account that may not go negative
// may end below zero (insufficient_funds, naming nothing the caller does not own).
func ApplyPostings(t *Transfer, accounts map[AccountID]Account) (map[AccountID]int64, error) {
	next := make(map[AccountID]int64, len(t.Postings))
	for _, p := range t.Postings {
		a, ok := accounts[p.Account]
		if !ok {
			return nil, Errorf(CodeNotFound, "account %d not found", p.Account)
		}
		if a.Unit != p.Unit {
			return nil, Errorf(CodeInvalidRequest, "posting in %s to an account kept in %s", p.Unit, a.Unit)
		}
		b, seen := next[p.Account]
		if !seen {
			b = a.Balance
		}
		next[p.Account] = b + p.Amount
	}
	// The sign rule is checked on the sums, so an account named twice cannot be
	// spent twice.
	for id, b := range next {
		if !accounts[id].MayGoNegative && b < 0 {
			return nil, Errorf(CodeInsufficientFunds, "the balance is not enough for this amount")
		}
	}
	return next, nil
}

// String is for logs and test failures.
func (t *Transfer) String() string {
	return fmt.Sprintf("transfer %s seq=%d kind=%s ref=%q postings=%v", t.ID, t.Seq, t.Kind, t.Ref, t.Postings)
}
