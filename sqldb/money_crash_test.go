package sqldb

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sandbox"
)

// moneyCrashChildEnv tells the test binary it runs as TestMoneyCrashAfterBank's
// child; it holds the child's orders (moneyCrashOrder) as JSON.
const moneyCrashChildEnv = "HEBAO_MONEY_CRASH_CHILD"

// moneyCrashOrder is what the child is to do: open the database and the sandbox bank
// journal, start one top-up or withdrawal, and die as soon as the bank has answered.
type moneyCrashOrder struct {
	URL        string
	DataDir    string
	BankDir    string
	Kind       hebao.MovementKind
	CustomerID string
	CardID     string
	Amount     int64
	Key        string
}

// moneyCrashKey is the idempotency key of the child's request; the restarted parent
// replays it.
func moneyCrashKey(o moneyCrashOrder) hebao.IdempotencyKey {
	return key(o.CustomerID, o.Key, map[string]any{"card": o.CardID, "amount": o.Amount})
}

// TestMoneyCrashAfterBank kills the process in the middle of a top-up and of a
// withdrawal: after the bank applied the order and before the answer was recorded.
// After the restart the movement is finished from the bank's remembered answer, and
// the money has moved exactly once, at the bank and in the ledger.
func TestMoneyCrashAfterBank(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		for _, kind := range []hebao.MovementKind{hebao.MovementTopup, hebao.MovementWithdrawal} {
			t.Run(string(kind), func(t *testing.T) { moneyCrashAfterBank(t, open, kind) })
		}
	})
}

func moneyCrashAfterBank(t *testing.T, open func(t *testing.T) *DB, kind hebao.MovementKind) {
	ctx := context.Background()
	const (
		start  int64 = 10_000
		amount int64 = 2_500
	)
	phone := "13900000001"
	if kind == hebao.MovementWithdrawal {
		phone = "13900000002"
	}

	// Before: a tier-2 wallet with a payment password and money, and a sandbox card.
	db := open(t)
	w := newWorld(t, db, nil)
	c := w.customer(phone, 2, start)
	card := w.card(c.Customer.ID, "1234")
	number, err := w.keys.Open(card.NumberSealed, []byte(c.Customer.ID))
	if err != nil {
		t.Fatal(err)
	}
	clearing0 := systemBalance(t, db, hebao.AccountBankClearing, card.BankCode)
	transit0 := systemBalance(t, db, hebao.AccountWithdrawalsInTransit, "")
	bankDir := t.TempDir()
	order := moneyCrashOrder{URL: db.cfg.URL, DataDir: db.cfg.DataDir, BankDir: bankDir, Kind: kind,
		CustomerID: c.Customer.ID, CardID: card.ID, Amount: amount, Key: "crash-" + string(kind)}
	// The child writes to the database: close it here, so nothing is cached across.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	id := runMoneyCrashChild(t, order)

	// After the crash: the bank applied the order, the database does not know.
	db = open(t)
	w.db = db
	m := w.waitMovement(c.Wallet.ID, id, 0)
	if m.Status != hebao.MovementPending || m.Kind != kind || m.Amount != amount {
		t.Fatalf("after the crash the movement is %+v, want a pending %s of %d", m, kind, amount)
	}
	cardWant := hebao.SandboxCardBalance - amount // a top-up debits the card
	walletHeld := start                           // nothing moves before the bank has answered
	transfersHeld := int64(0)
	if kind == hebao.MovementWithdrawal {
		cardWant = hebao.SandboxCardBalance + amount // a withdrawal credits it
		walletHeld = start - amount                  // the hold, at once
		transfersHeld = 1
	}
	journal := filepath.Join(bankDir, "sandbox-bank.jsonl")
	if got := sandboxCardBalance(t, bankDir, string(number)); got != cardWant {
		t.Fatalf("after the crash the sandbox card holds %d, want %d: the bank did not apply the order once", got, cardWant)
	}
	if n := journalLines(t, journal, id); n != 1 {
		t.Fatalf("after the crash the sandbox journal has %d lines for %s, want 1", n, id)
	}
	if got := w.balance(c.Wallet.Account); got != walletHeld {
		t.Fatalf("after the crash the wallet holds %d, want %d", got, walletHeld)
	}
	if n := rawInt(t, db, `SELECT COUNT(*) FROM transfers WHERE ref = ?`, id); n != transfersHeld {
		t.Fatalf("after the crash %d transfers have ref %s, want %d", n, id, transfersHeld)
	}
	mustVerify(t, db)

	// The restart: the same database, the bank from its journal, a short time-out so
	// that Recover takes the movement up without a long wait.
	bank, err := sandbox.Open(bankDir)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bank.Close() })
	passwords := &hebao.PaymentPasswordService{Store: db, Keys: w.keys}
	svc := &hebao.BankService{Store: db, Bank: bank, Keys: w.keys, Passwords: passwords, Timeout: 300 * time.Millisecond}
	t.Cleanup(svc.Close)

	// The client retries its request: it gets the same movement, and nothing new starts.
	var reply hebao.Reply
	if kind == hebao.MovementTopup {
		reply, err = svc.Topup(ctx, hebao.TopupRequest{CustomerID: order.CustomerID, CardID: order.CardID,
			Amount: amount, Key: moneyCrashKey(order), Reply: movementReply})
	} else {
		reply, err = svc.Withdraw(ctx, hebao.WithdrawalRequest{CustomerID: order.CustomerID, CardID: order.CardID,
			Amount: amount, PaymentPassword: payPassword, Key: moneyCrashKey(order), Reply: movementReply})
	}
	if err != nil {
		t.Fatalf("retry after the restart: %v", err)
	}
	if got := movementID(t, reply); got != id {
		t.Fatalf("retry after the restart answered movement %s, want %s", got, id)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		n, err := svc.Recover(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			break
		}
		if n != 0 || time.Now().After(deadline) {
			t.Fatalf("Recover started %d movements, want 1", n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if m = w.waitMovement(c.Wallet.ID, id, 5*time.Second); m.Status != hebao.MovementSucceeded || m.FailureCode != "" {
		t.Fatalf("after recovery the movement is %+v, want succeeded", m)
	}

	// The money has moved once, and nothing moves any more.
	check := func(when string) {
		t.Helper()
		walletWant, clearingWant, transitWant, transfersWant := start+amount, clearing0-amount, transit0, int64(1)
		if kind == hebao.MovementWithdrawal {
			walletWant, clearingWant, transfersWant = start-amount, clearing0+amount, 2
		}
		if got := w.balance(c.Wallet.Account); got != walletWant {
			t.Errorf("%s: the wallet holds %d, want %d", when, got, walletWant)
		}
		if got := systemBalance(t, db, hebao.AccountBankClearing, card.BankCode); got != clearingWant {
			t.Errorf("%s: bank clearing holds %d, want %d", when, got, clearingWant)
		}
		if got := systemBalance(t, db, hebao.AccountWithdrawalsInTransit, ""); got != transitWant {
			t.Errorf("%s: withdrawals in transit hold %d, want %d", when, got, transitWant)
		}
		if n := rawInt(t, db, `SELECT COUNT(*) FROM transfers WHERE ref = ?`, id); n != transfersWant {
			t.Errorf("%s: %d transfers have ref %s, want %d", when, n, id, transfersWant)
		}
		if got := bank.Balance(string(number)); got != cardWant {
			t.Errorf("%s: the sandbox card holds %d, want %d", when, got, cardWant)
		}
		if n := journalLines(t, journal, id); n != 1 {
			t.Errorf("%s: the sandbox journal has %d lines for %s, want 1", when, n, id)
		}
		if m := w.waitMovement(c.Wallet.ID, id, 0); m.Status != hebao.MovementSucceeded {
			t.Errorf("%s: the movement is %s", when, m.Status)
		}
		mustVerify(t, db)
	}
	check("after recovery")
	time.Sleep(400 * time.Millisecond) // past the time-out again
	if n, err := svc.Recover(ctx); err != nil || n != 0 {
		t.Fatalf("Recover again: %d, %v; want 0", n, err)
	}
	time.Sleep(200 * time.Millisecond)
	svc.Close()
	check("after a second recovery")
	if err := bank.Close(); err != nil {
		t.Fatal(err)
	}
	if got := sandboxCardBalance(t, bankDir, string(number)); got != cardWant {
		t.Errorf("the sandbox journal replays to %d on the card, want %d", got, cardWant)
	}
}

// systemBalance returns the balance of the operator's account of kind and owner, 0 if
// it does not exist yet.
func systemBalance(t testing.TB, db *DB, kind hebao.AccountKind, owner string) int64 {
	t.Helper()
	ctx := context.Background()
	var b int64
	err := db.View(ctx, func(tx hebao.Tx) error {
		a, err := tx.AccountByOwner(ctx, kind, owner)
		if hebao.ErrorCode(err) == hebao.CodeNotFound {
			return nil
		}
		if err != nil {
			return err
		}
		as, err := tx.Accounts(ctx, a.ID)
		b = as[a.ID].Balance
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// sandboxCardBalance opens the sandbox bank journal in dir and returns the card's
// balance there.
func sandboxCardBalance(t testing.TB, dir, number string) int64 {
	t.Helper()
	b, err := sandbox.Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	return b.Balance(number)
}

// journalLines counts the lines of the sandbox journal that mention ref.
func journalLines(t testing.TB, path, ref string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, l := range strings.Split(string(data), "\n") {
		if strings.Contains(l, `"`+ref+`"`) {
			n++
		}
	}
	return n
}

// runMoneyCrashChild runs TestMoneyCrashChild with order, waits for it to kill itself
// after the bank call, and returns the id of the movement it started.
func runMoneyCrashChild(t *testing.T, order moneyCrashOrder) string {
	t.Helper()
	env, err := json.Marshal(order)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, os.Args[0], "-test.run=^TestMoneyCrashChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), moneyCrashChildEnv+"="+string(env))
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err = cmd.Run()
	if ctx.Err() != nil {
		t.Fatalf("the child did not die within 60s; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	}
	var exit *exec.ExitError
	ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus)
	if !errors.As(err, &exit) || !ok || !ws.Signaled() || ws.Signal() != syscall.SIGKILL {
		t.Fatalf("the child ended with %v, not killed by SIGKILL; stdout:\n%s\nstderr:\n%s", err, stdout.String(), stderr.String())
	}
	if strings.Contains(stderr.String(), "DATA RACE") {
		t.Errorf("the child found a data race:\n%s", stderr.String())
	}
	for _, l := range strings.Split(stdout.String(), "\n") {
		f := strings.Fields(l)
		if len(f) == 3 && f[0] == "bank" {
			if f[2] != string(hebao.BankSucceeded) {
				t.Fatalf("the bank answered the child %s, want %s", f[2], hebao.BankSucceeded)
			}
			return f[1]
		}
	}
	t.Fatalf("the child died without reporting the bank's answer; stdout:\n%s\nstderr:\n%s", stdout.String(), stderr.String())
	return ""
}

// TestMoneyCrashChild is the process TestMoneyCrashAfterBank crashes: it starts a
// top-up or a withdrawal, prints the bank's answer and kills itself with SIGKILL
// before the answer is recorded.
func TestMoneyCrashChild(t *testing.T) {
	env := os.Getenv(moneyCrashChildEnv)
	if env == "" {
		t.Skip("run by TestMoneyCrashAfterBank")
	}
	var o moneyCrashOrder
	if err := json.Unmarshal([]byte(env), &o); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	db := openTest(t, Config{URL: o.URL, DataDir: o.DataDir})
	bank, err := sandbox.Open(o.BankDir)
	if err != nil {
		t.Fatal(err)
	}
	keys := testKeyring(t)
	passwords := &hebao.PaymentPasswordService{Store: db, Keys: keys}
	svc := &hebao.BankService{Store: db, Bank: bank, Keys: keys, Passwords: passwords, Timeout: 5 * time.Second,
		AfterBank: func(m hebao.Movement, out hebao.BankOutcome) {
			fmt.Fprintf(os.Stdout, "bank %s %s\n", m.ID, out.Status) // unbuffered: written before the kill
			syscall.Kill(os.Getpid(), syscall.SIGKILL)
			select {} // never record the answer, whenever the signal lands
		}}
	var reply hebao.Reply
	if o.Kind == hebao.MovementTopup {
		reply, err = svc.Topup(ctx, hebao.TopupRequest{CustomerID: o.CustomerID, CardID: o.CardID,
			Amount: o.Amount, Key: moneyCrashKey(o), Reply: movementReply})
	} else {
		reply, err = svc.Withdraw(ctx, hebao.WithdrawalRequest{CustomerID: o.CustomerID, CardID: o.CardID,
			Amount: o.Amount, PaymentPassword: payPassword, Key: moneyCrashKey(o), Reply: movementReply})
	}
	if err != nil {
		t.Fatalf("%s: %v", o.Kind, err)
	}
	fmt.Fprintf(os.Stdout, "started %s\n", movementID(t, reply))
	time.Sleep(30 * time.Second)
	t.Fatal("the bank never answered: still alive after 30s")
}
