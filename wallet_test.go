package hebao_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// TestWalletUsed sends transfers at times around the China-time day and year
// boundaries, and checks what counts against the limits; money coming in counts
// for nothing.
func TestWalletUsed(t *testing.T) {
	f := newFixture()
	ctx := t.Context()
	keys := keyring(t)
	pw := &hebao.PaymentPasswordService{Store: f.store, Keys: keys, Now: f.clock.Now}
	transfers := &hebao.TransferService{Store: f.store, Passwords: pw, Now: f.clock.Now}
	// 2025-12-31 22:58 China time; registering takes the clock past the SMS resend gap.
	f.clock.t = time.Date(2025, 12, 31, 14, 58, 0, 0, time.UTC)
	r := f.register(t, phone, "dev-a")
	other := f.register(t, "13900139000", "dev-b")
	w := r.Wallet
	f.clock.Add(-hebao.OTPResendGap) // back to where one registration leaves it: 22:59
	err := f.store.Transact(ctx, func(tx hebao.Tx) error {
		bank, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, MayGoNegative: true})
		if err != nil {
			return err
		}
		for _, id := range []string{w.ID, other.Wallet.ID} {
			hash := hebao.HashPaymentPassword(keys.DeriveKey(hebao.PaymentPasswordKeyPurpose), id, "258369")
			if err := tx.SavePaymentPassword(ctx, hebao.PaymentPassword{WalletID: id, Hash: hash}); err != nil {
				return err
			}
		}
		return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferFunding, Postings: hebao.Move(bank.ID, w.Account, hebao.CNY, 900_000)})
	})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	send := func(from hebao.Registered, amount int64) {
		t.Helper()
		n++
		_, err := transfers.Send(ctx, hebao.TransferRequest{CustomerID: from.Customer.ID, DeviceID: "dev", ToWalletID: other.Wallet.ID,
			Amount: amount, PaymentPassword: "258369", Key: hebao.NewIdempotencyKey("s", fmt.Sprint(n), nil),
			Reply: func(hebao.Movement) (hebao.Reply, error) { return hebao.Reply{Status: 201}, nil }})
		if err != nil {
			t.Fatal(err)
		}
	}
	send(r, 1_000)                // last year: not counted at all
	f.clock.Add(59 * time.Minute) // 23:58 China time
	send(r, 2_000)                // still last year
	f.clock.Add(2 * time.Minute)  // 2026-01-01 00:00 China time: this year
	send(r, 30_000)
	f.clock.Add(24 * time.Hour) // the next day
	send(r, 400)
	send(r, 50)

	got, err := f.wallets.Get(ctx, r.Customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := hebao.WalletView{
		Wallet:       w,
		Balance:      900_000 - 1_000 - 2_000 - 30_000 - 400 - 50,
		Limits:       hebao.Limits{BalanceCap: 1_000_000, SinglePayment: 200_000, DailyPayments: 500_000, YearlyPayments: 5_000_000},
		UsedToday:    450,
		UsedThisYear: 30_450,
		// the fixture sets a payment password for r
		PaymentPasswordSet: true,
		PaymentPassword:    hebao.PaymentPasswordSet,
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("wallet (-want +got):\n%s", diff)
	}
	got, err = f.wallets.Get(ctx, other.Customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Balance != 33_450 || got.UsedToday != 0 || got.UsedThisYear != 0 {
		t.Errorf("payee: balance %d, used %d today, %d this year; want 33450, 0, 0", got.Balance, got.UsedToday, got.UsedThisYear)
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
		want := hebao.WalletView{Wallet: r.Wallet, Limits: hebao.DefaultTierLimits()[3], PaymentPassword: hebao.PaymentPasswordNotSet}
		if name == "custom" {
			want.Limits.DailyPayments = 123
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("%s: wallet (-want +got):\n%s", name, diff)
		}
	}
}
