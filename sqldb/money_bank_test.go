package sqldb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sandbox"
)

// lateBank opens a sandbox bank whose 0259 cards answer after late.
func lateBank(t *testing.T, late time.Duration) *sandbox.Bank {
	t.Helper()
	bank, err := sandbox.Open("")
	if err != nil {
		t.Fatal(err)
	}
	bank.LateAnswer = late
	t.Cleanup(func() { bank.Close() })
	return bank
}

func (w *world) topup(r hebao.Registered, c hebao.Card, amount int64, k string) (hebao.Reply, error) {
	return w.banks.Topup(context.Background(), hebao.TopupRequest{CustomerID: r.Customer.ID, CardID: c.ID,
		Amount: amount, Key: key(r.Customer.ID, k, []any{c.ID, amount}), Reply: movementReply})
}

func (w *world) withdraw(r hebao.Registered, c hebao.Card, amount int64, k string) (hebao.Reply, error) {
	return w.banks.Withdraw(context.Background(), hebao.WithdrawalRequest{CustomerID: r.Customer.ID, CardID: c.ID,
		Amount: amount, PaymentPassword: payPassword, Key: key(r.Customer.ID, k, []any{c.ID, amount}), Reply: movementReply})
}

// TestMoneySandboxEndings tops up from and withdraws to a card of each sandbox
// ending, and checks the movement, the wallet, the limit counters, the bank's side
// and the ledger after each.
func TestMoneySandboxEndings(t *testing.T) {
	const (
		start    = 500_000   // in the tier 4 wallet
		topupAmt = 300_000   // top-up
		withAmt  = 100_000   // withdrawal
		capacity = 1_000_000 // tier 4 balance cap
		slow     = 5 * time.Second
	)
	type result struct {
		Status hebao.MovementStatus
		Code   string
	}
	ok := result{hebao.MovementSucceeded, ""}
	cases := []struct {
		name     string
		last4    string
		late     time.Duration // the bank's LateAnswer; the bank time-out is 1 s
		pending  bool          // the bank answers slowly enough to see the movement pending
		topup    result
		withdraw result
	}{
		{"1234", "1234", 0, false, ok, ok},
		{"0002", "0002", 0, false, result{hebao.MovementFailed, hebao.CodeCardDeclined}, result{hebao.MovementFailed, hebao.CodeCardDeclined}},
		{"0051", "0051", 0, false, result{hebao.MovementFailed, hebao.CodeBankInsufficientFunds}, ok},
		{"0119", "0119", 0, true, result{hebao.MovementFailed, hebao.CodeBankTimeout}, result{hebao.MovementFailed, hebao.CodeBankTimeout}},
		{"0259-late", "0259", 200 * time.Millisecond, true, ok, ok},
		{"0259-too-late", "0259", 1500 * time.Millisecond, true, result{hebao.MovementFailed, hebao.CodeBankTimeout}, result{hebao.MovementFailed, hebao.CodeBankTimeout}},
	}
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		db := open(t)
		t.Run("endings", func(t *testing.T) {
			for i, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					t.Parallel()
					w := newWorld(t, db, lateBank(t, tc.late))
					ctx := context.Background()
					r := w.customer(fmt.Sprintf("139000001%02d", i), 4, start)
					c := w.card(r.Customer.ID, tc.last4)
					number := w.cardNumber(c)

					// Top-up: the amount is held against the cap while pending.
					reply, err := w.topup(r, c, topupAmt, "t")
					if err != nil {
						t.Fatalf("top-up: %v", err)
					}
					id := movementID(t, reply)
					topupID := id
					if tc.pending {
						if m := w.waitMovement(r.Wallet.ID, id, 0); m.Status != hebao.MovementPending {
							t.Errorf("top-up at once: %s, want pending", m.Status)
						}
						if u := w.usage(r.Wallet.ID); u.PendingIn != topupAmt {
							t.Errorf("pending top-ups %d while pending, want %d", u.PendingIn, topupAmt)
						}
					}
					m := w.waitMovement(r.Wallet.ID, id, slow)
					if d := cmp.Diff(tc.topup, result{m.Status, m.FailureCode}); d != "" {
						t.Errorf("top-up (-want +got):\n%s", d)
					}
					balance, bankBalance := int64(start), hebao.SandboxCardBalance
					if tc.topup.Status == hebao.MovementSucceeded {
						balance += topupAmt
						bankBalance -= topupAmt
					}
					if got := w.balance(r.Wallet.Account); got != balance {
						t.Errorf("after the top-up the wallet holds %d, want %d", got, balance)
					}
					if got := w.bank.Balance(number); got != bankBalance {
						t.Errorf("after the top-up the card holds %d at the bank, want %d", got, bankBalance)
					}
					if u := w.usage(r.Wallet.ID); u.PendingIn != 0 {
						t.Errorf("pending top-ups %d after the top-up finished, want 0", u.PendingIn)
					}

					// Withdrawal: held at once, paid out or given back.
					reply, err = w.withdraw(r, c, withAmt, "w")
					if err != nil {
						t.Fatalf("withdrawal: %v", err)
					}
					id = movementID(t, reply)
					if tc.pending {
						if m := w.waitMovement(r.Wallet.ID, id, 0); m.Status != hebao.MovementPending {
							t.Errorf("withdrawal at once: %s, want pending", m.Status)
						}
						if got := w.balance(r.Wallet.Account); got != balance-withAmt {
							t.Errorf("wallet holds %d while the withdrawal is pending, want %d", got, balance-withAmt)
						}
					}
					m = w.waitMovement(r.Wallet.ID, id, slow)
					if d := cmp.Diff(tc.withdraw, result{m.Status, m.FailureCode}); d != "" {
						t.Errorf("withdrawal (-want +got):\n%s", d)
					}
					dayTotal := int64(0)
					if tc.withdraw.Status == hebao.MovementSucceeded {
						balance -= withAmt
						bankBalance += withAmt
						dayTotal = withAmt
					}
					if got := w.balance(r.Wallet.Account); got != balance {
						t.Errorf("after the withdrawal the wallet holds %d, want %d", got, balance)
					}
					if got := w.bank.Balance(number); got != bankBalance {
						t.Errorf("after the withdrawal the card holds %d at the bank, want %d", got, bankBalance)
					}
					if u := w.usage(r.Wallet.ID); u.DayTotal != dayTotal {
						t.Errorf("paid out today: %d, want %d", u.DayTotal, dayTotal)
					}
					if tc.topup.Code == hebao.CodeBankTimeout {
						// Cancelled at the bank: asked again (without waiting), the bank
						// answers cancelled, so the order can never be applied later.
						done, cancel := context.WithCancel(ctx)
						cancel()
						for _, ref := range []string{topupID, id} {
							o := hebao.BankOrder{Ref: ref, CardNumber: number, BankCode: c.BankCode, Amount: 1}
							out, err := w.bank.Debit(done, o)
							if err != nil || out.Status != hebao.BankCancelled {
								t.Errorf("bank's outcome of %s: %+v, %v; want cancelled", ref, out, err)
							}
						}
					}

					// Nothing is left held against the cap: a top-up up to it is accepted.
					good := c
					if tc.last4 != "1234" {
						good = w.card(r.Customer.ID, "1234")
					}
					reply, err = w.topup(r, good, capacity-balance, "fill")
					if err != nil {
						t.Fatalf("top-up to the cap: %v", err)
					}
					if m := w.waitMovement(r.Wallet.ID, movementID(t, reply), slow); m.Status != hebao.MovementSucceeded {
						t.Fatalf("top-up to the cap: %+v", m)
					}
					if got := w.balance(r.Wallet.Account); got != capacity {
						t.Errorf("wallet holds %d after topping up to the cap, want %d", got, capacity)
					}
				})
			}
		})
		mustVerify(t, db)
	})
}

// TestMoneyTopupCap checks that a top-up is refused past the balance cap, counting
// the pending top-ups, also when two race from two processes.
func TestMoneyTopupCap(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		bank := lateBank(t, 700*time.Millisecond)
		ws := []*world{newWorld(t, open(t), bank), newWorld(t, open(t), bank)}
		w := ws[0]
		r := w.customer("13900000201", 4, 900_000)
		c := w.card(r.Customer.ID, "0259")
		if _, err := w.topup(r, c, 200_000, "over"); hebao.ErrorCode(err) != hebao.CodeBalanceCapExceeded {
			t.Fatalf("top-up past the cap: %v, want balance_cap_exceeded", err)
		}
		const n = 2
		replies := make([]hebao.Reply, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			wi := ws[i]
			wg.Go(func() { replies[i], errs[i] = wi.topup(r, c, 60_000, fmt.Sprintf("race%d", i)) })
		}
		wg.Wait()
		if d := cmp.Diff(map[string]int{"": 1, hebao.CodeBalanceCapExceeded: 1}, codeCounts(errs)); d != "" {
			t.Fatalf("two top-ups of 60000 to 900000 (-want +got):\n%s\nerrors: %v", d, errs)
		}
		won := replies[0]
		if errs[0] != nil {
			won = replies[1]
		}
		// The accepted top-up counts, pending or done: 40001 more would pass the cap.
		if _, err := w.topup(r, c, 40_001, "one-more"); hebao.ErrorCode(err) != hebao.CodeBalanceCapExceeded {
			t.Fatalf("top-up past the cap with one pending: %v, want balance_cap_exceeded", err)
		}
		if m := w.waitMovement(r.Wallet.ID, movementID(t, won), 5*time.Second); m.Status != hebao.MovementSucceeded {
			t.Fatalf("accepted top-up: %+v", m)
		}
		if got := w.balance(r.Wallet.Account); got != 960_000 {
			t.Errorf("wallet holds %d, want 960000", got)
		}
		if u := w.usage(r.Wallet.ID); u.PendingIn != 0 {
			t.Errorf("pending top-ups %d, want 0", u.PendingIn)
		}
		if n := w.movementCount(r.Wallet.ID, hebao.MovementTopup); n != 1 {
			t.Errorf("%d top-up movements, want 1", n)
		}
		mustVerify(t, w.db)
	})
}
