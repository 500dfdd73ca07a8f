package sqldb

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

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

// orderedStore holds back Transact calls until n have come, then runs them as one
// batch of the committer in the order their contexts give (orderKey): a test can
// then put closures in one group commit, in an order it chooses. Later calls go
// straight to the database.
type orderedStore struct {
	*DB
	n     int
	mu    sync.Mutex
	calls []*call
	ran   bool
}

type orderKey struct{}

func (s *orderedStore) Transact(ctx context.Context, fn func(hebao.Tx) error) error {
	c := &call{ctx: ctx, fn: fn, done: make(chan error, 1)}
	s.mu.Lock()
	if s.ran {
		s.mu.Unlock()
		return s.DB.Transact(ctx, fn)
	}
	s.calls = append(s.calls, c)
	if len(s.calls) == s.n {
		batch := s.calls
		s.calls, s.ran = nil, true
		slices.SortFunc(batch, func(a, b *call) int {
			return a.ctx.Value(orderKey{}).(int) - b.ctx.Value(orderKey{}).(int)
		})
		for len(batch) > 0 {
			batch = s.DB.run(batch)
		}
	}
	s.mu.Unlock()
	return <-c.done
}

// TestMoneyPasswordGuessStorm puts 63 wrong payment passwords and the right one in
// one group-commit batch, the right one tenth: each guess is counted in the
// transaction that checks it, so the fifth wrong one locks payments and the right
// one, checked after it in the same batch, is refused too. (Counted afterwards, in
// transactions of their own, the wrong ones were all checked against the count from
// before the batch, and the right one got through.)
func TestMoneyPasswordGuessStorm(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		payer := w.customer("13800000301", 1, 1_000)
		payee := w.customer("13800000300", 1, 0)
		const guesses, right = 64, 9
		ordered := &orderedStore{DB: w.db, n: guesses}
		transfers := &hebao.TransferService{Store: ordered, Passwords: &hebao.PaymentPasswordService{Store: ordered, Keys: w.keys}}
		errs := make([]error, guesses)
		var wg sync.WaitGroup
		for i := range guesses {
			pw := "000000"
			if i == right {
				pw = payPassword
			}
			wg.Go(func() {
				ctx := context.WithValue(context.Background(), orderKey{}, i)
				r := transferRequest(payer, payee.Customer.Phone, 1, fmt.Sprintf("storm-%d", i))
				r.PaymentPassword = pw
				_, errs[i] = transfers.Send(ctx, r)
			})
		}
		wg.Wait()
		want := map[string]int{hebao.CodePaymentPasswordWrong: hebao.PaymentPasswordMaxFailures - 1,
			hebao.CodePaymentPasswordLocked: guesses - hebao.PaymentPasswordMaxFailures + 1}
		if diff := cmp.Diff(want, codeCounts(errs)); diff != "" {
			t.Errorf("answers by code (-want +got):\n%s", diff)
		}
		if hebao.ErrorCode(errs[right]) != hebao.CodePaymentPasswordLocked {
			t.Errorf("the right password, after five wrong ones in the same batch: %v, want payment_password_locked", errs[right])
		}
		if got := w.balance(payee.Wallet.Account); got != 0 {
			t.Errorf("the payee got %d fen", got)
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
