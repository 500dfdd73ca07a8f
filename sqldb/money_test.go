package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sandbox"
)

// world is a database with the money services on it, a sandbox bank and a funding
// account: what the tests of customer money share.
type world struct {
	t         testing.TB
	db        *DB
	keys      *hebao.Keyring
	bank      *sandbox.Bank
	passwords *hebao.PaymentPasswordService
	transfers *hebao.TransferService
	banks     *hebao.BankService
	funding   hebao.AccountID

	batches, closures *atomic.Int64 // counted by the benchmark's OnCommit
}

// payPassword is every test wallet's payment password.
const payPassword = "258369"

func testKeyring(t testing.TB) *hebao.Keyring {
	t.Helper()
	k, err := hebao.NewKeyring("k1", map[string][]byte{"k1": []byte("card-key-0123456789abcdef0123456")},
		[]byte("lookup-key-0123456789abcdef01234567"))
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func newWorld(t testing.TB, db *DB, bank *sandbox.Bank) *world {
	t.Helper()
	if bank == nil {
		var err error
		if bank, err = sandbox.Open(""); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { bank.Close() })
	}
	w := &world{t: t, db: db, keys: testKeyring(t), bank: bank}
	w.passwords = &hebao.PaymentPasswordService{Store: db, Keys: w.keys}
	w.transfers = &hebao.TransferService{Store: db, Passwords: w.passwords, OTP: anyCode{}}
	w.banks = &hebao.BankService{Store: db, Bank: bank, Keys: w.keys, Passwords: w.passwords, Timeout: time.Second}
	t.Cleanup(w.banks.Close)
	ctx := context.Background()
	err := db.Transact(ctx, func(tx hebao.Tx) error {
		a, err := hebao.NewAccount(hebao.AccountTest, "funding", hebao.CNY, true)
		if err != nil {
			return err
		}
		a, err = tx.CreateAccount(ctx, a)
		w.funding = a.ID
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return w
}

// customer opens a wallet for phone at tier, with the payment password set and
// balance fen in it.
func (w *world) customer(phone string, tier int, balance int64) hebao.Registered {
	w.t.Helper()
	ctx := context.Background()
	r, err := (&hebao.CustomerService{Store: w.db, OTP: anyCode{}, Argon2: cheapArgon2}).Register(ctx,
		hebao.Registration{Phone: phone, OTP: "123456", Password: "correct horse", DeviceID: "dev-" + phone})
	if err != nil {
		w.t.Fatalf("register %s: %v", phone, err)
	}
	if _, err := rawExec(w.t, w.db, `UPDATE wallets SET tier = $1 WHERE id = $2`, tier, r.Wallet.ID); err != nil {
		w.t.Fatal(err)
	}
	r.Wallet.Tier = tier
	hash := hebao.HashPaymentPassword(w.keys.DeriveKey(hebao.PaymentPasswordKeyPurpose), r.Wallet.ID, payPassword)
	err = w.db.Transact(ctx, func(tx hebao.Tx) error {
		if err := tx.SavePaymentPassword(ctx, hebao.PaymentPassword{WalletID: r.Wallet.ID, Hash: hash, UpdatedAt: tx.Now()}); err != nil {
			return err
		}
		if balance == 0 {
			return nil
		}
		return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("trf"), Kind: hebao.TransferFunding, Ref: "test",
			Postings: hebao.Move(w.funding, r.Wallet.Account, hebao.CNY, balance)})
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return r
}

// card binds a sandbox card ending in last4 to the customer.
func (w *world) card(customerID, last4 string) hebao.Card {
	w.t.Helper()
	number := luhnComplete("622202" + "1234567" + last4[:3])
	if number[len(number)-4:] != last4 {
		// Choose the check digit by varying a middle digit until the ending is last4.
		for d := 0; d < 10; d++ {
			n := luhnComplete(fmt.Sprintf("622202123456%d%s", d, last4[:3]))
			if n[len(n)-1] == last4[3] {
				number = n
				break
			}
		}
	}
	if number[len(number)-4:] != last4 {
		w.t.Fatalf("no card number ends in %s", last4)
	}
	_, bank, err := hebao.ParseCardNumber(number)
	if err != nil {
		w.t.Fatal(err)
	}
	sealed, err := w.keys.Seal([]byte(number), []byte(customerID))
	if err != nil {
		w.t.Fatal(err)
	}
	c := hebao.Card{ID: hebao.NewID("card"), CustomerID: customerID, NumberSealed: sealed,
		NumberLookup: w.keys.Lookup(hebao.LookupCardNumber, number), BankCode: bank.Code, BankName: bank.NameZH,
		Masked: hebao.MaskCard(number), Last4: last4}
	ctx := context.Background()
	if err := w.db.Transact(ctx, func(tx hebao.Tx) error { c.CreatedAt = tx.Now(); return tx.CreateCard(ctx, c) }); err != nil {
		w.t.Fatal(err)
	}
	return c
}

// cardNumber opens the full number of a card made by card: what the sandbox bank
// keeps its balance under.
func (w *world) cardNumber(c hebao.Card) string {
	w.t.Helper()
	b, err := w.keys.Open(c.NumberSealed, []byte(c.CustomerID))
	if err != nil {
		w.t.Fatal(err)
	}
	return string(b)
}

// transferRequest is a transfer of amount from r's wallet to toPhone's, from r's
// registration device with the right payment password, under key k of scope r.
func transferRequest(r hebao.Registered, toPhone string, amount int64, k string) hebao.TransferRequest {
	return hebao.TransferRequest{CustomerID: r.Customer.ID, DeviceID: "dev-" + r.Customer.Phone, ToPhone: toPhone,
		Amount: amount, PaymentPassword: payPassword, Key: key(r.Customer.ID, k, []any{toPhone, amount}),
		Reply: movementReply}
}

// fund pays amount from the funding account into acct.
func (w *world) fund(acct hebao.AccountID, amount int64) {
	w.t.Helper()
	ctx := context.Background()
	err := w.db.Transact(ctx, func(tx hebao.Tx) error {
		return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("trf"), Kind: hebao.TransferFunding, Ref: "test",
			Postings: hebao.Move(w.funding, acct, hebao.CNY, amount)})
	})
	if err != nil {
		w.t.Fatal(err)
	}
}

// codeCounts counts errors by public code, "" for success.
func codeCounts(errs []error) map[string]int {
	n := map[string]int{}
	for _, err := range errs {
		n[hebao.ErrorCode(err)]++
	}
	return n
}

// usage reads a wallet's limit counters.
func (w *world) usage(walletID string) hebao.Usage {
	w.t.Helper()
	var u hebao.Usage
	err := w.db.View(context.Background(), func(tx hebao.Tx) error {
		var err error
		u, err = tx.Usage(context.Background(), walletID)
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return u
}

// movementCount counts a wallet's movements of kind.
func (w *world) movementCount(walletID string, kind hebao.MovementKind) int64 {
	w.t.Helper()
	return rawInt(w.t, w.db, `SELECT COUNT(*) FROM movements WHERE wallet_id = ? AND kind = ?`, walletID, string(kind))
}

// luhnComplete appends the Luhn check digit to digits.
func luhnComplete(digits string) string {
	sum := 0
	for i := 0; i < len(digits); i++ {
		d := int(digits[len(digits)-1-i] - '0')
		if i%2 == 0 {
			d *= 2
			if d > 9 {
				d -= 9
			}
		}
		sum += d
	}
	return digits + string(rune('0'+(10-sum%10)%10))
}

func (w *world) balance(id hebao.AccountID) int64 {
	w.t.Helper()
	var b int64
	err := w.db.View(context.Background(), func(tx hebao.Tx) error {
		a, err := tx.Accounts(context.Background(), id)
		b = a[id].Balance
		return err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return b
}

// movementReply renders a movement as the tests' stored reply.
func movementReply(m hebao.Movement) (hebao.Reply, error) {
	b, err := json.Marshal(map[string]any{"id": m.ID, "status": m.Status, "amount": m.Amount, "kind": m.Kind})
	return hebao.Reply{Status: 201, Body: b}, err
}

func movementID(t testing.TB, r hebao.Reply) string {
	t.Helper()
	var v struct{ ID string }
	if err := json.Unmarshal(r.Body, &v); err != nil {
		t.Fatal(err)
	}
	return v.ID
}

// waitMovement waits until the movement is no longer pending and returns it.
func (w *world) waitMovement(walletID, id string, within time.Duration) hebao.Movement {
	w.t.Helper()
	deadline := time.Now().Add(within)
	for {
		var m hebao.Movement
		err := w.db.View(context.Background(), func(tx hebao.Tx) error {
			var err error
			m, err = tx.Movement(context.Background(), walletID, id)
			return err
		})
		if err != nil {
			w.t.Fatal(err)
		}
		if m.Status != hebao.MovementPending || time.Now().After(deadline) {
			return m
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func key(scope, k string, body any) hebao.IdempotencyKey {
	b, _ := json.Marshal(body)
	return hebao.NewIdempotencyKey(scope, k, b)
}

// TestMoneySmoke moves money every way once: a transfer, a top-up and a withdrawal.
func TestMoneySmoke(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		ctx := context.Background()
		a := w.customer("13800000001", 3, 10_000)
		b := w.customer("13800000002", 3, 0)
		r, err := w.transfers.Send(ctx, hebao.TransferRequest{CustomerID: a.Customer.ID, DeviceID: "dev-13800000001",
			ToPhone: "13800000002", Amount: 2_500, Memo: "lunch", PaymentPassword: payPassword,
			Key: key("a", "k1", 1), Reply: movementReply})
		if err != nil {
			t.Fatal(err)
		}
		if got := w.balance(b.Wallet.Account); got != 2_500 {
			t.Fatalf("payee balance %d", got)
		}
		_ = r
		card := w.card(a.Customer.ID, "1234")
		r, err = w.banks.Topup(ctx, hebao.TopupRequest{CustomerID: a.Customer.ID, CardID: card.ID, Amount: 1_000, Key: key("a", "t1", 1), Reply: movementReply})
		if err != nil {
			t.Fatal(err)
		}
		if m := w.waitMovement(a.Wallet.ID, movementID(t, r), 3*time.Second); m.Status != hebao.MovementSucceeded {
			t.Fatalf("top-up %+v", m)
		}
		r, err = w.banks.Withdraw(ctx, hebao.WithdrawalRequest{CustomerID: a.Customer.ID, CardID: card.ID, Amount: 500, PaymentPassword: payPassword, Key: key("a", "w1", 1), Reply: movementReply})
		if err != nil {
			t.Fatal(err)
		}
		if m := w.waitMovement(a.Wallet.ID, movementID(t, r), 3*time.Second); m.Status != hebao.MovementSucceeded {
			t.Fatalf("withdrawal %+v", m)
		}
		if got := w.balance(a.Wallet.Account); got != 10_000-2_500+1_000-500 {
			t.Fatalf("payer balance %d", got)
		}
		mustVerify(t, w.db)
	})
}
