package hebao

import (
	"context"
	"crypto/hmac"
	"fmt"
	"sort"
	"strings"
)

// Journal is what verification reads: the whole ledger, streamed in order.
type Journal interface {
	// EachAccount calls fn for every account, with its stored balance.
	EachAccount(ctx context.Context, fn func(Account) error) error
	// EachTransfer calls fn for every transfer with its postings, in sequence order.
	EachTransfer(ctx context.Context, fn func(*Transfer) error) error
	// Head returns the stored chain head and its checkpoint MAC.
	Head(ctx context.Context) (ChainHead, [32]byte, error)
	// PostingCount returns how many posting rows are stored, so that postings which
	// belong to no transfer (and so are never streamed) are noticed too.
	PostingCount(ctx context.Context) (int64, error)
}

// VerifyReport is what Verify found. OK is true only when Problems is empty.
type VerifyReport struct {
	OK        bool           `json:"ok"`
	Transfers int64          `json:"transfers"`
	Postings  int64          `json:"postings"`
	Accounts  int64          `json:"accounts"`
	HeadSeq   int64          `json:"head_seq"`
	HeadHash  string         `json:"head_hash"`
	Sums      map[Unit]int64 `json:"sums"`   // per unit over all stored balances: must be 0
	Issued    map[Unit]int64 `json:"issued"` // per unit, the sum of positive postings
	FirstBad  *BadTransfer   `json:"first_bad,omitempty"`
	Problems  []string       `json:"problems,omitempty"`
}

// BadTransfer names the first transfer whose record does not hold up.
type BadTransfer struct {
	Seq    int64  `json:"seq"`
	ID     string `json:"id"`
	Reason string `json:"reason"`
}

// maxProblems keeps a report readable when a whole database is broken.
const maxProblems = 50

// Verify re-reads the whole journal and proves it: every transfer's postings sum to
// zero per unit and use their account's unit; sequence numbers run 1, 2, 3… with no
// gap; every hash links to the one before and matches the transfer's contents; the
// stored chain head is the last transfer and carries a valid checkpoint under key;
// no posting row lies outside a transfer; every account's unit and sign rule are those
// of its kind; every stored balance equals the sum of its postings; and no account
// that may not go negative is negative, now or at any point in history. The error is for failures to
// read; a ledger that does not verify is a report with OK false.
func Verify(ctx context.Context, j Journal, key []byte) (*VerifyReport, error) {
	r := &VerifyReport{Sums: map[Unit]int64{}, Issued: map[Unit]int64{}}
	problem := func(format string, args ...any) {
		if len(r.Problems) < maxProblems {
			r.Problems = append(r.Problems, fmt.Sprintf(format, args...))
		}
	}
	bad := func(t *Transfer, format string, args ...any) {
		reason := fmt.Sprintf(format, args...)
		if r.FirstBad == nil {
			r.FirstBad = &BadTransfer{Seq: t.Seq, ID: t.ID, Reason: reason}
		}
		problem("transfer seq %d (%s): %s", t.Seq, t.ID, reason)
	}

	accounts := map[AccountID]Account{}
	if err := j.EachAccount(ctx, func(a Account) error {
		accounts[a.ID] = a
		return nil
	}); err != nil {
		return nil, fmt.Errorf("verify: read accounts: %w", err)
	}
	r.Accounts = int64(len(accounts))

	running := make(map[AccountID]int64, len(accounts))
	wentNegative := map[AccountID]int64{}
	var prev ChainHead
	if err := j.EachTransfer(ctx, func(t *Transfer) error {
		r.Transfers++
		r.Postings += int64(len(t.Postings))
		if t.Seq != prev.Seq+1 {
			bad(t, "sequence number %d follows %d", t.Seq, prev.Seq)
		}
		if t.PrevHash != prev.Hash {
			bad(t, "previous hash does not match the transfer before it")
		}
		if t.ChainHash(t.PrevHash) != t.Hash {
			bad(t, "hash does not match its contents")
		}
		sums := map[Unit]int64{}
		for _, p := range t.Postings {
			sums[p.Unit] += p.Amount
			if p.Amount > 0 {
				r.Issued[p.Unit] += p.Amount
			}
			a, ok := accounts[p.Account]
			switch {
			case !ok:
				bad(t, "posting to account %d, which does not exist", p.Account)
			case a.Unit != p.Unit:
				bad(t, "posting in %s to account %d kept in %s", p.Unit, p.Account, a.Unit)
			}
			b := running[p.Account] + p.Amount
			running[p.Account] = b
			if ok && !a.MayGoNegative && b < 0 {
				if _, seen := wentNegative[p.Account]; !seen {
					wentNegative[p.Account] = t.Seq
					bad(t, "account %d (%s) went negative: %d", p.Account, a.Kind, b)
				}
			}
		}
		if len(t.Postings) < 2 {
			bad(t, "has %d postings", len(t.Postings))
		}
		for u, s := range sums {
			if s != 0 {
				bad(t, "postings in %s sum to %d", u, s)
			}
		}
		prev = ChainHead{Seq: t.Seq, Hash: t.Hash}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("verify: read transfers: %w", err)
	}

	stored, err := j.PostingCount(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: count postings: %w", err)
	}
	if stored != r.Postings {
		problem("%d posting rows are stored but %d belong to transfers: postings were added or moved outside the journal", stored, r.Postings)
	}

	head, mac, err := j.Head(ctx)
	if err != nil {
		return nil, fmt.Errorf("verify: read chain head: %w", err)
	}
	r.HeadSeq = head.Seq
	r.HeadHash = fmt.Sprintf("%x", head.Hash)
	if head != prev {
		problem("chain head says seq %d hash %x, but the last transfer is seq %d hash %x: the journal was cut or rewritten",
			head.Seq, head.Hash[:6], prev.Seq, prev.Hash[:6])
	}
	if want := head.Checkpoint(key); !hmac.Equal(want[:], mac[:]) {
		problem("chain head checkpoint does not verify under the ledger key: the head was rewritten, or the key is not this ledger's")
	}

	ids := make([]AccountID, 0, len(accounts))
	for id := range accounts {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, k int) bool { return ids[i] < ids[k] })
	for _, id := range ids {
		a := accounts[id]
		if rule, ok := accountKinds[a.Kind]; ok && (rule.unit != a.Unit || rule.mayGoNegative != a.MayGoNegative) {
			problem("account %d (%s) is kept in %s and may-go-negative=%v, but its kind says %s and %v: the account was altered",
				id, a.Kind, a.Unit, a.MayGoNegative, rule.unit, rule.mayGoNegative)
		} else if !ok && a.Kind != AccountTest {
			problem("account %d has unknown kind %q", id, truncate(string(a.Kind), 32))
		}
		r.Sums[a.Unit] += a.Balance
		if a.Balance != running[id] {
			problem("account %d (%s): stored balance %d, postings sum to %d", id, a.Kind, a.Balance, running[id])
		}
		if !a.MayGoNegative && a.Balance < 0 {
			problem("account %d (%s) may not go negative but holds %d", id, a.Kind, a.Balance)
		}
	}
	for u, s := range r.Sums {
		if s != 0 {
			problem("stored balances in %s sum to %d, not zero", u, s)
		}
	}
	r.OK = len(r.Problems) == 0
	return r, nil
}

// String prints the report the way `hebao verify` shows it.
func (r *VerifyReport) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "transfers: %d\npostings:  %d\naccounts:  %d\n", r.Transfers, r.Postings, r.Accounts)
	fmt.Fprintf(&b, "chain head: seq %d hash %s\n", r.HeadSeq, r.HeadHash)
	for _, u := range []Unit{CNY, POINT} {
		fmt.Fprintf(&b, "%-5s balances sum to %d, %d moved in all\n", u, r.Sums[u], r.Issued[u])
	}
	if r.OK {
		b.WriteString("OK: every transfer balances, the hash chain is unbroken, every balance matches its postings\n")
		return b.String()
	}
	if r.FirstBad != nil {
		fmt.Fprintf(&b, "FIRST BAD TRANSFER: seq %d id %s: %s\n", r.FirstBad.Seq, r.FirstBad.ID, r.FirstBad.Reason)
	}
	for _, p := range r.Problems {
		fmt.Fprintf(&b, "PROBLEM: %s\n", p)
	}
	return b.String()
}
