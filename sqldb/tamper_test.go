package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
	"github.com/jackc/pgx/v5"
)

var tamperSeed = flag.Uint64("tamper.seed", 0, "seed of TestTamperDetection's random tampers (0: from the clock)")

// TestTamperDetection edits a committed ledger behind the store's back, one field of
// one row at a time, and proves that Verify notices every edit, names the transfer at
// fault, and is satisfied again once the edit is undone.
func TestTamperDetection(t *testing.T) {
	seed := *tamperSeed
	if seed == 0 {
		seed = uint64(time.Now().UnixNano())
	}
	t.Logf("seed %d (rerun with -tamper.seed=%d)", seed, seed)
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		t.Run("random", func(t *testing.T) {
			r := newRand(seed)
			l := buildTamperLedger(t, db, r)
			randomTampers(t, db, r, l, 1000)
		})
		for i, c := range tailTampers {
			t.Run(c.name, func(t *testing.T) {
				db := openEmpty(t, db)
				r := newRand(seed + uint64(i) + 1)
				l := buildTamperLedger(t, db, r)
				want := c.tamper(t, db, r, l)
				rep, err := db.Verify(context.Background())
				if err != nil {
					t.Fatal(err)
				}
				if rep.OK {
					t.Fatalf("Verify passed a ledger with %s", c.name)
				}
				if rep.FirstBad != nil {
					t.Errorf("FirstBad = %+v, want none: every transfer left holds up", rep.FirstBad)
				}
				if len(rep.Problems) != 1 || !strings.Contains(rep.Problems[0], want) {
					t.Errorf("problems %q, want exactly one mentioning %q", rep.Problems, want)
				}
				// Whoever holds the key could make the edit stick: proof that the edit
				// was consistent in every other way, and that the head is what caught it.
				resealHead(t, db)
				mustVerify(t, db)
			})
		}
	})
}

// openEmpty opens a new, empty database on the same backend as db.
func openEmpty(t *testing.T, db *DB) *DB {
	if db.Dialect() == "postgres" {
		return openTest(t, Config{URL: sqldbtest.PostgresSchema(t)})
	}
	return openTest(t, Config{DataDir: t.TempDir()})
}

// tamperLedger is a ledger built for tampering: accounts of every kind, and transfers
// of many kinds, some with three or four postings, some in POINT, some in both units.
type tamperLedger struct {
	accounts  []hebao.Account
	transfers []*hebao.Transfer // transfers[i].Seq == i+1
}

func buildTamperLedger(t *testing.T, db *DB, r *rand.Rand) *tamperLedger {
	t.Helper()
	ctx := context.Background()
	kinds := []struct {
		kind hebao.AccountKind
		n    int
	}{
		{hebao.AccountBankClearing, 2}, {hebao.AccountMarketingFunding, 1}, {hebao.AccountInterestExpense, 1},
		{hebao.AccountWallet, 16}, {hebao.AccountPromo, 4}, {hebao.AccountMerchant, 6},
		{hebao.AccountCampaignBudget, 2}, {hebao.AccountRefundsInTransit, 1},
		{hebao.AccountPointsIssuance, 1}, {hebao.AccountPoints, 6},
	}
	l := &tamperLedger{}
	byKind := map[hebao.AccountKind][]hebao.AccountID{}
	err := db.Transact(ctx, func(tx hebao.Tx) error {
		l.accounts = l.accounts[:0]
		for _, k := range kinds {
			for i := 0; i < k.n; i++ {
				a, err := hebao.NewAccount(k.kind, fmt.Sprintf("%s-%d", k.kind, i), "", false)
				if err != nil {
					return err
				}
				if a, err = tx.CreateAccount(ctx, a); err != nil {
					return err
				}
				l.accounts = append(l.accounts, a)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("create accounts: %v", err)
	}
	negOK := map[hebao.AccountID]bool{}
	for _, a := range l.accounts {
		byKind[a.Kind] = append(byKind[a.Kind], a.ID)
		negOK[a.ID] = a.MayGoNegative
	}
	bal := map[hebao.AccountID]int64{}
	pick := func(k hebao.AccountKind) hebao.AccountID { ids := byKind[k]; return ids[r.IntN(len(ids))] }
	// upTo returns a random amount an account can pay, or 0 when it holds nothing.
	upTo := func(id hebao.AccountID) int64 {
		if negOK[id] {
			return 1 + r.Int64N(1_000_000)
		}
		if bal[id] <= 0 {
			return 0
		}
		return 1 + r.Int64N(bal[id])
	}
	type plan struct {
		kind hebao.TransferKind
		ps   []hebao.Posting
	}
	move := func(k hebao.TransferKind, from, to hebao.AccountID, u hebao.Unit) *plan {
		if x := upTo(from); x > 0 && from != to {
			return &plan{k, hebao.Move(from, to, u, x)}
		}
		return nil
	}
	cny := func(id hebao.AccountID, x int64) hebao.Posting {
		return hebao.Posting{Account: id, Unit: hebao.CNY, Amount: x}
	}
	pts := func(id hebao.AccountID, x int64) hebao.Posting {
		return hebao.Posting{Account: id, Unit: hebao.POINT, Amount: x}
	}
	ops := []func() *plan{
		func() *plan {
			return move(hebao.TransferTopup, pick(hebao.AccountBankClearing), pick(hebao.AccountWallet), hebao.CNY)
		},
		func() *plan {
			return move(hebao.TransferWithdrawal, pick(hebao.AccountWallet), pick(hebao.AccountBankClearing), hebao.CNY)
		},
		func() *plan {
			return move(hebao.TransferP2P, pick(hebao.AccountWallet), pick(hebao.AccountWallet), hebao.CNY)
		},
		func() *plan {
			return move(hebao.TransferFunding, pick(hebao.AccountMarketingFunding), pick(hebao.AccountCampaignBudget), hebao.CNY)
		},
		func() *plan {
			return move(hebao.TransferPromo, pick(hebao.AccountCampaignBudget), pick(hebao.AccountPromo), hebao.CNY)
		},
		func() *plan {
			return move(hebao.TransferPointsEarn, pick(hebao.AccountPointsIssuance), pick(hebao.AccountPoints), hebao.POINT)
		},
		func() *plan {
			return move(hebao.TransferPointsRedeem, pick(hebao.AccountPoints), pick(hebao.AccountPointsIssuance), hebao.POINT)
		},
		func() *plan {
			return move(hebao.TransferRefund, pick(hebao.AccountMerchant), pick(hebao.AccountRefundsInTransit), hebao.CNY)
		},
		func() *plan {
			return move(hebao.TransferRefund, pick(hebao.AccountRefundsInTransit), pick(hebao.AccountBankClearing), hebao.CNY)
		},
		func() *plan { // a payment with a platform fee: three postings
			w, m, fee := pick(hebao.AccountWallet), pick(hebao.AccountMerchant), pick(hebao.AccountMerchant)
			x := upTo(w)
			if x < 2 || m == fee {
				return nil
			}
			f := 1 + x/50
			return &plan{hebao.TransferPayment, []hebao.Posting{cny(w, -x), cny(m, x-f), cny(fee, f)}}
		},
		func() *plan { // a payment partly from a red packet: three postings
			w, p, m := pick(hebao.AccountWallet), pick(hebao.AccountPromo), pick(hebao.AccountMerchant)
			a, b := upTo(w), upTo(p)
			if a == 0 || b == 0 {
				return nil
			}
			return &plan{hebao.TransferCouponSubsidy, []hebao.Posting{cny(w, -a), cny(p, -b), cny(m, a+b)}}
		},
		func() *plan { // a payment partly in points: four postings in two units
			w, m, p, iss := pick(hebao.AccountWallet), pick(hebao.AccountMerchant), pick(hebao.AccountPoints), pick(hebao.AccountPointsIssuance)
			a, b := upTo(w), upTo(p)
			if a == 0 || b == 0 {
				return nil
			}
			return &plan{hebao.TransferPayment, []hebao.Posting{cny(w, -a), cny(m, a), pts(p, -b), pts(iss, b)}}
		},
		func() *plan { // interest to three wallets: four postings
			src := pick(hebao.AccountInterestExpense)
			ws := r.Perm(len(byKind[hebao.AccountWallet]))[:3]
			ps := []hebao.Posting{cny(src, 0)}
			for _, i := range ws {
				x := 1 + r.Int64N(500)
				ps = append(ps, cny(byKind[hebao.AccountWallet][i], x))
				ps[0].Amount -= x
			}
			return &plan{hebao.TransferInterest, ps}
		},
	}
	for attempts := 0; len(l.transfers) < 60; attempts++ {
		if attempts > 10_000 {
			t.Fatalf("could not plan 60 transfers")
		}
		p := ops[r.IntN(len(ops))]()
		if p == nil {
			continue
		}
		tr := &hebao.Transfer{ID: hebao.NewID("tr"), Kind: p.kind, Ref: fmt.Sprintf("ref_%d", len(l.transfers)), Postings: p.ps}
		if r.IntN(6) == 0 {
			tr.Ref = ""
		}
		if err := db.Transact(ctx, func(tx hebao.Tx) error { return tx.Post(ctx, tr) }); err != nil {
			t.Fatalf("post %v: %v", tr, err)
		}
		if tr.Seq != int64(len(l.transfers)+1) {
			t.Fatalf("%v: seq %d, want %d", tr, tr.Seq, len(l.transfers)+1)
		}
		for _, p := range tr.Postings {
			bal[p.Account] += p.Amount
		}
		l.transfers = append(l.transfers, tr)
	}
	mustVerify(t, db)
	return l
}

// A tamper is one edit applied to the database, and the statements that undo it.
type tamper struct {
	what string
	seq  int64 // the transfer at fault; 0 when no transfer is
	undo []stmt
}

type stmt struct {
	q    string
	args []any
}

// errSkip says a tamper was not applied: the database refused it, or it would have
// changed nothing.
var errSkip = errors.New("tamper not applied")

// randomTampers applies n random tampers one at a time; each must make Verify fail,
// and undoing it must restore the ledger byte for byte.
func randomTampers(t *testing.T, db *DB, r *rand.Rand, l *tamperLedger, n int) {
	ctx := context.Background()
	want := dumpLedger(t, db)
	postings := map[int64][]int64{} // seq → posting indexes
	var seqs []int64
	for _, tr := range l.transfers {
		seqs = append(seqs, tr.Seq)
		for i := range tr.Postings {
			postings[tr.Seq] = append(postings[tr.Seq], int64(i))
		}
	}
	randSeq := func() int64 { return seqs[r.IntN(len(seqs))] }
	randPosting := func() (int64, int64) { s := randSeq(); return s, postings[s][r.IntN(len(postings[s]))] }
	// apply runs the tampering statement: a refusal by a constraint means "pick another".
	apply := func(q string, args ...any) error {
		if _, err := rawExec(t, db, q, args...); err != nil {
			var he *hebao.Error
			if errors.As(translate(err), &he) {
				return errSkip
			}
			t.Fatalf("%s %v: %v", q, args, err)
		}
		return nil
	}
	transferBytes := func(col string) func() (tamper, error) {
		return func() (tamper, error) {
			s := randSeq()
			var orig []byte
			rawRow(t, db, `SELECT `+col+` FROM transfers WHERE seq = ?`, []any{s}, &orig)
			mod := flipByte(r, orig)
			q := `UPDATE transfers SET ` + col + ` = ? WHERE seq = ?`
			return tamper{fmt.Sprintf("transfers.%s of seq %d: %x -> %x", col, s, orig, mod), s, []stmt{{q, []any{orig, s}}}}, apply(q, mod, s)
		}
	}
	transferText := func(col string) func() (tamper, error) {
		return func() (tamper, error) {
			s := randSeq()
			var orig string
			rawRow(t, db, `SELECT `+col+` FROM transfers WHERE seq = ?`, []any{s}, &orig)
			mod := changeChar(r, orig)
			q := `UPDATE transfers SET ` + col + ` = ? WHERE seq = ?`
			return tamper{fmt.Sprintf("transfers.%s of seq %d: %q -> %q", col, s, orig, mod), s, []stmt{{q, []any{orig, s}}}}, apply(q, mod, s)
		}
	}
	tampers := []struct {
		name string
		fn   func() (tamper, error)
	}{
		{"transfers.hash", transferBytes("hash")},
		{"transfers.prev_hash", transferBytes("prev_hash")},
		{"transfers.id", transferText("id")},
		{"transfers.kind", transferText("kind")},
		{"transfers.ref", transferText("ref")},
		{"transfers.created_at", func() (tamper, error) {
			s := randSeq()
			var orig int64
			rawRow(t, db, `SELECT created_at FROM transfers WHERE seq = ?`, []any{s}, &orig)
			mod := orig + nonzero(r, 1_000_000)
			q := `UPDATE transfers SET created_at = ? WHERE seq = ?`
			return tamper{fmt.Sprintf("transfers.created_at of seq %d: %d -> %d", s, orig, mod), s, []stmt{{q, []any{orig, s}}}}, apply(q, mod, s)
		}},
		{"postings.amount", func() (tamper, error) {
			s, i := randPosting()
			var orig int64
			rawRow(t, db, `SELECT amount FROM postings WHERE transfer_seq = ? AND idx = ?`, []any{s, i}, &orig)
			mod := orig + nonzero(r, 1_000_000)
			q := `UPDATE postings SET amount = ? WHERE transfer_seq = ? AND idx = ?`
			return tamper{fmt.Sprintf("postings.amount of %d/%d: %d -> %d", s, i, orig, mod), s, []stmt{{q, []any{orig, s, i}}}}, apply(q, mod, s, i)
		}},
		{"postings.account_id", func() (tamper, error) {
			s, i := randPosting()
			var orig int64
			rawRow(t, db, `SELECT account_id FROM postings WHERE transfer_seq = ? AND idx = ?`, []any{s, i}, &orig)
			mod := orig
			for mod == orig {
				mod = int64(l.accounts[r.IntN(len(l.accounts))].ID)
			}
			q := `UPDATE postings SET account_id = ? WHERE transfer_seq = ? AND idx = ?`
			return tamper{fmt.Sprintf("postings.account_id of %d/%d: %d -> %d", s, i, orig, mod), s, []stmt{{q, []any{orig, s, i}}}}, apply(q, mod, s, i)
		}},
		{"postings.unit", func() (tamper, error) {
			s, i := randPosting()
			var orig string
			rawRow(t, db, `SELECT unit FROM postings WHERE transfer_seq = ? AND idx = ?`, []any{s, i}, &orig)
			mod := string(hebao.POINT)
			if orig == mod {
				mod = string(hebao.CNY)
			}
			q := `UPDATE postings SET unit = ? WHERE transfer_seq = ? AND idx = ?`
			return tamper{fmt.Sprintf("postings.unit of %d/%d: %s -> %s", s, i, orig, mod), s, []stmt{{q, []any{orig, s, i}}}}, apply(q, mod, s, i)
		}},
		{"postings.idx", func() (tamper, error) {
			s, i := randPosting()
			used := map[int64]bool{}
			for _, k := range postings[s] {
				used[k] = true
			}
			var mod int64
			for {
				// Mostly near the real indexes, sometimes negative or far past MaxPostings.
				mod = r.Int64N(12) - 4
				if r.IntN(4) == 0 {
					mod = r.Int64N(1 << 20)
				}
				if !used[mod] {
					break
				}
			}
			q := `UPDATE postings SET idx = ? WHERE transfer_seq = ? AND idx = ?`
			return tamper{fmt.Sprintf("postings.idx of %d/%d -> %d", s, i, mod), s, []stmt{{q, []any{i, s, mod}}}}, apply(q, mod, s, i)
		}},
		{"postings delete", func() (tamper, error) {
			s, i := randPosting()
			var acct, amount int64
			var unit string
			rawRow(t, db, `SELECT account_id, unit, amount FROM postings WHERE transfer_seq = ? AND idx = ?`, []any{s, i}, &acct, &unit, &amount)
			undo := stmt{`INSERT INTO postings (transfer_seq, idx, account_id, unit, amount) VALUES (?, ?, ?, ?, ?)`, []any{s, i, acct, unit, amount}}
			return tamper{fmt.Sprintf("posting %d/%d deleted", s, i), s, []stmt{undo}}, apply(`DELETE FROM postings WHERE transfer_seq = ? AND idx = ?`, s, i)
		}},
		{"postings swap amounts", func() (tamper, error) {
			s := randSeq()
			ks := postings[s]
			x := r.IntN(len(ks))
			y := (x + 1 + r.IntN(len(ks)-1)) % len(ks)
			i, k := ks[x], ks[y]
			var a, b int64
			rawRow(t, db, `SELECT amount FROM postings WHERE transfer_seq = ? AND idx = ?`, []any{s, i}, &a)
			rawRow(t, db, `SELECT amount FROM postings WHERE transfer_seq = ? AND idx = ?`, []any{s, k}, &b)
			if a == b {
				return tamper{}, errSkip
			}
			q := `UPDATE postings SET amount = ? WHERE transfer_seq = ? AND idx = ?`
			tp := tamper{fmt.Sprintf("postings %d/%d and %d/%d swap amounts %d and %d", s, i, s, k, a, b), s, []stmt{{q, []any{a, s, i}}, {q, []any{b, s, k}}}}
			if err := apply(q, b, s, i); err != nil {
				return tp, err
			}
			if err := apply(q, a, s, k); err != nil {
				t.Fatalf("%s: second half refused: %v", tp.what, err)
			}
			return tp, nil
		}},
		{"accounts.balance", func() (tamper, error) {
			id := int64(l.accounts[r.IntN(len(l.accounts))].ID)
			var orig int64
			rawRow(t, db, `SELECT balance FROM accounts WHERE id = ?`, []any{id}, &orig)
			mod := orig + nonzero(r, 1_000_000)
			q := `UPDATE accounts SET balance = ? WHERE id = ?`
			return tamper{fmt.Sprintf("accounts.balance of %d: %d -> %d", id, orig, mod), 0, []stmt{{q, []any{orig, id}}}}, apply(q, mod, id)
		}},
	}

	applied, skipped := map[string]int{}, map[string]int{}
	total := 0
	for attempt := 0; total < n; attempt++ {
		if attempt > 10*n {
			t.Fatalf("only %d of %d tampers applied in %d attempts (skipped: %v)", total, n, attempt, skipped)
		}
		c := tampers[r.IntN(len(tampers))]
		tp, err := c.fn()
		if errors.Is(err, errSkip) {
			skipped[c.name]++
			continue
		}
		total++
		applied[c.name]++
		rep, err := db.Verify(ctx)
		if err != nil {
			t.Fatalf("tamper %d (%s): Verify: %v", total, tp.what, err)
		}
		switch {
		case rep.OK:
			t.Fatalf("tamper %d not detected: %s", total, tp.what)
		case tp.seq != 0 && (rep.FirstBad == nil || rep.FirstBad.Seq != tp.seq):
			t.Fatalf("tamper %d (%s): FirstBad = %+v, want seq %d\n%s", total, tp.what, rep.FirstBad, tp.seq, rep)
		case tp.seq == 0 && rep.FirstBad != nil:
			t.Fatalf("tamper %d (%s): FirstBad = %+v, want none: no transfer was touched", total, tp.what, rep.FirstBad)
		}
		for _, u := range tp.undo {
			if _, err := rawExec(t, db, u.q, u.args...); err != nil {
				t.Fatalf("undo %s: %s %v: %v", tp.what, u.q, u.args, err)
			}
		}
		if total%50 == 0 || total == n {
			if d := cmp.Diff(want, dumpLedger(t, db)); d != "" {
				t.Fatalf("after undoing tamper %d (%s) the ledger differs (-want +got):\n%s", total, tp.what, d)
			}
			mustVerify(t, db)
		}
	}
	for _, c := range tampers {
		if applied[c.name] == 0 {
			t.Errorf("tamper %s never applied", c.name)
		}
	}
	t.Logf("%d tampers applied, all detected: %v; skipped: %v", total, applied, skipped)
}

// tailTampers rewrite the end of the journal consistently, the way someone who knows
// the hash chain but not the ledger key would: only the chain head can catch them.
var tailTampers = []struct {
	name   string
	tamper func(t *testing.T, db *DB, r *rand.Rand, l *tamperLedger) (problem string)
}{
	{"truncated chain", func(t *testing.T, db *DB, r *rand.Rand, l *tamperLedger) string {
		// Cut the last k transfers and put the balances back as they were before
		// them, leaving the head alone: the head no longer matches the last transfer.
		k := 1 + r.IntN(5)
		n := len(l.transfers)
		cutTail(t, db, l.transfers[n-k:])
		t.Logf("cut %d transfers", k)
		return "chain head says seq"
	}},
	{"rehashed tail", func(t *testing.T, db *DB, r *rand.Rand, l *tamperLedger) string {
		// Redirect the last transfer's credit to another account of the same unit,
		// fix both balances, re-hash the transfer and move the head to the new hash.
		last := *l.transfers[len(l.transfers)-1]
		last.Postings = append([]hebao.Posting(nil), last.Postings...)
		i := 0
		for last.Postings[i].Amount < 0 {
			i++
		}
		p := &last.Postings[i]
		to := otherAccount(t, r, l, &last, p.Unit)
		mustExec(t, db, `UPDATE postings SET account_id = ? WHERE transfer_seq = ? AND idx = ?`, int64(to), last.Seq, int64(i))
		mustExec(t, db, `UPDATE accounts SET balance = balance - ? WHERE id = ?`, p.Amount, int64(p.Account))
		mustExec(t, db, `UPDATE accounts SET balance = balance + ? WHERE id = ?`, p.Amount, int64(to))
		p.Account = to
		last.Hash = last.ChainHash(last.PrevHash)
		mustExec(t, db, `UPDATE transfers SET hash = ? WHERE seq = ?`, last.Hash[:], last.Seq)
		mustExec(t, db, `UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1`, last.Seq, last.Hash[:])
		return "checkpoint"
	}},
	{"forged transfer appended", func(t *testing.T, db *DB, r *rand.Rand, l *tamperLedger) string {
		last := l.transfers[len(l.transfers)-1]
		var bank, wallet hebao.AccountID
		for _, a := range l.accounts {
			switch a.Kind {
			case hebao.AccountBankClearing:
				bank = a.ID
			case hebao.AccountWallet:
				wallet = a.ID
			}
		}
		f := &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTopup, Postings: hebao.Move(bank, wallet, hebao.CNY, 100_000_000)}
		f.Seal(last.Seq+1, time.Now(), last.Hash)
		insertTransfer(t, db, f)
		for _, p := range f.Postings {
			mustExec(t, db, `UPDATE accounts SET balance = balance + ? WHERE id = ?`, p.Amount, int64(p.Account))
		}
		mustExec(t, db, `UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1`, f.Seq, f.Hash[:])
		return "checkpoint"
	}},
	{"last transfer cut and head set back", func(t *testing.T, db *DB, r *rand.Rand, l *tamperLedger) string {
		n := len(l.transfers)
		cutTail(t, db, l.transfers[n-1:])
		prev := l.transfers[n-2]
		mustExec(t, db, `UPDATE ledger_head SET seq = ?, hash = ? WHERE id = 1`, prev.Seq, prev.Hash[:])
		return "checkpoint"
	}},
}

// cutTail deletes the given transfers (the last ones of the journal) with their
// postings, and takes their postings back out of the balances.
func cutTail(t *testing.T, db *DB, trs []*hebao.Transfer) {
	t.Helper()
	delta := map[hebao.AccountID]int64{}
	for _, tr := range trs {
		mustExec(t, db, `DELETE FROM postings WHERE transfer_seq = ?`, tr.Seq)
		mustExec(t, db, `DELETE FROM transfers WHERE seq = ?`, tr.Seq)
		for _, p := range tr.Postings {
			delta[p.Account] -= p.Amount
		}
	}
	// One update per account, so no constrained balance dips below zero on the way.
	for id, d := range delta {
		mustExec(t, db, `UPDATE accounts SET balance = balance + ? WHERE id = ?`, d, int64(id))
	}
}

// otherAccount returns an account of unit u that tr does not touch.
func otherAccount(t *testing.T, r *rand.Rand, l *tamperLedger, tr *hebao.Transfer, u hebao.Unit) hebao.AccountID {
	t.Helper()
	for _, i := range r.Perm(len(l.accounts)) {
		a := l.accounts[i]
		touched := false
		for _, p := range tr.Postings {
			touched = touched || p.Account == a.ID
		}
		if a.Unit == u && !touched {
			return a.ID
		}
	}
	t.Fatalf("no %s account outside %v", u, tr)
	return 0
}

func insertTransfer(t *testing.T, db *DB, tr *hebao.Transfer) {
	t.Helper()
	mustExec(t, db, `INSERT INTO transfers (seq, id, kind, ref, created_at, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?)`,
		tr.Seq, tr.ID, string(tr.Kind), tr.Ref, tr.CreatedAt.UnixMicro(), tr.PrevHash[:], tr.Hash[:])
	for i, p := range tr.Postings {
		mustExec(t, db, `INSERT INTO postings (transfer_seq, idx, account_id, unit, amount) VALUES (?, ?, ?, ?, ?)`,
			tr.Seq, int64(i), int64(p.Account), string(p.Unit), p.Amount)
	}
}

// resealHead points the stored head at the last transfer and gives it a valid
// checkpoint, as only the key's holder can.
func resealHead(t *testing.T, db *DB) {
	t.Helper()
	var h hebao.ChainHead
	var hash []byte
	rawRow(t, db, `SELECT seq, hash FROM transfers ORDER BY seq DESC LIMIT 1`, nil, &h.Seq, &hash)
	copy(h.Hash[:], hash)
	mac := h.Checkpoint(testKey)
	mustExec(t, db, `UPDATE ledger_head SET seq = ?, hash = ?, mac = ? WHERE id = 1`, h.Seq, h.Hash[:], mac[:])
}

func mustExec(t *testing.T, db *DB, q string, args ...any) {
	t.Helper()
	if _, err := rawExec(t, db, q, args...); err != nil {
		t.Fatalf("%s %v: %v", q, args, err)
	}
}

// rawQuery runs a ? query straight on the database and calls each for every row.
func rawQuery(t testing.TB, db *DB, q string, args []any, each func(scan func(dest ...any) error) error) {
	t.Helper()
	ctx := context.Background()
	var (
		rs   rows
		done func()
		err  error
	)
	switch b := db.b.(type) {
	case *sqliteDB:
		var r *sql.Rows
		r, err = b.r.QueryContext(ctx, q, args...)
		rs, done = r, func() { r.Close() }
	case *pgDB:
		var r pgx.Rows
		r, err = b.pool.Query(ctx, rebind(q), args...)
		rs, done = r, func() { r.Close() }
	default:
		t.Fatalf("unknown backend %T", db.b)
	}
	if err != nil {
		t.Fatalf("%s: %v", q, err)
	}
	defer done()
	for rs.Next() {
		if err := each(rs.Scan); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := rs.Err(); err != nil {
		t.Fatalf("%s: %v", q, err)
	}
}

// rawRow reads the one row a ? query returns.
func rawRow(t testing.TB, db *DB, q string, args []any, dest ...any) {
	t.Helper()
	n := 0
	rawQuery(t, db, q, args, func(scan func(...any) error) error { n++; return scan(dest...) })
	if n != 1 {
		t.Fatalf("%s %v: %d rows, want 1", q, args, n)
	}
}

// dumpLedger prints every row verify reads, to prove an undo exact.
func dumpLedger(t testing.TB, db *DB) []string {
	t.Helper()
	var out []string
	rawQuery(t, db, `SELECT seq, id, kind, ref, created_at, prev_hash, hash FROM transfers ORDER BY seq`, nil, func(scan func(...any) error) error {
		var seq, created int64
		var id, kind, ref string
		var prev, hash []byte
		err := scan(&seq, &id, &kind, &ref, &created, &prev, &hash)
		out = append(out, fmt.Sprintf("transfer %d %q %q %q %d %x %x", seq, id, kind, ref, created, prev, hash))
		return err
	})
	rawQuery(t, db, `SELECT transfer_seq, idx, account_id, unit, amount FROM postings ORDER BY transfer_seq, idx`, nil, func(scan func(...any) error) error {
		var seq, idx, acct, amount int64
		var unit string
		err := scan(&seq, &idx, &acct, &unit, &amount)
		out = append(out, fmt.Sprintf("posting %d/%d %d %q %d", seq, idx, acct, unit, amount))
		return err
	})
	rawQuery(t, db, `SELECT id, kind, unit, balance FROM accounts ORDER BY id`, nil, func(scan func(...any) error) error {
		var id, balance int64
		var kind, unit string
		err := scan(&id, &kind, &unit, &balance)
		out = append(out, fmt.Sprintf("account %d %q %q %d", id, kind, unit, balance))
		return err
	})
	rawQuery(t, db, `SELECT seq, hash, mac FROM ledger_head`, nil, func(scan func(...any) error) error {
		var seq int64
		var hash, mac []byte
		err := scan(&seq, &hash, &mac)
		out = append(out, fmt.Sprintf("head %d %x %x", seq, hash, mac))
		return err
	})
	return out
}

// flipByte returns a copy of b with one bit flipped, or one byte replaced.
func flipByte(r *rand.Rand, b []byte) []byte {
	c := append([]byte(nil), b...)
	i := r.IntN(len(c))
	if r.IntN(2) == 0 {
		c[i] ^= 1 << r.IntN(8)
	} else {
		c[i] ^= byte(1 + r.IntN(255))
	}
	return c
}

// changeChar returns s with one character replaced by another, or with one added if s
// is empty.
func changeChar(r *rand.Rand, s string) string {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz_"
	if s == "" {
		return string(alphabet[r.IntN(len(alphabet))])
	}
	i := r.IntN(len(s))
	for {
		c := alphabet[r.IntN(len(alphabet))]
		if c != s[i] {
			return s[:i] + string(c) + s[i+1:]
		}
	}
}

// nonzero returns a random delta in ±[1, n].
func nonzero(r *rand.Rand, n int64) int64 {
	d := 1 + r.Int64N(n)
	if r.IntN(2) == 0 {
		return -d
	}
	return d
}
