package hebao_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/inmem"
)

// scriptBank is a hebao.Bank whose answers a test scripts: answer decides each
// Debit and Credit, cancel each Cancel; calls records what was asked.
type scriptBank struct {
	mu     sync.Mutex
	answer func(ctx context.Context, op string, o hebao.BankOrder) (hebao.BankOutcome, error)
	cancel func(ctx context.Context, ref string) (hebao.BankOutcome, error)
	calls  []string
}

func (b *scriptBank) record(s string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls = append(b.calls, s)
}

func (b *scriptBank) Debit(ctx context.Context, o hebao.BankOrder) (hebao.BankOutcome, error) {
	b.record("debit " + o.Ref)
	b.mu.Lock()
	answer := b.answer
	b.mu.Unlock()
	return answer(ctx, "debit", o)
}

func (b *scriptBank) Credit(ctx context.Context, o hebao.BankOrder) (hebao.BankOutcome, error) {
	b.record("credit " + o.Ref)
	b.mu.Lock()
	answer := b.answer
	b.mu.Unlock()
	return answer(ctx, "credit", o)
}

func (b *scriptBank) Cancel(ctx context.Context, ref string) (hebao.BankOutcome, error) {
	b.record("cancel " + ref)
	b.mu.Lock()
	cancel := b.cancel
	b.mu.Unlock()
	return cancel(ctx, ref)
}

// answers sets how the bank answers orders from now on.
func (b *scriptBank) answers(fn func(ctx context.Context, op string, o hebao.BankOrder) (hebao.BankOutcome, error)) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.answer = fn
}

func (b *scriptBank) Calls() []string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]string(nil), b.calls...)
}

// silent never answers: it waits for the time-out.
func silent(ctx context.Context, _ string, _ hebao.BankOrder) (hebao.BankOutcome, error) {
	<-ctx.Done()
	return hebao.BankOutcome{}, hebao.ErrBankNoAnswer
}

func succeeds(context.Context, string, hebao.BankOrder) (hebao.BankOutcome, error) {
	return hebao.BankOutcome{Status: hebao.BankSucceeded}, nil
}

type bankFixture struct {
	store   *inmem.Store
	clock   *clock
	bank    *scriptBank
	svc     *hebao.BankService
	wallets *hebao.WalletService
	status  *hebao.WalletStatusService
	reg     hebao.Registered
	card    hebao.Card
}

func newBankFixture(t *testing.T, balance int64) *bankFixture {
	t.Helper()
	f := newFixture()
	keys := keyring(t)
	b := &scriptBank{answer: succeeds, cancel: func(context.Context, string) (hebao.BankOutcome, error) {
		return hebao.BankOutcome{Status: hebao.BankCancelled}, nil
	}}
	bf := &bankFixture{store: f.store, clock: f.clock, bank: b, wallets: f.wallets,
		status: &hebao.WalletStatusService{Store: f.store, Now: f.clock.Now}}
	bf.svc = &hebao.BankService{Store: f.store, Bank: b, Keys: keys, Timeout: 50 * time.Millisecond, Now: f.clock.Now,
		Passwords: &hebao.PaymentPasswordService{Store: f.store, Keys: keys, Now: f.clock.Now}}
	t.Cleanup(bf.svc.Close)
	bf.reg = f.register(t, phone, "dev-a")
	number := luhn("622202000000001")
	sealed, err := keys.Seal([]byte(number), []byte(bf.reg.Customer.ID))
	if err != nil {
		t.Fatal(err)
	}
	bf.card = hebao.Card{ID: hebao.NewID("card"), CustomerID: bf.reg.Customer.ID, NumberSealed: sealed,
		NumberLookup: keys.Lookup(hebao.LookupCardNumber, number), BankCode: "ICBC", Masked: hebao.MaskCard(number)}
	ctx := t.Context()
	err = f.store.Transact(ctx, func(tx hebao.Tx) error {
		if err := tx.CreateCard(ctx, bf.card); err != nil {
			return err
		}
		hash := hebao.HashPaymentPassword(keys.DeriveKey(hebao.PaymentPasswordKeyPurpose), bf.reg.Wallet.ID, "258369")
		if err := tx.SavePaymentPassword(ctx, hebao.PaymentPassword{WalletID: bf.reg.Wallet.ID, Hash: hash}); err != nil {
			return err
		}
		src, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, MayGoNegative: true})
		if err != nil || balance == 0 {
			return err
		}
		return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("trf"), Kind: hebao.TransferFunding, Postings: hebao.Move(src.ID, bf.reg.Wallet.Account, hebao.CNY, balance)})
	})
	if err != nil {
		t.Fatal(err)
	}
	return bf
}

// luhn appends the check digit.
func luhn(digits string) string {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return digits + fmt.Sprint((10-sum%10)%10)
}

var nKey int // idempotency keys: tests of this file run one at a time

func reply(m hebao.Movement) (hebao.Reply, error) {
	return hebao.Reply{Status: 202, Body: []byte(m.ID)}, nil
}

func (f *bankFixture) topup(t *testing.T, amount int64) (string, error) {
	t.Helper()
	nKey++
	r, err := f.svc.Topup(t.Context(), hebao.TopupRequest{CustomerID: f.reg.Customer.ID, CardID: f.card.ID, Amount: amount,
		Key: hebao.NewIdempotencyKey("s", fmt.Sprint(nKey), nil), Reply: reply})
	return string(r.Body), err
}

func (f *bankFixture) withdraw(t *testing.T, amount int64) (string, error) {
	t.Helper()
	nKey++
	r, err := f.svc.Withdraw(t.Context(), hebao.WithdrawalRequest{CustomerID: f.reg.Customer.ID, CardID: f.card.ID, Amount: amount,
		PaymentPassword: "258369", Key: hebao.NewIdempotencyKey("s", fmt.Sprint(nKey), nil), Reply: reply})
	return string(r.Body), err
}

// wait returns the movement once it is no longer pending, or after a second.
func (f *bankFixture) wait(t *testing.T, id string) hebao.Movement {
	t.Helper()
	deadline := time.Now().Add(time.Second)
	for {
		var m hebao.Movement
		err := f.store.View(t.Context(), func(tx hebao.Tx) error {
			var err error
			m, err = tx.Movement(t.Context(), f.reg.Wallet.ID, id)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		if m.Status != hebao.MovementPending || time.Now().After(deadline) {
			return m
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func (f *bankFixture) view(t *testing.T) hebao.WalletView {
	t.Helper()
	v, err := f.wallets.Get(t.Context(), f.reg.Customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// TestBankNoAnswerIsCancelled: a bank that does not answer within the time-out is
// told to cancel the order, and the top-up fails with bank_timeout, crediting
// nothing and freeing the amount it held against the cap.
func TestBankNoAnswerIsCancelled(t *testing.T) {
	f := newBankFixture(t, 0)
	f.bank.answers(silent)
	id, err := f.topup(t, 900_000)
	if err != nil {
		t.Fatal(err)
	}
	m := f.wait(t, id)
	if m.Status != hebao.MovementFailed || m.FailureCode != hebao.CodeBankTimeout {
		t.Fatalf("top-up: %s %q, want failed bank_timeout", m.Status, m.FailureCode)
	}
	if got := f.bank.Calls(); len(got) != 2 || got[1] != "cancel "+id {
		t.Errorf("bank calls %v, want a debit then its cancel", got)
	}
	f.bank.answers(succeeds)
	// The cap (¥10,000 at tier 4) is free again: a top-up of the same amount passes.
	if _, err := f.topup(t, 900_000); err != nil {
		t.Fatalf("second top-up: %v", err)
	}
}

// TestBankCancelUnansweredStaysPending: when even the cancellation gets no answer,
// the operation stays pending — the wallet cannot be closed meanwhile — until
// Recover asks again and the bank answers.
func TestBankCancelUnansweredStaysPending(t *testing.T) {
	f := newBankFixture(t, 0)
	f.bank.answers(silent)
	f.bank.cancel = func(ctx context.Context, _ string) (hebao.BankOutcome, error) {
		<-ctx.Done()
		return hebao.BankOutcome{}, hebao.ErrBankNoAnswer
	}
	id, err := f.topup(t, 5_000)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(300 * time.Millisecond) // a debit and a cancel, each timing out after 50 ms
	var m hebao.Movement
	_ = f.store.View(t.Context(), func(tx hebao.Tx) error { m, _ = tx.Movement(t.Context(), f.reg.Wallet.ID, id); return nil })
	if m.Status != hebao.MovementPending {
		t.Fatalf("status %s, want pending", m.Status)
	}
	_, err = f.status.Close(t.Context(), f.reg.Customer.ID)
	wantCode(t, "closing with a top-up pending", err, hebao.CodeWalletNotEmpty)

	// Recover takes only what has been pending longer than the time-out.
	f.bank.answers(succeeds)
	if n, err := f.svc.Recover(t.Context()); err != nil || n != 0 {
		t.Fatalf("Recover at once: %d, %v; want 0", n, err)
	}
	f.clock.Add(time.Second)
	if n, err := f.svc.Recover(t.Context()); err != nil || n != 1 {
		t.Fatalf("Recover later: %d, %v; want 1", n, err)
	}
	if m := f.wait(t, id); m.Status != hebao.MovementSucceeded {
		t.Fatalf("after recovery: %s", m.Status)
	}
	if v := f.view(t); v.Balance != 5_000 {
		t.Errorf("balance %d, want 5000", v.Balance)
	}
}

// TestWithdrawalRefused: the amount leaves the wallet at once and counts against
// the limits; a refusal returns both.
func TestWithdrawalRefused(t *testing.T) {
	f := newBankFixture(t, 100_000)
	release := make(chan struct{})
	f.bank.answers(func(ctx context.Context, _ string, _ hebao.BankOrder) (hebao.BankOutcome, error) {
		<-release
		return hebao.BankOutcome{Status: hebao.BankRefused, Code: hebao.CodeCardDeclined}, nil
	})
	f.svc.Timeout = 5 * time.Second
	id, err := f.withdraw(t, 30_000)
	if err != nil {
		t.Fatal(err)
	}
	if v := f.view(t); v.Balance != 70_000 || v.UsedToday != 30_000 {
		t.Errorf("while pending: balance %d, used %d; want 70000, 30000", v.Balance, v.UsedToday)
	}
	close(release)
	m := f.wait(t, id)
	if m.Status != hebao.MovementFailed || m.FailureCode != hebao.CodeCardDeclined {
		t.Fatalf("withdrawal: %s %q", m.Status, m.FailureCode)
	}
	if v := f.view(t); v.Balance != 100_000 || v.UsedToday != 0 || v.UsedThisYear != 0 {
		t.Errorf("after refusal: balance %d, used %d/%d; want 100000, 0/0", v.Balance, v.UsedToday, v.UsedThisYear)
	}
	if rep, err := f.store.Verify(t.Context()); err != nil || !rep.OK {
		t.Errorf("verify: %+v, %v", rep, err)
	}
}

// TestWithdrawalStepUp: a withdrawal above ¥5,000 from a device first seen within
// 24 hours needs an SMS code, like a transfer; a day later it does not.
func TestWithdrawalStepUp(t *testing.T) {
	f := newBankFixture(t, 100_000)
	w := func(code string) error {
		nKey++
		_, err := f.svc.Withdraw(t.Context(), hebao.WithdrawalRequest{CustomerID: f.reg.Customer.ID, DeviceID: "dev-a",
			CardID: f.card.ID, Amount: hebao.StepUpAmount + 1, PaymentPassword: "258369", OTP: code,
			Key: hebao.NewIdempotencyKey("s", fmt.Sprint(nKey), nil), Reply: reply})
		return err
	}
	wantCode(t, "from a new device, no code", w(""), hebao.CodeStepUpRequired)
	wantCode(t, "a malformed code", w("12ab56"), hebao.CodeInvalidRequest)
	f.clock.Add(25 * time.Hour)
	// No code needed any more: the tier-4 single-payment limit answers instead.
	wantCode(t, "a day later", w(""), hebao.CodeLimitExceeded)
}

// TestBankUnreadableCard: a card number that can no longer be opened (its key is
// gone) is not left pending for ever: the order is voided at the bank and fails.
func TestBankUnreadableCard(t *testing.T) {
	f := newBankFixture(t, 0)
	f.svc.Keys = keyring(t) // another key: the stored card number cannot be opened
	id, err := f.topup(t, 1_000)
	if err != nil {
		t.Fatal(err)
	}
	m := f.wait(t, id)
	if m.Status != hebao.MovementFailed || m.FailureCode != hebao.CodeUnavailable {
		t.Fatalf("top-up: %s %q, want failed unavailable", m.Status, m.FailureCode)
	}
	if got := f.bank.Calls(); len(got) != 1 || got[0] != "cancel "+id {
		t.Errorf("bank calls %v, want only the cancel", got)
	}
	if v := f.view(t); v.Balance != 0 {
		t.Errorf("balance %d", v.Balance)
	}
}
