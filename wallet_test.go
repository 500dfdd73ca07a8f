package hebao_test

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// TestWalletUsed moves money out of a wallet at times around the China-time day and
// year boundaries, and checks what counts against the limits.
func TestWalletUsed(t *testing.T) {
	f := newFixture()
	ctx := t.Context()
	// 2025-12-31 22:58 China time; registering takes the clock past the SMS resend gap.
	f.clock.t = time.Date(2025, 12, 31, 14, 58, 0, 0, time.UTC)
	r := f.register(t, phone, "dev-a")
	w := r.Wallet

	var bank, shop hebao.AccountID
	err := f.store.Transact(ctx, func(tx hebao.Tx) error {
		b, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, MayGoNegative: true})
		if err != nil {
			return err
		}
		s, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY})
		bank, shop = b.ID, s.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	move := func(kind hebao.TransferKind, from, to hebao.AccountID, amount int64) {
		t.Helper()
		err := f.store.Transact(ctx, func(tx hebao.Tx) error {
			return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: kind, Postings: hebao.Move(from, to, hebao.CNY, amount)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	move(hebao.TransferTopup, bank, w.Account, 900_000)
	move(hebao.TransferPayment, w.Account, shop, 1_000) // last year: not counted at all
	f.clock.Add(59 * time.Minute)                       // 23:58 China time
	move(hebao.TransferP2P, w.Account, shop, 2_000)     // still last year
	f.clock.Add(2 * time.Minute)                        // 2026-01-01 00:00 China time: this year
	move(hebao.TransferPayment, w.Account, shop, 30_000)
	f.clock.Add(24 * time.Hour) // the next day
	move(hebao.TransferWithdrawal, w.Account, bank, 400)
	move(hebao.TransferP2P, w.Account, shop, 50)
	move(hebao.TransferTest, w.Account, shop, 6) // not a payment kind
	move(hebao.TransferTopup, bank, w.Account, 100_000)

	got, err := f.wallets.Get(ctx, r.Customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := hebao.WalletView{
		Wallet:       w,
		Balance:      900_000 - 1_000 - 2_000 - 30_000 - 400 - 50 - 6 + 100_000,
		Limits:       hebao.Limits{BalanceCap: 1_000_000, SinglePayment: 200_000, DailyPayments: 500_000, YearlyPayments: 5_000_000},
		UsedToday:    450,
		UsedThisYear: 30_450,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wallet (-want +got):\n%s", diff)
	}

	_, err = f.wallets.Get(ctx, "cus_nobody")
	wantCode(t, "a customer with no wallet", err, hebao.CodeNotFound)
}

// TestWalletNew: a new wallet holds nothing and has used nothing; the tier table is
// configuration, and the zero value means the defaults.
func TestWalletNew(t *testing.T) {
	f := newFixture()
	r := f.register(t, phone, "dev-a")
	tiers := hebao.DefaultTierLimits()
	tiers[3].DailyPayments = 123
	for name, svc := range map[string]*hebao.WalletService{
		"default": {Store: f.store},
		"custom":  {Store: f.store, Tiers: tiers},
	} {
		got, err := svc.Get(t.Context(), r.Customer.ID)
		if err != nil {
			t.Fatal(err)
		}
		want := hebao.WalletView{Wallet: r.Wallet, Limits: hebao.DefaultTierLimits()[3]}
		if name == "custom" {
			want.Limits.DailyPayments = 123
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: wallet (-want +got):\n%s", name, diff)
		}
	}
}
