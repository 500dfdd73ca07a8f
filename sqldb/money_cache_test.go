package sqldb

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
)

// TestMoneyRowCacheSeesOtherWriters: the committer keeps what transfers read about
// payers and payees between batches, and must drop it the moment anything else
// changed those rows — another handle on the database (another process), or a
// direct write through its own committer.
func TestMoneyRowCacheSeesOtherWriters(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		a, b := ws[0], ws[1]
		ctx := context.Background()
		payer := a.customer("13800000201", 4, 600_000)
		payee := a.customer("13800000202", 1, 0)
		n := 0
		send := func(w *world, amount int64, pw string) error {
			n++
			r := transferRequest(payer, payee.Customer.Phone, amount, "cache-"+string(rune('a'+n)))
			r.PaymentPassword = pw
			_, err := w.transfers.Send(ctx, r)
			return err
		}
		// Handle a reads the payer and payee, and keeps them.
		if err := send(a, 150_000, payPassword); err != nil {
			t.Fatal(err)
		}
		// Another process pays from the same wallet: a's counters are stale now.
		if err := send(b, 200_000, payPassword); err != nil {
			t.Fatal(err)
		}
		// The daily limit at tier 4 is ¥5,000: 1,500 + 2,000 used, so 1,501 more is
		// too much, whichever handle asks.
		if err := send(a, 150_100, payPassword); hebao.ErrorCode(err) != hebao.CodeLimitExceeded {
			t.Fatalf("after another process paid: %v, want limit_exceeded", err)
		}
		if err := send(a, 150_000, payPassword); err != nil {
			t.Fatalf("up to the limit: %v", err)
		}

		// Another process freezes the wallet: a must see it.
		st := &hebao.WalletStatusService{Store: b.db}
		if _, err := st.Freeze(ctx, payer.Customer.ID, "lost phone"); err != nil {
			t.Fatal(err)
		}
		if err := send(a, 1, payPassword); hebao.ErrorCode(err) != hebao.CodeWalletFrozen {
			t.Fatalf("after another process froze the wallet: %v, want wallet_frozen", err)
		}

		// Through a's own committer: unfrozen by an agent, then frozen again.
		st = &hebao.WalletStatusService{Store: a.db}
		if _, err := st.AgentUnfreeze(ctx, hebao.Staff{ID: "stf_x", Role: hebao.RoleAgent}, payer.Wallet.ID, "checked the ID card in person"); err != nil {
			t.Fatal(err)
		}
		if err := send(a, 1, payPassword); hebao.ErrorCode(err) != hebao.CodeLimitExceeded {
			t.Fatalf("after unfreezing, with the day's limit used up: %v, want limit_exceeded", err)
		}
		if _, err := st.Freeze(ctx, payer.Customer.ID, "lost phone"); err != nil {
			t.Fatal(err)
		}
		if err := send(a, 1, payPassword); hebao.ErrorCode(err) != hebao.CodeWalletFrozen {
			t.Fatalf("after freezing through the same handle: %v, want wallet_frozen", err)
		}
		mustVerify(t, a.db)
	})
}

// TestMoneyPasswordGuessStorm sends 63 wrong payment passwords and the right one at
// once, the right one placed among the last: every guess is counted in the
// transaction that checks it, so once five wrong ones are in, the right one is
// refused too — even when all of them share one group-commit batch. (Counted
// afterwards instead, the right one got through every time.)
func TestMoneyPasswordGuessStorm(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		ctx := context.Background()
		payee := w.customer("13800000300", 1, 0)
		const rounds, guesses = 6, 64
		through := 0
		for round := range rounds {
			payer := w.customer(fmt.Sprintf("138000003%02d", round+1), 1, 1_000)
			right := 40 + round*4 // late in the storm
			errs := make([]error, guesses)
			var wg sync.WaitGroup
			for i := range guesses {
				pw := "000000"
				if i == right {
					pw = payPassword
				}
				wg.Go(func() {
					r := transferRequest(payer, payee.Customer.Phone, 1, fmt.Sprintf("storm-%d-%d", round, i))
					r.PaymentPassword = pw
					_, errs[i] = w.transfers.Send(ctx, r)
				})
			}
			wg.Wait()
			counts := codeCounts(errs)
			if counts[hebao.CodePaymentPasswordWrong] != hebao.PaymentPasswordMaxFailures-1 {
				t.Errorf("round %d: %v; want exactly %d wrong before the lock", round, counts, hebao.PaymentPasswordMaxFailures-1)
			}
			if errs[right] == nil {
				through++
			}
		}
		if through > 1 {
			t.Errorf("the right password got through in %d of %d storms", through, rounds)
		}
		mustVerify(t, w.db)
	})
}

// TestMoneyCapCountsPendingWithdrawals: a withdrawal's money may come back (the bank
// refuses, or never answers), so while it is pending it still counts against the
// balance cap, and the wallet cannot be closed.
func TestMoneyCapCountsPendingWithdrawals(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		ctx := context.Background()
		holder := w.customer("13800000401", 4, 1_000_000) // at the tier-4 cap of ¥10,000
		sender := w.customer("13800000402", 1, 500_000)
		silent := w.card(holder.Customer.ID, "0119") // never answers
		r, err := w.withdraw(holder, silent, 200_000, "w")
		if err != nil {
			t.Fatal(err)
		}
		_, err = w.transfers.Send(ctx, transferRequest(sender, holder.Customer.Phone, 200_000, "t1"))
		if hebao.ErrorCode(err) != hebao.CodeBalanceCapExceeded {
			t.Fatalf("transfer while the withdrawal is pending: %v, want balance_cap_exceeded", err)
		}
		_, err = (&hebao.WalletStatusService{Store: w.db}).Close(ctx, holder.Customer.ID)
		if hebao.ErrorCode(err) != hebao.CodeWalletNotEmpty {
			t.Fatalf("closing while the withdrawal is pending: %v, want wallet_not_empty", err)
		}
		m := w.waitMovement(holder.Wallet.ID, movementID(t, r), 5*time.Second)
		if m.Status != hebao.MovementFailed || m.FailureCode != hebao.CodeBankTimeout {
			t.Fatalf("withdrawal: %s %q, want failed bank_timeout", m.Status, m.FailureCode)
		}
		if got := w.balance(holder.Wallet.Account); got != 1_000_000 {
			t.Errorf("balance after the hold came back: %d, want 1000000", got)
		}
		if u := w.usage(holder.Wallet.ID); u.PendingOut != 0 || u.PendingIn != 0 {
			t.Errorf("pending after the withdrawal failed: %+v", u)
		}
		mustVerify(t, w.db)
	})
}
