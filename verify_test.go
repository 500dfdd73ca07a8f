package hebao_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"pgregory.net/rapid"

	"github.com/hebaopay/hebao"
)

var testKey = []byte("test ledger key, kept outside the database")

// memJournal is a ledger held in memory, as a store would hand it to Verify.
type memJournal struct {
	accounts  []hebao.Account
	transfers []*hebao.Transfer
	head      hebao.ChainHead
	mac       [32]byte
	err       error // returned by every read when set
	orphans   int64 // posting rows stored outside any transfer
}

var _ hebao.Journal = (*memJournal)(nil)

func (j *memJournal) EachAccount(ctx context.Context, fn func(hebao.Account) error) error {
	if j.err != nil {
		return j.err
	}
	for _, a := range j.accounts {
		if err := fn(a); err != nil {
			return err
		}
	}
	return nil
}

func (j *memJournal) EachTransfer(ctx context.Context, fn func(*hebao.Transfer) error) error {
	if j.err != nil {
		return j.err
	}
	for _, t := range j.transfers {
		if err := fn(t); err != nil {
			return err
		}
	}
	return nil
}

func (j *memJournal) Head(ctx context.Context) (hebao.ChainHead, [32]byte, error) {
	return j.head, j.mac, j.err
}

func (j *memJournal) PostingCount(ctx context.Context) (int64, error) {
	var n int64
	for _, t := range j.transfers {
		n += int64(len(t.Postings))
	}
	return n + j.orphans, j.err
}

// clone returns a deep copy, so that a test can corrupt it and leave the original be.
func (j *memJournal) clone() *memJournal {
	c := *j
	c.accounts = slices.Clone(j.accounts)
	c.transfers = make([]*hebao.Transfer, len(j.transfers))
	for i, t := range j.transfers {
		tc := *t
		tc.Postings = slices.Clone(t.Postings)
		c.transfers[i] = &tc
	}
	return &c
}

// account returns a pointer to the stored account with this id.
func (j *memJournal) account(id hebao.AccountID) *hebao.Account {
	for i := range j.accounts {
		if j.accounts[i].ID == id {
			return &j.accounts[i]
		}
	}
	panic(fmt.Sprintf("no account %d", id))
}

// reseal recomputes every hash from transfer i on, the head and, with the key, its
// checkpoint: what an attacker who holds the key, or a buggy store, would do.
func (j *memJournal) reseal(i int, key []byte) {
	prev := [32]byte{}
	if i > 0 {
		prev = j.transfers[i-1].Hash
	}
	for _, t := range j.transfers[i:] {
		t.Seal(t.Seq, t.CreatedAt, prev)
		prev = t.Hash
	}
	j.head = hebao.ChainHead{}
	if n := len(j.transfers); n > 0 {
		j.head = hebao.ChainHead{Seq: j.transfers[n-1].Seq, Hash: j.transfers[n-1].Hash}
	}
	j.mac = j.head.Checkpoint(key)
}

// rebalance recomputes every stored balance from the postings.
func (j *memJournal) rebalance() {
	sums := map[hebao.AccountID]int64{}
	for _, t := range j.transfers {
		for _, p := range t.Postings {
			sums[p.Account] += p.Amount
		}
	}
	for i := range j.accounts {
		j.accounts[i].Balance = sums[j.accounts[i].ID]
	}
}

// tb is what the ledger builder needs of *testing.T and *rapid.T.
type tb interface {
	Helper()
	Fatalf(format string, args ...any)
}

// ledgerBuilder keeps a ledger the way a store does: it validates and applies each
// transfer, seals it onto the chain and keeps the balances.
type ledgerBuilder struct {
	t        tb
	accounts map[hebao.AccountID]hebao.Account
	order    []hebao.AccountID
	chain    []*hebao.Transfer
	head     hebao.ChainHead
	clock    time.Time
}

func newLedger(t tb) *ledgerBuilder {
	return &ledgerBuilder{t: t, accounts: map[hebao.AccountID]hebao.Account{}, clock: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
}

func (b *ledgerBuilder) open(kind hebao.AccountKind, unit hebao.Unit) hebao.AccountID {
	b.t.Helper()
	a, err := hebao.NewAccount(kind, "", unit, false)
	if err != nil {
		b.t.Fatalf("NewAccount(%s): %v", kind, err)
	}
	a.ID = hebao.AccountID(len(b.order) + 1)
	a.CreatedAt = b.clock
	b.accounts[a.ID] = a
	b.order = append(b.order, a.ID)
	return a.ID
}

// post validates, applies and seals t, and returns the error that refused it.
func (b *ledgerBuilder) post(t *hebao.Transfer) error {
	if err := t.Validate(); err != nil {
		return err
	}
	next, err := hebao.ApplyPostings(t, b.accounts)
	if err != nil {
		return err
	}
	b.seal(t)
	for id, bal := range next {
		a := b.accounts[id]
		a.Balance = bal
		b.accounts[id] = a
	}
	return nil
}

// force seals t and applies it without asking Validate or ApplyPostings: how a test
// writes history that the rules would have refused.
func (b *ledgerBuilder) force(t *hebao.Transfer) {
	b.seal(t)
	for _, p := range t.Postings {
		a := b.accounts[p.Account]
		a.Balance += p.Amount
		b.accounts[p.Account] = a
	}
}

func (b *ledgerBuilder) seal(t *hebao.Transfer) {
	b.clock = b.clock.Add(1500 * time.Microsecond)
	t.Seal(b.head.Seq+1, b.clock, b.head.Hash)
	b.head = hebao.ChainHead{Seq: t.Seq, Hash: t.Hash}
	b.chain = append(b.chain, t)
}

func (b *ledgerBuilder) journal() *memJournal {
	j := &memJournal{head: b.head, mac: b.head.Checkpoint(testKey)}
	for _, id := range b.order {
		j.accounts = append(j.accounts, b.accounts[id])
	}
	for _, t := range b.chain {
		tc := *t
		tc.Postings = slices.Clone(t.Postings)
		j.transfers = append(j.transfers, &tc)
	}
	return j
}

// randomLedger builds a ledger of n accepted transfers between a small cast of
// accounts, drawn from a fixed seed; transfers the rules refuse are skipped.
func randomLedger(t tb, seed uint64, n int) *ledgerBuilder {
	t.Helper()
	b := newLedger(t)
	r := rand.New(rand.NewPCG(seed, seed))
	var cny, pts []hebao.AccountID
	for _, k := range []hebao.AccountKind{
		hebao.AccountBankClearing, hebao.AccountMarketingFunding, hebao.AccountWallet, hebao.AccountWallet,
		hebao.AccountWallet, hebao.AccountMerchant, hebao.AccountMerchant, hebao.AccountCampaignBudget,
		hebao.AccountPromo, hebao.AccountRefundsInTransit,
	} {
		cny = append(cny, b.open(k, ""))
	}
	for _, k := range []hebao.AccountKind{hebao.AccountPointsIssuance, hebao.AccountPoints, hebao.AccountPoints} {
		pts = append(pts, b.open(k, ""))
	}
	pair := func(ids []hebao.AccountID) (hebao.AccountID, hebao.AccountID) {
		i := r.IntN(len(ids))
		j := (i + 1 + r.IntN(len(ids)-1)) % len(ids)
		return ids[i], ids[j]
	}
	for tries := 0; len(b.chain) < n; tries++ {
		if tries > 100*n {
			t.Fatalf("only %d of %d transfers accepted", len(b.chain), n)
		}
		from, to := pair(cny)
		tr := &hebao.Transfer{
			ID:       fmt.Sprintf("tr_%d", tries),
			Kind:     []hebao.TransferKind{hebao.TransferTopup, hebao.TransferP2P, hebao.TransferPayment, hebao.TransferRefund}[r.IntN(4)],
			Ref:      fmt.Sprintf("ref_%d", r.IntN(1000)),
			Postings: hebao.Move(from, to, hebao.CNY, 1+r.Int64N(100_000)),
		}
		if r.IntN(3) == 0 { // points earned with it
			pfrom, pto := pair(pts)
			tr.Postings = append(tr.Postings, hebao.Move(pfrom, pto, hebao.POINT, 1+r.Int64N(100))...)
		}
		if err := b.post(tr); err != nil && hebao.ErrorCode(err) != hebao.CodeInsufficientFunds {
			t.Fatalf("post %v: %v", tr, err)
		}
	}
	return b
}

func verify(t *testing.T, j hebao.Journal, key []byte) *hebao.VerifyReport {
	t.Helper()
	r, err := hebao.Verify(context.Background(), j, key)
	if err != nil {
		t.Fatalf("Verify: %v", err)
	}
	if r.OK != (len(r.Problems) == 0) {
		t.Errorf("OK = %v with %d problems", r.OK, len(r.Problems))
	}
	return r
}

func TestVerifyRandomLedger(t *testing.T) {
	for seed := range uint64(5) {
		b := randomLedger(t, seed, 40)
		j := b.journal()
		r := verify(t, j, testKey)
		if !r.OK {
			t.Fatalf("seed %d: a ledger built by the rules does not verify:\n%s", seed, r)
		}
		var postings, cnyIssued int64
		for _, tr := range j.transfers {
			postings += int64(len(tr.Postings))
			for _, p := range tr.Postings {
				if p.Unit == hebao.CNY && p.Amount > 0 {
					cnyIssued += p.Amount
				}
			}
		}
		want := &hebao.VerifyReport{
			OK:        true,
			Transfers: 40,
			Postings:  postings,
			Accounts:  13,
			HeadSeq:   40,
			HeadHash:  fmt.Sprintf("%x", j.transfers[39].Hash),
			Sums:      map[hebao.Unit]int64{hebao.CNY: 0, hebao.POINT: 0},
			Issued:    r.Issued,
		}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("seed %d: report (-want +got):\n%s", seed, diff)
		}
		if r.Issued[hebao.CNY] != cnyIssued || r.Issued[hebao.POINT] == 0 {
			t.Errorf("seed %d: issued %v, want %d CNY and some points", seed, r.Issued, cnyIssued)
		}
		if s := r.String(); !strings.Contains(s, "OK:") || strings.Contains(s, "PROBLEM") {
			t.Errorf("seed %d: String() =\n%s", seed, s)
		}
	}
}

func TestVerifyDetectsCorruption(t *testing.T) {
	good := randomLedger(t, 1, 20).journal()
	// Transfer seq 5 (index 4) is the victim; pick things to swap in that keep the
	// edit plausible: an account of the same unit it does not touch.
	victim := good.transfers[4]
	untouched := func(unit hebao.Unit) hebao.AccountID {
		for _, a := range good.accounts {
			if a.Unit == unit && !slices.ContainsFunc(victim.Postings, func(p hebao.Posting) bool { return p.Account == a.ID }) {
				return a.ID
			}
		}
		panic("every account touched")
	}
	other := map[hebao.Unit]hebao.Unit{hebao.CNY: hebao.POINT, hebao.POINT: hebao.CNY}
	seq := func(n int64) *int64 { return &n }

	tests := []struct {
		name         string
		corrupt      func(j *memJournal)
		wantFirstBad *int64 // nil: no transfer is to blame
		wantProblem  string // a fragment of one of the problems
		onlyProblem  bool   // the problem above is the only one
	}{
		{"posting amount", func(j *memJournal) { j.transfers[4].Postings[1].Amount++ }, seq(5), "hash does not match", false},
		{"posting amounts, still balanced", func(j *memJournal) {
			j.transfers[4].Postings[0].Amount--
			j.transfers[4].Postings[1].Amount++
		}, seq(5), "hash does not match", false},
		{"posting account", func(j *memJournal) { j.transfers[4].Postings[1].Account = untouched(victim.Postings[1].Unit) }, seq(5), "hash does not match", false},
		{"posting unit", func(j *memJournal) { j.transfers[4].Postings[0].Unit = other[victim.Postings[0].Unit] }, seq(5), "hash does not match", false},
		{"kind", func(j *memJournal) { j.transfers[4].Kind = hebao.TransferReversal }, seq(5), "hash does not match", true},
		{"ref", func(j *memJournal) { j.transfers[4].Ref += "x" }, seq(5), "hash does not match", true},
		{"id", func(j *memJournal) { j.transfers[4].ID = "tr_forged" }, seq(5), "(tr_forged): hash does not match", true},
		{"created time", func(j *memJournal) { j.transfers[4].CreatedAt = j.transfers[4].CreatedAt.Add(time.Second) }, seq(5), "hash does not match", true},
		{"postings reordered", func(j *memJournal) {
			ps := j.transfers[4].Postings
			ps[0], ps[1] = ps[1], ps[0]
		}, seq(5), "hash does not match", true},
		{"seq renumbered", func(j *memJournal) {
			for _, t := range j.transfers[4:] {
				t.Seq++
			}
		}, seq(6), "sequence number 6 follows 4", false},
		{"seq gap, re-hashed under the key", func(j *memJournal) {
			for _, t := range j.transfers[4:] {
				t.Seq++
			}
			j.reseal(4, testKey)
		}, seq(6), "sequence number 6 follows 4", true},
		{"transfer deleted from the middle", func(j *memJournal) {
			j.transfers = slices.Delete(j.transfers, 4, 5)
		}, seq(6), "sequence number 6 follows 4", false},
		{"transfers swapped", func(j *memJournal) {
			j.transfers[4], j.transfers[5] = j.transfers[5], j.transfers[4]
		}, seq(6), "sequence number 6 follows 4", false},
		{"link broken, each hash true to its own prev", func(j *memJournal) {
			t := j.transfers[4]
			t.PrevHash[0] ^= 1
			t.Seal(t.Seq, t.CreatedAt, t.PrevHash)
			j.reseal(5, testKey)
		}, seq(5), "previous hash does not match", true},
		{"a whole transfer forged in the middle, re-hashed without the key", func(j *memJournal) {
			j.transfers[4].Postings[0].Amount--
			j.transfers[4].Postings[1].Amount++
			j.rebalance()
			j.reseal(4, []byte("guessed key"))
		}, nil, "checkpoint does not verify", true},
		{"tail cut off, head left", func(j *memJournal) { j.transfers = j.transfers[:17] }, nil, "but the last transfer is seq 17", false},
		{"tail cut off and covered up without the key", func(j *memJournal) {
			j.transfers = j.transfers[:17]
			j.rebalance()
			j.head = hebao.ChainHead{Seq: 17, Hash: j.transfers[16].Hash}
		}, nil, "checkpoint does not verify", true},
		{"head hash rewritten", func(j *memJournal) { j.head.Hash[0] ^= 1 }, nil, "chain head says", false},
		{"checkpoint zeroed", func(j *memJournal) { j.mac = [32]byte{} }, nil, "checkpoint does not verify", true},
		{"stored balance edited", func(j *memJournal) { j.account(3).Balance += 100 }, nil, "account 3 (wallet): stored balance", false},
		{"stored balance moved between accounts", func(j *memJournal) {
			j.account(3).Balance += 100
			j.account(4).Balance -= 100
		}, nil, "account 3 (wallet): stored balance", false},
		{"account deleted", func(j *memJournal) {
			j.accounts = slices.DeleteFunc(j.accounts, func(a hebao.Account) bool { return a.ID == victim.Postings[1].Account })
		}, seq(firstTouching(good, victim.Postings[1].Account)), "which does not exist", false},
		{"account unit changed", func(j *memJournal) {
			a := j.account(victim.Postings[1].Account)
			a.Unit = other[a.Unit]
		}, seq(firstTouching(good, victim.Postings[1].Account)), "kept in", false},
		{"wallet allowed to go negative", func(j *memJournal) {
			j.account(3).MayGoNegative = true
		}, nil, "account 3 (wallet) is kept in CNY and may-go-negative=true, but its kind says CNY and false", true},
		{"posting row outside any transfer", func(j *memJournal) { j.orphans = 1 }, nil, "posting rows are stored but", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			j := good.clone()
			tt.corrupt(j)
			r := verify(t, j, testKey)
			if r.OK {
				t.Fatalf("the corruption went unnoticed:\n%s", r)
			}
			var gotFirstBad *int64
			if r.FirstBad != nil {
				gotFirstBad = &r.FirstBad.Seq
			}
			if diff := cmp.Diff(tt.wantFirstBad, gotFirstBad); diff != "" {
				t.Errorf("first bad seq (-want +got):\n%s\n%s", diff, r)
			}
			if !slices.ContainsFunc(r.Problems, func(p string) bool { return strings.Contains(p, tt.wantProblem) }) {
				t.Errorf("no problem mentions %q:\n%s", tt.wantProblem, r)
			}
			if tt.onlyProblem && len(r.Problems) != 1 {
				t.Errorf("got %d problems, want only the one about %q:\n%s", len(r.Problems), tt.wantProblem, r)
			}
			if r.FirstBad != nil && !strings.Contains(r.String(), fmt.Sprintf("FIRST BAD TRANSFER: seq %d", r.FirstBad.Seq)) {
				t.Errorf("String() does not name the first bad transfer:\n%s", r)
			}
		})
	}

	// The original was never touched by the corruptions.
	if r := verify(t, good, testKey); !r.OK {
		t.Fatalf("the good ledger stopped verifying:\n%s", r)
	}
}

func firstTouching(j *memJournal, id hebao.AccountID) int64 {
	for _, t := range j.transfers {
		for _, p := range t.Postings {
			if p.Account == id {
				return t.Seq
			}
		}
	}
	panic(fmt.Sprintf("no transfer touches account %d", id))
}

func TestVerifyOtherKey(t *testing.T) {
	j := randomLedger(t, 2, 10).journal()
	r := verify(t, j, []byte("some other ledger's key"))
	if r.OK || r.FirstBad != nil || len(r.Problems) != 1 || !strings.Contains(r.Problems[0], "checkpoint does not verify") {
		t.Errorf("verify under another key: want one checkpoint problem, got:\n%s", r)
	}
}

func TestVerifyNegativeInHistory(t *testing.T) {
	b := newLedger(t)
	bank := b.open(hebao.AccountBankClearing, "")
	wallet := b.open(hebao.AccountWallet, "")
	merchant := b.open(hebao.AccountMerchant, "")
	if err := b.post(&hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTopup, Postings: hebao.Move(bank, wallet, hebao.CNY, 100)}); err != nil {
		t.Fatal(err)
	}
	// The wallet pays 150 out of 100: the rules refuse it, so write it by force ...
	overdraft := &hebao.Transfer{ID: "tr_2", Kind: hebao.TransferPayment, Postings: hebao.Move(wallet, merchant, hebao.CNY, 150)}
	if err := b.post(overdraft); hebao.ErrorCode(err) != hebao.CodeInsufficientFunds {
		t.Fatalf("post overdraft: %v, want insufficient_funds", err)
	}
	b.force(overdraft)
	// ... and then top it up, so that every balance today looks fine.
	if err := b.post(&hebao.Transfer{ID: "tr_3", Kind: hebao.TransferTopup, Postings: hebao.Move(bank, wallet, hebao.CNY, 50)}); err != nil {
		t.Fatal(err)
	}
	if err := b.post(&hebao.Transfer{ID: "tr_4", Kind: hebao.TransferP2P, Postings: hebao.Move(merchant, wallet, hebao.CNY, 10)}); err != nil {
		t.Fatal(err)
	}
	j := b.journal()
	if bal := j.account(wallet).Balance; bal != 10 {
		t.Fatalf("wallet holds %d, want 10", bal)
	}

	r := verify(t, j, testKey)
	want := &hebao.BadTransfer{Seq: 2, ID: "tr_2", Reason: fmt.Sprintf("account %d (wallet) went negative: -50", wallet)}
	if diff := cmp.Diff(want, r.FirstBad); diff != "" {
		t.Errorf("first bad (-want +got):\n%s\n%s", diff, r)
	}
	if r.OK || len(r.Problems) != 1 {
		t.Errorf("want exactly one problem:\n%s", r)
	}
}

func TestVerifyUnbalancedTransferRehashed(t *testing.T) {
	b := randomLedger(t, 3, 6)
	wallet := b.order[2]
	// Money from nowhere, sealed into the chain by the book: the hashes, the head, its
	// checkpoint and the stored balances all agree with it.
	b.force(&hebao.Transfer{ID: "tr_free", Kind: hebao.TransferPromo, Postings: []hebao.Posting{{Account: wallet, Unit: hebao.CNY, Amount: 500}, {Account: b.order[3], Unit: hebao.CNY, Amount: 1}}})
	if err := b.post(&hebao.Transfer{ID: "tr_after", Kind: hebao.TransferP2P, Postings: hebao.Move(wallet, b.order[4], hebao.CNY, 1)}); err != nil {
		t.Fatal(err)
	}
	r := verify(t, b.journal(), testKey)
	want := &hebao.BadTransfer{Seq: 7, ID: "tr_free", Reason: "postings in CNY sum to 501"}
	if diff := cmp.Diff(want, r.FirstBad); diff != "" {
		t.Errorf("first bad (-want +got):\n%s\n%s", diff, r)
	}
	if diff := cmp.Diff(map[hebao.Unit]int64{hebao.CNY: 501, hebao.POINT: 0}, r.Sums); diff != "" {
		t.Errorf("sums (-want +got):\n%s", diff)
	}
	for _, p := range r.Problems {
		if !strings.Contains(p, "sum to 501") {
			t.Errorf("a problem other than the zero-sum rule: %s", p)
		}
	}
}

func TestVerifyTooFewPostings(t *testing.T) {
	b := newLedger(t)
	w := b.open(hebao.AccountBankClearing, "")
	b.force(&hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest})
	b.force(&hebao.Transfer{ID: "tr_2", Kind: hebao.TransferTest, Postings: []hebao.Posting{{Account: w, Unit: hebao.CNY, Amount: 0}}})
	r := verify(t, b.journal(), testKey)
	want := &hebao.BadTransfer{Seq: 1, ID: "tr_1", Reason: "has 0 postings"}
	if diff := cmp.Diff(want, r.FirstBad); diff != "" {
		t.Errorf("first bad (-want +got):\n%s\n%s", diff, r)
	}
	if len(r.Problems) != 2 || !strings.Contains(r.Problems[1], "has 1 postings") {
		t.Errorf("want a problem for each transfer:\n%s", r)
	}
}

func TestVerifyEmptyLedger(t *testing.T) {
	tests := []struct {
		name string
		j    *memJournal
	}{
		{"nothing at all", &memJournal{mac: hebao.ChainHead{}.Checkpoint(testKey)}},
		{"accounts, no transfers", &memJournal{
			accounts: []hebao.Account{{ID: 1, Kind: hebao.AccountWallet, Unit: hebao.CNY}, {ID: 2, Kind: hebao.AccountPoints, Unit: hebao.POINT}},
			mac:      hebao.ChainHead{}.Checkpoint(testKey),
		}},
	}
	for _, tt := range tests {
		r := verify(t, tt.j, testKey)
		want := &hebao.VerifyReport{
			OK:       true,
			Accounts: int64(len(tt.j.accounts)),
			HeadHash: strings.Repeat("0", 64),
			Sums:     r.Sums,
			Issued:   map[hebao.Unit]int64{},
		}
		if diff := cmp.Diff(want, r); diff != "" {
			t.Errorf("%s: report (-want +got):\n%s", tt.name, diff)
		}
		for u, s := range r.Sums {
			if s != 0 {
				t.Errorf("%s: %s sums to %d", tt.name, u, s)
			}
		}
	}

	// An empty ledger still needs its checkpoint: without it, a cut of the whole
	// journal (and the head) would pass.
	r := verify(t, &memJournal{}, testKey)
	if r.OK {
		t.Errorf("an empty ledger without a checkpoint verifies:\n%s", r)
	}
}

func TestVerifyReadErrors(t *testing.T) {
	errDisk := errors.New("disk on fire")
	_, err := hebao.Verify(context.Background(), &memJournal{err: errDisk}, testKey)
	if !errors.Is(err, errDisk) {
		t.Errorf("Verify: %v, want it to wrap %v", err, errDisk)
	}

	// An error from EachTransfer after some transfers were read also comes back.
	j := randomLedger(t, 4, 5).journal()
	_, err = hebao.Verify(context.Background(), &failingTransfers{memJournal: j, after: 3, err: errDisk}, testKey)
	if !errors.Is(err, errDisk) {
		t.Errorf("Verify: %v, want it to wrap %v", err, errDisk)
	}
}

// failingTransfers fails to read the journal after some transfers.
type failingTransfers struct {
	*memJournal
	after int
	err   error
}

func (f *failingTransfers) EachTransfer(ctx context.Context, fn func(*hebao.Transfer) error) error {
	for i, t := range f.transfers {
		if i == f.after {
			return f.err
		}
		if err := fn(t); err != nil {
			return err
		}
	}
	return nil
}

func TestVerifyProblemsAreBounded(t *testing.T) {
	j := randomLedger(t, 5, 200).journal()
	for _, t := range j.transfers {
		t.Ref += "!"
	}
	r := verify(t, j, testKey)
	if r.OK || r.FirstBad == nil || r.FirstBad.Seq != 1 {
		t.Fatalf("want seq 1 to be the first bad:\n%s", r)
	}
	if n := len(r.Problems); n != 50 {
		t.Errorf("%d problems reported, want them capped at 50", n)
	}
}

// TestVerifyProperty: whatever transfers are tried, the ones the rules accept make a
// ledger that verifies, and every unit's balances sum to zero.
func TestVerifyProperty(t *testing.T) {
	kinds := []hebao.AccountKind{
		hebao.AccountWallet, hebao.AccountPromo, hebao.AccountPoints, hebao.AccountMerchant,
		hebao.AccountBankClearing, hebao.AccountCampaignBudget, hebao.AccountMarketingFunding,
		hebao.AccountInterestExpense, hebao.AccountRefundsInTransit, hebao.AccountPointsIssuance,
	}
	rapid.Check(t, func(rt *rapid.T) {
		// Money and points have to come from somewhere: a bank and the points issuer
		// always exist, beside a random cast.
		b := newLedger(rt)
		source := map[hebao.Unit]hebao.AccountID{
			hebao.CNY:   b.open(hebao.AccountBankClearing, ""),
			hebao.POINT: b.open(hebao.AccountPointsIssuance, ""),
		}
		for range rapid.IntRange(1, 6).Draw(rt, "accounts") {
			b.open(rapid.SampledFrom(kinds).Draw(rt, "kind"), "")
		}
		ids := rapid.SampledFrom(b.order)
		units := rapid.SampledFrom([]hebao.Unit{hebao.CNY, hebao.POINT})
		amounts := rapid.OneOf(rapid.Int64Range(1, 1000), rapid.Int64Range(1, hebao.MaxAmount))
		accepted := 0
		for i := range rapid.IntRange(0, 60).Draw(rt, "transfers") {
			// A transfer is one to three moves, merged per account: balanced by
			// construction, though the units may not fit the accounts.
			var ps []hebao.Posting
			for range rapid.IntRange(1, 3).Draw(rt, "moves") {
				// Mostly between accounts of one unit; now and then anything goes.
				from, to := ids.Draw(rt, "from"), ids.Draw(rt, "to")
				unit := b.accounts[from].Unit
				if rapid.IntRange(0, 9).Draw(rt, "misfit") == 0 {
					unit = units.Draw(rt, "unit")
				} else if b.accounts[to].Unit != unit {
					to = source[unit]
				}
				amount := amounts.Draw(rt, "amount")
				for _, p := range hebao.Move(from, to, unit, amount) {
					if k := slices.IndexFunc(ps, func(q hebao.Posting) bool { return q.Account == p.Account && q.Unit == p.Unit }); k >= 0 {
						ps[k].Amount += p.Amount
					} else {
						ps = append(ps, p)
					}
				}
			}
			ps = slices.DeleteFunc(ps, func(p hebao.Posting) bool { return p.Amount == 0 })
			tr := &hebao.Transfer{ID: fmt.Sprintf("tr_%d", i), Kind: hebao.TransferTest, Postings: ps}
			if tr.Validate() != nil {
				continue // fewer than two postings, or one account in two units
			}
			switch err := b.post(tr); hebao.ErrorCode(err) {
			case "":
				accepted++
			case hebao.CodeInsufficientFunds, hebao.CodeInvalidRequest:
			default:
				rt.Fatalf("post %v: %v", tr, err)
			}
		}

		j := b.journal()
		r, err := hebao.Verify(context.Background(), j, testKey)
		if err != nil {
			rt.Fatalf("Verify: %v", err)
		}
		if !r.OK || r.Transfers != int64(accepted) {
			rt.Fatalf("%d accepted transfers do not verify:\n%s", accepted, r)
		}
		sums := map[hebao.Unit]int64{}
		for _, a := range j.accounts {
			sums[a.Unit] += a.Balance
			if a.Balance < 0 && !a.MayGoNegative {
				rt.Fatalf("account %d (%s) holds %d", a.ID, a.Kind, a.Balance)
			}
		}
		for u, s := range sums {
			if s != 0 {
				rt.Fatalf("%s balances sum to %d", u, s)
			}
		}
	})
}
