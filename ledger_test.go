package hebao_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/hebaopay/hebao"
)

// postings builds a posting list from (account, unit, amount) triples.
func postings(triples ...any) []hebao.Posting {
	var ps []hebao.Posting
	for i := 0; i+2 < len(triples); i += 3 {
		ps = append(ps, hebao.Posting{
			Account: hebao.AccountID(triples[i].(int)),
			Unit:    triples[i+1].(hebao.Unit),
			Amount:  int64(triples[i+2].(int)),
		})
	}
	return ps
}

// fanOut returns n postings: n-1 accounts each receiving 1 fen from account 1.
func fanOut(n int) []hebao.Posting {
	ps := []hebao.Posting{{Account: 1, Unit: hebao.CNY, Amount: -int64(n - 1)}}
	for i := 2; i <= n; i++ {
		ps = append(ps, hebao.Posting{Account: hebao.AccountID(i), Unit: hebao.CNY, Amount: 1})
	}
	return ps
}

func TestTransferValidate(t *testing.T) {
	const maxPosting = 1 << 53
	tests := []struct {
		name     string
		tr       hebao.Transfer
		wantText string // a fragment of the message naming the broken rule; "" means valid
	}{
		{"simple move", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferP2P, Postings: hebao.Move(1, 2, hebao.CNY, 100)}, ""},
		{"points", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferPointsEarn, Postings: hebao.Move(1, 2, hebao.POINT, 5)}, ""},
		{"mixed units, each balanced", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferPayment, Ref: "ord_1",
			Postings: postings(3, hebao.CNY, -1234, 9, hebao.CNY, 1234, 4, hebao.POINT, -12, 11, hebao.POINT, 12)}, ""},
		{"three-way split", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferPayment,
			Postings: postings(1, hebao.CNY, -100, 2, hebao.CNY, 70, 3, hebao.CNY, 30)}, ""},
		{"64-byte id", hebao.Transfer{ID: strings.Repeat("a", 64), Kind: hebao.TransferTest, Postings: hebao.Move(1, 2, hebao.CNY, 1)}, ""},
		{"128-byte ref", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Ref: strings.Repeat("r", 128), Postings: hebao.Move(1, 2, hebao.CNY, 1)}, ""},
		{"MaxPostings postings", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: fanOut(hebao.MaxPostings)}, ""},
		{"largest posting", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: postings(1, hebao.CNY, -maxPosting, 2, hebao.CNY, maxPosting)}, ""},
		{"negative account ids are just ids", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: hebao.Move(-1, 0, hebao.CNY, 1)}, ""},

		{"empty id", hebao.Transfer{Kind: hebao.TransferP2P, Postings: hebao.Move(1, 2, hebao.CNY, 100)}, "id must be"},
		{"65-byte id", hebao.Transfer{ID: strings.Repeat("a", 65), Kind: hebao.TransferP2P, Postings: hebao.Move(1, 2, hebao.CNY, 100)}, "id must be"},
		{"empty kind", hebao.Transfer{ID: "tr_1", Postings: hebao.Move(1, 2, hebao.CNY, 100)}, "kind"},
		{"33-byte kind", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferKind(strings.Repeat("k", 33)), Postings: hebao.Move(1, 2, hebao.CNY, 1)}, "kind"},
		{"129-byte ref", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Ref: strings.Repeat("r", 129), Postings: hebao.Move(1, 2, hebao.CNY, 1)}, "ref must be"},
		{"no postings", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest}, "needs 2 to 64 postings, has 0"},
		{"one posting", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: postings(1, hebao.CNY, 0)}, "needs 2 to 64 postings, has 1"},
		{"too many postings", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: fanOut(hebao.MaxPostings + 1)}, "needs 2 to 64 postings, has 65"},
		{"empty unit", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: hebao.Move(1, 2, "", 1)}, "unknown unit"},
		{"lower-case unit", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: hebao.Move(1, 2, "cny", 1)}, "unknown unit"},
		{"foreign currency", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: hebao.Move(1, 2, "USD", 1)}, "unknown unit"},
		{"zero amount", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: hebao.Move(1, 2, hebao.CNY, 0)}, "out of range"},
		{"zero amount among others", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest,
			Postings: postings(1, hebao.CNY, -5, 2, hebao.CNY, 5, 3, hebao.CNY, 0)}, "out of range"},
		{"posting too large", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: postings(1, hebao.CNY, -maxPosting-1, 2, hebao.CNY, maxPosting+1)}, "out of range"},
		{"duplicate account", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest,
			Postings: postings(1, hebao.CNY, -100, 2, hebao.CNY, 50, 2, hebao.CNY, 50)}, "account 2 appears twice"},
		{"duplicate account across units", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest,
			Postings: postings(1, hebao.CNY, -1, 2, hebao.CNY, 1, 1, hebao.POINT, -1, 3, hebao.POINT, 1)}, "account 1 appears twice"},
		{"account paying itself", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: hebao.Move(7, 7, hebao.CNY, 1)}, "account 7 appears twice"},
		{"sum not zero", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: postings(1, hebao.CNY, -100, 2, hebao.CNY, 99)}, "sum to -1"},
		{"all positive", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: postings(1, hebao.CNY, 100, 2, hebao.CNY, 100)}, "sum to 200"},
		{"CNY paid in POINT", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest,
			Postings: postings(1, hebao.CNY, -100, 2, hebao.POINT, 100)}, "not zero"},
		{"units cross-balance only", hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest,
			Postings: postings(1, hebao.CNY, -100, 2, hebao.CNY, 90, 3, hebao.POINT, -10, 4, hebao.POINT, 20)}, "not zero"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.tr.Validate()
			if tt.wantText == "" {
				if err != nil {
					t.Fatalf("Validate: %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate: nil, want an error about %q", tt.wantText)
			}
			if diff := cmp.Diff(hebao.CodeInvalidRequest, hebao.ErrorCode(err)); diff != "" {
				t.Errorf("code (-want +got):\n%s", diff)
			}
			if !strings.Contains(err.Error(), tt.wantText) {
				t.Errorf("Validate: %v, want it to mention %q", err, tt.wantText)
			}
		})
	}
}

// Validate accepts only the declared transfer kinds.
func TestTransferValidateUnknownKind(t *testing.T) {
	for _, k := range []hebao.TransferKind{"bogus", "PAYMENT", "payment "} {
		tr := hebao.Transfer{ID: "tr_1", Kind: k, Postings: hebao.Move(1, 2, hebao.CNY, 1)}
		if err := tr.Validate(); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
			t.Errorf("Validate with kind %q: %v, want invalid_request", k, err)
		}
	}
}

func TestTransferValidateKnownKinds(t *testing.T) {
	for _, k := range []hebao.TransferKind{
		hebao.TransferTopup, hebao.TransferWithdrawal, hebao.TransferP2P, hebao.TransferPayment,
		hebao.TransferRefund, hebao.TransferPromo, hebao.TransferCouponSubsidy, hebao.TransferPointsEarn,
		hebao.TransferPointsRedeem, hebao.TransferInterest, hebao.TransferFunding, hebao.TransferHold,
		hebao.TransferRelease, hebao.TransferExpiry, hebao.TransferReversal, hebao.TransferTest,
	} {
		tr := hebao.Transfer{ID: "tr_1", Kind: k, Postings: hebao.Move(1, 2, hebao.CNY, 1)}
		if err := tr.Validate(); err != nil {
			t.Errorf("Validate with kind %q: %v", k, err)
		}
	}
}

func TestMove(t *testing.T) {
	tests := []struct {
		from, to hebao.AccountID
		unit     hebao.Unit
		amount   int64
		want     []hebao.Posting
	}{
		{1, 2, hebao.CNY, 500, postings(1, hebao.CNY, -500, 2, hebao.CNY, 500)},
		{9, 3, hebao.POINT, 7, postings(9, hebao.POINT, -7, 3, hebao.POINT, 7)},
		// A negative amount moves the other way; Validate still sees a balanced pair.
		{1, 2, hebao.CNY, -5, postings(1, hebao.CNY, 5, 2, hebao.CNY, -5)},
	}
	for _, tt := range tests {
		got := hebao.Move(tt.from, tt.to, tt.unit, tt.amount)
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Move(%d, %d, %s, %d) (-want +got):\n%s", tt.from, tt.to, tt.unit, tt.amount, diff)
		}
		tr := hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: got}
		if err := tr.Validate(); err != nil {
			t.Errorf("Move(%d, %d, %s, %d) does not validate: %v", tt.from, tt.to, tt.unit, tt.amount, err)
		}
	}
}

func TestReverse(t *testing.T) {
	orig := goldenTransfer()
	orig.Seal(7, orig.CreatedAt, [32]byte{1})
	keep := orig.Postings[0]

	r := orig.Reverse("tr_rev")
	want := &hebao.Transfer{
		ID:       "tr_rev",
		Kind:     hebao.TransferReversal,
		Ref:      "tr_golden",
		Postings: postings(3, hebao.CNY, 1234, 9, hebao.CNY, -1234, 4, hebao.POINT, 12, 11, hebao.POINT, -12),
	}
	if diff := cmp.Diff(want, r); diff != "" {
		t.Fatalf("Reverse (-want +got):\n%s", diff)
	}
	if err := r.Validate(); err != nil {
		t.Errorf("the reversal does not validate: %v", err)
	}

	// The reversal owns its postings: editing it cannot edit history.
	r.Postings[0].Amount = 1
	if orig.Postings[0] != keep {
		t.Errorf("editing the reversal changed the original posting to %+v", orig.Postings[0])
	}
	r.Postings[0].Amount = 1234

	rr := r.Reverse("tr_rev2")
	if diff := cmp.Diff(orig.Postings, rr.Postings); diff != "" {
		t.Errorf("reversal of the reversal: postings (-want +got):\n%s", diff)
	}
	if rr.Ref != "tr_rev" || rr.ID != "tr_rev2" || rr.Kind != hebao.TransferReversal {
		t.Errorf("reversal of the reversal: id %q ref %q kind %q, want tr_rev2, tr_rev, reversal", rr.ID, rr.Ref, rr.Kind)
	}

	// Applying a transfer and then its reversal restores every balance.
	accounts := map[hebao.AccountID]hebao.Account{}
	for _, p := range orig.Postings {
		accounts[p.Account] = hebao.Account{ID: p.Account, Unit: p.Unit, Balance: 5000}
	}
	after, err := hebao.ApplyPostings(orig, accounts)
	if err != nil {
		t.Fatal(err)
	}
	for id, b := range after {
		a := accounts[id]
		a.Balance = b
		accounts[id] = a
	}
	back, err := hebao.ApplyPostings(r, accounts)
	if err != nil {
		t.Fatal(err)
	}
	for id, b := range back {
		if b != 5000 {
			t.Errorf("account %d: %d after transfer and reversal, want 5000", id, b)
		}
	}
}

func TestNewAccount(t *testing.T) {
	tests := []struct {
		kind     hebao.AccountKind
		unit     hebao.Unit // the argument: ignored for every kind but test
		mayNeg   bool       // the argument: ignored for every kind but test
		want     hebao.Account
		wantCode string
	}{
		{hebao.AccountWallet, hebao.POINT, true, hebao.Account{Kind: hebao.AccountWallet, Unit: hebao.CNY, Owner: "own"}, ""},
		{hebao.AccountPromo, "", true, hebao.Account{Kind: hebao.AccountPromo, Unit: hebao.CNY, Owner: "own"}, ""},
		{hebao.AccountPoints, hebao.CNY, true, hebao.Account{Kind: hebao.AccountPoints, Unit: hebao.POINT, Owner: "own"}, ""},
		{hebao.AccountMerchant, "", true, hebao.Account{Kind: hebao.AccountMerchant, Unit: hebao.CNY, Owner: "own"}, ""},
		{hebao.AccountBankClearing, hebao.POINT, false, hebao.Account{Kind: hebao.AccountBankClearing, Unit: hebao.CNY, Owner: "own", MayGoNegative: true}, ""},
		{hebao.AccountCampaignBudget, "", true, hebao.Account{Kind: hebao.AccountCampaignBudget, Unit: hebao.CNY, Owner: "own"}, ""},
		{hebao.AccountMarketingFunding, "", false, hebao.Account{Kind: hebao.AccountMarketingFunding, Unit: hebao.CNY, Owner: "own", MayGoNegative: true}, ""},
		{hebao.AccountInterestExpense, "", false, hebao.Account{Kind: hebao.AccountInterestExpense, Unit: hebao.CNY, Owner: "own", MayGoNegative: true}, ""},
		{hebao.AccountRefundsInTransit, "", true, hebao.Account{Kind: hebao.AccountRefundsInTransit, Unit: hebao.CNY, Owner: "own"}, ""},
		{hebao.AccountPointsIssuance, hebao.CNY, false, hebao.Account{Kind: hebao.AccountPointsIssuance, Unit: hebao.POINT, Owner: "own", MayGoNegative: true}, ""},
		{hebao.AccountTest, hebao.CNY, false, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, Owner: "own"}, ""},
		{hebao.AccountTest, hebao.POINT, true, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.POINT, Owner: "own", MayGoNegative: true}, ""},
		{hebao.AccountTest, "USD", false, hebao.Account{}, hebao.CodeInvalidRequest},
		{hebao.AccountTest, "", false, hebao.Account{}, hebao.CodeInvalidRequest},
		{"bogus", hebao.CNY, false, hebao.Account{}, hebao.CodeInvalidRequest},
		{"", hebao.CNY, false, hebao.Account{}, hebao.CodeInvalidRequest},
		{"Wallet", hebao.CNY, false, hebao.Account{}, hebao.CodeInvalidRequest},
	}
	for _, tt := range tests {
		got, err := hebao.NewAccount(tt.kind, "own", tt.unit, tt.mayNeg)
		if diff := cmp.Diff(tt.wantCode, hebao.ErrorCode(err)); diff != "" {
			t.Errorf("NewAccount(%q, %q, %v) code (-want +got):\n%s", tt.kind, tt.unit, tt.mayNeg, diff)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("NewAccount(%q, %q, %v) (-want +got):\n%s", tt.kind, tt.unit, tt.mayNeg, diff)
		}
	}
}

func TestApplyPostings(t *testing.T) {
	accounts := map[hebao.AccountID]hebao.Account{
		1: {ID: 1, Kind: hebao.AccountWallet, Unit: hebao.CNY, Balance: 100},
		2: {ID: 2, Kind: hebao.AccountMerchant, Unit: hebao.CNY, Balance: 0},
		3: {ID: 3, Kind: hebao.AccountBankClearing, Unit: hebao.CNY, MayGoNegative: true, Balance: 0},
		4: {ID: 4, Kind: hebao.AccountPoints, Unit: hebao.POINT, Balance: 10},
		5: {ID: 5, Kind: hebao.AccountPointsIssuance, Unit: hebao.POINT, MayGoNegative: true, Balance: -10},
		6: {ID: 6, Kind: hebao.AccountWallet, Unit: hebao.CNY, Balance: 0},
	}
	tests := []struct {
		name     string
		postings []hebao.Posting
		want     map[hebao.AccountID]int64
		wantCode string
	}{
		{"spend it all", hebao.Move(1, 2, hebao.CNY, 100), map[hebao.AccountID]int64{1: 0, 2: 100}, ""},
		{"spend part", hebao.Move(1, 6, hebao.CNY, 1), map[hebao.AccountID]int64{1: 99, 6: 1}, ""},
		{"one fen short", hebao.Move(1, 2, hebao.CNY, 101), nil, hebao.CodeInsufficientFunds},
		{"empty wallet", hebao.Move(6, 1, hebao.CNY, 1), nil, hebao.CodeInsufficientFunds},
		{"clearing may go negative", hebao.Move(3, 1, hebao.CNY, 500), map[hebao.AccountID]int64{3: -500, 1: 600}, ""},
		{"issuance goes further negative", hebao.Move(5, 4, hebao.POINT, 1000), map[hebao.AccountID]int64{5: -1010, 4: 1010}, ""},
		{"points short", hebao.Move(4, 5, hebao.POINT, 11), nil, hebao.CodeInsufficientFunds},
		{"mixed units", postings(1, hebao.CNY, -30, 2, hebao.CNY, 30, 5, hebao.POINT, -3, 4, hebao.POINT, 3),
			map[hebao.AccountID]int64{1: 70, 2: 30, 5: -13, 4: 13}, ""},
		{"CNY into a POINT account", postings(1, hebao.CNY, -10, 4, hebao.CNY, 10), nil, hebao.CodeInvalidRequest},
		{"POINT out of a CNY account", postings(3, hebao.POINT, -10, 4, hebao.POINT, 10), nil, hebao.CodeInvalidRequest},
		{"missing payee", hebao.Move(1, 99, hebao.CNY, 10), nil, hebao.CodeNotFound},
		{"missing payer", hebao.Move(99, 1, hebao.CNY, 10), nil, hebao.CodeNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := cloneAccounts(accounts)
			tr := &hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: tt.postings}
			got, err := hebao.ApplyPostings(tr, accounts)
			if diff := cmp.Diff(tt.wantCode, hebao.ErrorCode(err)); diff != "" {
				t.Errorf("code (-want +got):\n%s\n(%v)", diff, err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("balances (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(before, accounts); diff != "" {
				t.Errorf("ApplyPostings changed its input (-before +after):\n%s", diff)
			}
		})
	}
}

// ApplyPostings sums the postings per account before the sign rule, so even a
// transfer that skipped Validate cannot spend the same money twice by naming an
// account twice.
func TestApplyPostingsDuplicateAccount(t *testing.T) {
	accounts := map[hebao.AccountID]hebao.Account{
		1: {ID: 1, Kind: hebao.AccountWallet, Unit: hebao.CNY, Balance: 100},
		2: {ID: 2, Kind: hebao.AccountMerchant, Unit: hebao.CNY},
	}
	tr := &hebao.Transfer{ID: "tr_1", Kind: hebao.TransferTest, Postings: postings(1, hebao.CNY, -100, 1, hebao.CNY, -100, 2, hebao.CNY, 200)}
	got, err := hebao.ApplyPostings(tr, accounts)
	if err == nil {
		t.Errorf("ApplyPostings let account 1 pay 200 out of 100, leaving balances %v", got)
	}
}

func cloneAccounts(m map[hebao.AccountID]hebao.Account) map[hebao.AccountID]hebao.Account {
	out := make(map[hebao.AccountID]hebao.Account, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

func TestSortedAccounts(t *testing.T) {
	tests := []struct {
		postings []hebao.Posting
		want     []hebao.AccountID
	}{
		{postings(3, hebao.CNY, -1, 9, hebao.CNY, 1, 4, hebao.POINT, -1, 11, hebao.POINT, 1), []hebao.AccountID{3, 4, 9, 11}},
		{hebao.Move(2, 1, hebao.CNY, 1), []hebao.AccountID{1, 2}},
		{postings(5, hebao.CNY, -1, 2, hebao.CNY, 1, 5, hebao.POINT, 1), []hebao.AccountID{2, 5}},
		{postings(-3, hebao.CNY, -1, 0, hebao.CNY, 1, 100, hebao.CNY, 0), []hebao.AccountID{-3, 0, 100}},
		{nil, nil},
	}
	for _, tt := range tests {
		tr := &hebao.Transfer{Postings: tt.postings}
		before := slices.Clone(tt.postings)
		got := tr.SortedAccounts()
		if diff := cmp.Diff(tt.want, got, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("SortedAccounts(%v) (-want +got):\n%s", tt.postings, diff)
		}
		if diff := cmp.Diff(before, tr.Postings, cmpopts.EquateEmpty()); diff != "" {
			t.Errorf("SortedAccounts reordered the postings (-before +after):\n%s", diff)
		}
	}
}

var goldenTime = time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC)

// goldenTransfer is the transfer of the canonical-encoding test vector.
func goldenTransfer() *hebao.Transfer {
	return &hebao.Transfer{
		Seq:       7,
		ID:        "tr_golden",
		Kind:      hebao.TransferPayment,
		Ref:       "ord_1",
		CreatedAt: goldenTime,
		Postings:  postings(3, hebao.CNY, -1234, 9, hebao.CNY, 1234, 4, hebao.POINT, -12, 11, hebao.POINT, 12),
	}
}

// goldenEncoding was written by hand from CanonicalEncoding's doc comment, one field a
// line. The time is 2026-01-02T03:04:05.123456Z = 20455 days and 11045 s after the
// epoch = 1767323045123456 µs = 0x0006475ef64ed580; -1234 = 0x…fb2e, -12 = 0x…fff4.
const goldenEncoding = "" +
	"686562616f2e7472616e736665722e7631" + // "hebao.transfer.v1"
	"0000000000000007" + // seq 7
	"00000009" + "74725f676f6c64656e" + // id "tr_golden"
	"00000007" + "7061796d656e74" + // kind "payment"
	"00000005" + "6f72645f31" + // ref "ord_1"
	"0006475ef64ed580" + // created_at in µs
	"00000004" + // 4 postings
	"0000000000000003" + "00000003" + "434e59" + "fffffffffffffb2e" + // (3, CNY, -1234)
	"0000000000000009" + "00000003" + "434e59" + "00000000000004d2" + // (9, CNY, 1234)
	"0000000000000004" + "00000005" + "504f494e54" + "fffffffffffffff4" + // (4, POINT, -12)
	"000000000000000b" + "00000005" + "504f494e54" + "000000000000000c" // (11, POINT, 12)

// The chain hashes of the golden transfer, taken from ChainHash once the encoding
// above matched; they pin SHA-256(prev ‖ encoding) so the chain can never change.
const (
	goldenHashZeroPrev = "b2ffb14f343343922ecc8c4b3e9dc54539eb153a3c24cf0483b4e045b8b8a736"
	goldenHashPrevX    = "938d5b7b488c3adcdcaa16ba91b39a3c1a1ffe62b6e99867d5293443e3b2e678"
)

func TestCanonicalEncodingGolden(t *testing.T) {
	got := hex.EncodeToString(goldenTransfer().CanonicalEncoding())
	if diff := cmp.Diff(goldenEncoding, got); diff != "" {
		t.Errorf("CanonicalEncoding (-want +got):\n%s", diff)
	}
}

func TestCanonicalEncodingAllocs(t *testing.T) {
	// The encoding runs for every transfer written and verified: one allocation, sized
	// up front.
	tr := goldenTransfer()
	if n := testing.AllocsPerRun(100, func() { tr.CanonicalEncoding() }); n > 1 {
		t.Errorf("CanonicalEncoding makes %v allocations, want 1", n)
	}
}

func TestChainHashGolden(t *testing.T) {
	tr := goldenTransfer()
	tests := []struct {
		name string
		prev [32]byte
		want string
	}{
		{"zero prev", [32]byte{}, goldenHashZeroPrev},
		{"prev sha256(x)", sha256.Sum256([]byte("x")), goldenHashPrevX},
	}
	for _, tt := range tests {
		h := tr.ChainHash(tt.prev)
		if diff := cmp.Diff(tt.want, hex.EncodeToString(h[:])); diff != "" {
			t.Errorf("%s: ChainHash (-want +got):\n%s", tt.name, diff)
		}
		// And it is what the doc comment says: SHA-256(prev ‖ encoding).
		enc, _ := hex.DecodeString(goldenEncoding)
		if sum := sha256.Sum256(append(tt.prev[:], enc...)); sum != h {
			t.Errorf("%s: ChainHash = %x, SHA-256(prev ‖ encoding) = %x", tt.name, h, sum)
		}
	}
}

func TestChainHashCoversEveryField(t *testing.T) {
	base := goldenTransfer().ChainHash([32]byte{})
	type mutation struct {
		name   string
		mutate func(*hebao.Transfer)
		prev   [32]byte
	}
	muts := []mutation{
		{"seq", func(t *hebao.Transfer) { t.Seq = 8 }, [32]byte{}},
		{"seq negative", func(t *hebao.Transfer) { t.Seq = -7 }, [32]byte{}},
		{"id", func(t *hebao.Transfer) { t.ID = "tr_golder" }, [32]byte{}},
		{"kind", func(t *hebao.Transfer) { t.Kind = hebao.TransferRefund }, [32]byte{}},
		{"ref", func(t *hebao.Transfer) { t.Ref = "ord_2" }, [32]byte{}},
		{"ref empty", func(t *hebao.Transfer) { t.Ref = "" }, [32]byte{}},
		{"byte moved from id to kind", func(t *hebao.Transfer) { t.ID, t.Kind = "tr_golde", "npayment" }, [32]byte{}},
		{"byte moved from kind to ref", func(t *hebao.Transfer) { t.Kind, t.Ref = "paymen", "tord_1" }, [32]byte{}},
		{"time +1µs", func(t *hebao.Transfer) { t.CreatedAt = t.CreatedAt.Add(time.Microsecond) }, [32]byte{}},
		{"time -1s", func(t *hebao.Transfer) { t.CreatedAt = t.CreatedAt.Add(-time.Second) }, [32]byte{}},
		{"swap postings 0 and 1", func(t *hebao.Transfer) { t.Postings[0], t.Postings[1] = t.Postings[1], t.Postings[0] }, [32]byte{}},
		{"swap postings 1 and 2", func(t *hebao.Transfer) { t.Postings[1], t.Postings[2] = t.Postings[2], t.Postings[1] }, [32]byte{}},
		{"last posting dropped", func(t *hebao.Transfer) { t.Postings = t.Postings[:3] }, [32]byte{}},
		{"posting added", func(t *hebao.Transfer) { t.Postings = append(t.Postings, hebao.Posting{}) }, [32]byte{}},
		{"prev", func(*hebao.Transfer) {}, [32]byte{31: 1}},
	}
	for i := range 4 {
		muts = append(muts,
			mutation{fmt.Sprintf("posting %d account", i), func(t *hebao.Transfer) { t.Postings[i].Account += 100 }, [32]byte{}},
			mutation{fmt.Sprintf("posting %d unit", i), func(t *hebao.Transfer) {
				t.Postings[i].Unit = map[hebao.Unit]hebao.Unit{hebao.CNY: hebao.POINT, hebao.POINT: hebao.CNY}[t.Postings[i].Unit]
			}, [32]byte{}},
			mutation{fmt.Sprintf("posting %d amount", i), func(t *hebao.Transfer) { t.Postings[i].Amount++ }, [32]byte{}},
			mutation{fmt.Sprintf("posting %d sign", i), func(t *hebao.Transfer) { t.Postings[i].Amount = -t.Postings[i].Amount }, [32]byte{}},
		)
	}
	for _, m := range muts {
		tr := goldenTransfer()
		m.mutate(tr)
		if got := tr.ChainHash(m.prev); got == base {
			t.Errorf("%s: the hash did not change", m.name)
		}
	}

	// What the encoding does not keep must not change the hash: the store keeps
	// microseconds in UTC, and Seq/PrevHash/Hash fields are not content.
	same := []mutation{
		{"nanoseconds", func(t *hebao.Transfer) { t.CreatedAt = t.CreatedAt.Add(999 * time.Nanosecond) }, [32]byte{}},
		{"time zone", func(t *hebao.Transfer) { t.CreatedAt = t.CreatedAt.In(time.FixedZone("CST", 8*3600)) }, [32]byte{}},
		{"stored hashes", func(t *hebao.Transfer) { t.PrevHash, t.Hash = [32]byte{1}, [32]byte{2} }, [32]byte{}},
	}
	for _, m := range same {
		tr := goldenTransfer()
		m.mutate(tr)
		if got := tr.ChainHash(m.prev); got != base {
			t.Errorf("%s: the hash changed", m.name)
		}
	}
}

func TestSeal(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	at := time.Date(2026, 1, 2, 11, 4, 5, 123456789, cst) // 03:04:05.123456789Z
	prev := sha256.Sum256([]byte("x"))

	tr := goldenTransfer()
	tr.Seq, tr.CreatedAt = 0, time.Time{}
	tr.Seal(7, at, prev)

	if tr.Seq != 7 {
		t.Errorf("Seq = %d, want 7", tr.Seq)
	}
	if !tr.CreatedAt.Equal(goldenTime) || tr.CreatedAt.Location() != time.UTC {
		t.Errorf("CreatedAt = %v, want %v in UTC", tr.CreatedAt, goldenTime)
	}
	if tr.CreatedAt != goldenTime { // no monotonic reading, no zone, no nanoseconds
		t.Errorf("CreatedAt = %#v, want exactly %#v", tr.CreatedAt, goldenTime)
	}
	if tr.PrevHash != prev {
		t.Errorf("PrevHash = %x, want %x", tr.PrevHash, prev)
	}
	if got := hex.EncodeToString(tr.Hash[:]); got != goldenHashPrevX {
		t.Errorf("Hash = %s, want %s", got, goldenHashPrevX)
	}

	// A time read from the clock carries a monotonic reading; Seal drops it, so the
	// sealed time compares equal to the same instant read back from a database.
	now := time.Now()
	tr.Seal(1, now, [32]byte{})
	if back := time.UnixMicro(now.UnixMicro()).UTC(); tr.CreatedAt != back {
		t.Errorf("Seal(time.Now()) CreatedAt = %#v, want %#v", tr.CreatedAt, back)
	}
	if tr.Hash != tr.ChainHash([32]byte{}) {
		t.Error("Hash is not ChainHash(prev)")
	}

	// Times before 1970 truncate toward the past, as UnixMicro does.
	old := time.Date(1969, 12, 31, 23, 59, 59, 999999999, time.UTC)
	tr.Seal(1, old, [32]byte{})
	if want := time.Date(1969, 12, 31, 23, 59, 59, 999999000, time.UTC); tr.CreatedAt != want {
		t.Errorf("Seal(%v) CreatedAt = %v, want %v", old, tr.CreatedAt, want)
	}
}

func TestCheckpoint(t *testing.T) {
	key := []byte("ledger key")
	h := hebao.ChainHead{Seq: 42, Hash: sha256.Sum256([]byte("x"))}
	base := h.Checkpoint(key)

	// Recomputed from the doc comment: HMAC-SHA-256(key, "hebao.checkpoint.v1" ‖ seq ‖ hash).
	m := hmac.New(sha256.New, key)
	m.Write([]byte("hebao.checkpoint.v1"))
	m.Write(binary.BigEndian.AppendUint64(nil, 42))
	m.Write(h.Hash[:])
	if want := m.Sum(nil); !bytes.Equal(want, base[:]) {
		t.Errorf("Checkpoint = %x, want %x", base, want)
	}

	if again := h.Checkpoint(key); again != base {
		t.Errorf("Checkpoint is not deterministic: %x then %x", base, again)
	}
	tests := []struct {
		name string
		head hebao.ChainHead
		key  []byte
	}{
		{"other key", h, []byte("ledger kez")},
		{"empty key", h, nil},
		{"seq+1", hebao.ChainHead{Seq: 43, Hash: h.Hash}, key},
		{"seq 0", hebao.ChainHead{Seq: 0, Hash: h.Hash}, key},
		{"hash bit flipped", hebao.ChainHead{Seq: 42, Hash: func() [32]byte { x := h.Hash; x[31] ^= 1; return x }()}, key},
		{"zero head", hebao.ChainHead{}, key},
	}
	for _, tt := range tests {
		if got := tt.head.Checkpoint(tt.key); got == base {
			t.Errorf("%s: Checkpoint did not change", tt.name)
		}
	}
}

func TestTransferString(t *testing.T) {
	s := goldenTransfer().String()
	for _, want := range []string{"tr_golden", "seq=7", "kind=payment", `ref="ord_1"`, "-1234"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, want it to contain %q", s, want)
		}
	}
}
