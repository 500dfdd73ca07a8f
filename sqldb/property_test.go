package sqldb

import (
	"context"
	"errors"
	"testing"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sqldb/sqldbtest"
	"pgregory.net/rapid"
)

// TestLedgerProperties drives the store with random sequences of operations —
// accounts of both kinds and units, transfers of random size between random accounts,
// multi-leg transfers, reversals of earlier transfers — and checks after every step
// that it agrees with a plain in-memory model, and at the end that the ledger verifies.
func TestLedgerProperties(t *testing.T) {
	for _, backend := range sqldbtest.Backends(t) {
		t.Run(backend, func(t *testing.T) {
			rapid.Check(t, func(rt *rapid.T) {
				url := ""
				if backend == "postgres" {
					url = sqldbtest.PostgresSchema(t)
				}
				db, err := Open(context.Background(), Config{URL: url, DataDir: t.TempDir(), LedgerKey: testKey})
				if err != nil {
					rt.Fatalf("open: %v", err)
				}
				defer db.Close()
				checkProperties(rt, db)
			})
		})
	}
}

type modelAccount struct {
	unit    hebao.Unit
	mayNeg  bool
	balance int64
}

func checkProperties(rt *rapid.T, db *DB) {
	ctx := context.Background()
	model := map[hebao.AccountID]*modelAccount{}
	var ids []hebao.AccountID
	var posted []*hebao.Transfer
	create := func(unit hebao.Unit, mayNeg bool) {
		var a hebao.Account
		err := db.Transact(ctx, func(tx hebao.Tx) (err error) {
			a, err = tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: unit, MayGoNegative: mayNeg})
			return err
		})
		if err != nil {
			rt.Fatalf("create account: %v", err)
		}
		model[a.ID] = &modelAccount{unit: unit, mayNeg: mayNeg}
		ids = append(ids, a.ID)
	}
	// Always have a source per unit so money can enter.
	create(hebao.CNY, true)
	create(hebao.POINT, true)

	apply := func(tr *hebao.Transfer) {
		want := true
		for _, p := range tr.Postings {
			m := model[p.Account]
			if m.unit != p.Unit {
				rt.Fatalf("generator bug: unit mismatch")
			}
			if !m.mayNeg && m.balance+p.Amount < 0 {
				want = false
			}
		}
		err := db.Transact(ctx, func(tx hebao.Tx) error { return tx.Post(ctx, tr) })
		switch {
		case err == nil && want:
			for _, p := range tr.Postings {
				model[p.Account].balance += p.Amount
			}
			posted = append(posted, tr)
		case errors.Is(err, hebao.ErrInsufficientFunds) && !want:
		default:
			rt.Fatalf("post %v: err = %v, model expected success=%v", tr, err, want)
		}
	}
	pick := func(unit hebao.Unit, label string, exclude map[hebao.AccountID]bool) (hebao.AccountID, bool) {
		var cands []hebao.AccountID
		for _, id := range ids {
			if model[id].unit == unit && !exclude[id] {
				cands = append(cands, id)
			}
		}
		if len(cands) == 0 {
			return 0, false
		}
		return rapid.SampledFrom(cands).Draw(rt, label), true
	}

	rt.Repeat(map[string]func(*rapid.T){
		"create": func(rt *rapid.T) {
			create(rapid.SampledFrom([]hebao.Unit{hebao.CNY, hebao.POINT}).Draw(rt, "unit"), rapid.Bool().Draw(rt, "mayNeg"))
		},
		"move": func(rt *rapid.T) {
			unit := rapid.SampledFrom([]hebao.Unit{hebao.CNY, hebao.POINT}).Draw(rt, "unit")
			from, ok1 := pick(unit, "from", nil)
			to, ok2 := pick(unit, "to", map[hebao.AccountID]bool{from: true})
			if !ok1 || !ok2 {
				rt.Skip("not enough accounts")
			}
			amount := rapid.Int64Range(1, 5000).Draw(rt, "amount")
			apply(&hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(from, to, unit, amount)})
		},
		"split": func(rt *rapid.T) {
			from, ok := pick(hebao.CNY, "from", nil)
			to1, ok1 := pick(hebao.CNY, "to1", map[hebao.AccountID]bool{from: true})
			to2, ok2 := pick(hebao.CNY, "to2", map[hebao.AccountID]bool{from: true, to1: true})
			if !ok || !ok1 || !ok2 {
				rt.Skip("not enough accounts")
			}
			a := rapid.Int64Range(1, 3000).Draw(rt, "a")
			b := rapid.Int64Range(1, 3000).Draw(rt, "b")
			apply(&hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferPayment, Postings: []hebao.Posting{
				{Account: from, Unit: hebao.CNY, Amount: -(a + b)}, {Account: to1, Unit: hebao.CNY, Amount: a}, {Account: to2, Unit: hebao.CNY, Amount: b},
			}})
		},
		"reverse": func(rt *rapid.T) {
			if len(posted) == 0 {
				rt.Skip("nothing to reverse")
			}
			orig := rapid.SampledFrom(posted).Draw(rt, "orig")
			apply(orig.Reverse(hebao.NewID("tr")))
		},
		"": func(rt *rapid.T) {
			bal, err := db.Balances(ctx, ids...)
			if err != nil {
				rt.Fatal(err)
			}
			for id, m := range model {
				if bal[id] != m.balance {
					rt.Fatalf("account %d: store %d, model %d", id, bal[id], m.balance)
				}
				if !m.mayNeg && bal[id] < 0 {
					rt.Fatalf("account %d negative", id)
				}
			}
		},
	})
	r, err := db.Verify(ctx)
	if err != nil || !r.OK {
		rt.Fatalf("verify: %v\n%s", err, r)
	}
	if r.Transfers != int64(len(posted)) {
		rt.Fatalf("journal has %d transfers, model %d", r.Transfers, len(posted))
	}
}
