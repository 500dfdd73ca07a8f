package sandbox_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/sandbox"
)

// card returns a Luhn-valid ICBC sandbox card number ending in ending; serial makes
// distinct cards with the same ending.
func card(t testing.TB, serial int, ending string) string {
	t.Helper()
	for d := range 10 {
		n := fmt.Sprintf("622202%05d%d%s", serial, d, ending)
		if _, _, err := hebao.ParseCardNumber(n); err == nil {
			return n
		}
	}
	t.Fatalf("no valid card ending in %s", ending)
	return ""
}

// open opens a sandbox bank in dir ("" for memory only), closed at the end of the test.
func open(t testing.TB, dir string) *sandbox.Bank {
	t.Helper()
	b, err := sandbox.Open(dir)
	if err != nil {
		t.Fatalf("Open(%q): %v", dir, err)
	}
	t.Cleanup(func() { b.Close() })
	return b
}

func order(ref, number string, amount int64) hebao.BankOrder {
	return hebao.BankOrder{Ref: ref, CardNumber: number, BankCode: "ICBC", Amount: amount}
}

var (
	succeeded    = hebao.BankOutcome{Status: hebao.BankSucceeded}
	cancelled    = hebao.BankOutcome{Status: hebao.BankCancelled}
	declined     = hebao.BankOutcome{Status: hebao.BankRefused, Code: hebao.CodeCardDeclined}
	insufficient = hebao.BankOutcome{Status: hebao.BankRefused, Code: hebao.CodeBankInsufficientFunds}
)

type call func(*sandbox.Bank, context.Context, hebao.BankOrder) (hebao.BankOutcome, error)

var (
	debit  call = (*sandbox.Bank).Debit
	credit call = (*sandbox.Bank).Credit
)

func TestEndings(t *testing.T) {
	const amount = 12_345
	tests := []struct {
		name      string
		call      call
		ending    string
		timeout   time.Duration
		want      hebao.BankOutcome
		wantErr   error
		wantDelta int64 // change of the card's balance
	}{
		{"debit succeeds", debit, "1234", time.Second, succeeded, nil, -amount},
		{"credit succeeds", credit, "1234", time.Second, succeeded, nil, amount},
		{"debit 0002 declines", debit, "0002", time.Second, declined, nil, 0},
		{"credit 0002 declines", credit, "0002", time.Second, declined, nil, 0},
		{"debit 0051 insufficient", debit, "0051", time.Second, insufficient, nil, 0},
		{"credit 0051 succeeds", credit, "0051", time.Second, succeeded, nil, amount},
		{"debit 0119 never answers", debit, "0119", 30 * time.Millisecond, hebao.BankOutcome{}, hebao.ErrBankNoAnswer, 0},
		{"credit 0119 never answers", credit, "0119", 30 * time.Millisecond, hebao.BankOutcome{}, hebao.ErrBankNoAnswer, 0},
		{"debit 0259 late", debit, "0259", time.Second, succeeded, nil, -amount},
		{"credit 0259 late", credit, "0259", time.Second, succeeded, nil, amount},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := open(t, "")
			b.LateAnswer = 10 * time.Millisecond
			n := card(t, 1, tt.ending)
			ctx, cancel := context.WithTimeout(context.Background(), tt.timeout)
			defer cancel()
			got, err := tt.call(b, ctx, order("op-1", n, amount))
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("got (%+v, %v), want (%+v, %v)", got, err, tt.want, tt.wantErr)
			}
			if got, want := b.Balance(n), hebao.SandboxCardBalance+tt.wantDelta; got != want {
				t.Errorf("Balance = %d, want %d", got, want)
			}
		})
	}
}

func TestDebitAboveBalance(t *testing.T) {
	b := open(t, "")
	ctx := context.Background()
	n := card(t, 1, "1234")
	steps := []struct {
		ref         string
		amount      int64
		want        hebao.BankOutcome
		wantBalance int64
	}{
		{"too-much", hebao.SandboxCardBalance + 1, insufficient, hebao.SandboxCardBalance},
		{"all", hebao.SandboxCardBalance, succeeded, 0},
		{"one-more", 1, insufficient, 0},
	}
	for _, s := range steps {
		got, err := b.Debit(ctx, order(s.ref, n, s.amount))
		if err != nil || got != s.want {
			t.Fatalf("Debit(%s) = (%+v, %v), want %+v", s.ref, got, err, s.want)
		}
		if got := b.Balance(n); got != s.wantBalance {
			t.Fatalf("after %s: Balance = %d, want %d", s.ref, got, s.wantBalance)
		}
	}
	// A refusal is the reference's outcome for good, even once the card could pay.
	if _, err := b.Credit(ctx, order("refill", n, 5)); err != nil {
		t.Fatal(err)
	}
	if got, _ := b.Debit(ctx, order("one-more", n, 1)); got != insufficient {
		t.Errorf("replayed refusal = %+v, want %+v", got, insufficient)
	}
}

func TestReplayByRef(t *testing.T) {
	ctx := context.Background()
	n := card(t, 1, "1234")
	other := card(t, 2, "1234")
	b := open(t, "")

	if got, err := b.Debit(ctx, order("r1", n, 100)); err != nil || got != succeeded {
		t.Fatalf("first Debit = (%+v, %v)", got, err)
	}
	replays := []struct {
		name string
		do   func() (hebao.BankOutcome, error)
	}{
		{"same order", func() (hebao.BankOutcome, error) { return b.Debit(ctx, order("r1", n, 100)) }},
		{"other amount", func() (hebao.BankOutcome, error) { return b.Debit(ctx, order("r1", n, 999)) }},
		{"other card", func() (hebao.BankOutcome, error) { return b.Debit(ctx, order("r1", other, 100)) }},
		{"as credit", func() (hebao.BankOutcome, error) { return b.Credit(ctx, order("r1", n, 100)) }},
		{"declining card", func() (hebao.BankOutcome, error) { return b.Debit(ctx, order("r1", card(t, 1, "0002"), 100)) }},
		{"cancel", func() (hebao.BankOutcome, error) { return b.Cancel(ctx, "r1") }},
	}
	for _, r := range replays {
		got, err := r.do()
		if err != nil || got != succeeded {
			t.Errorf("%s: got (%+v, %v), want %+v", r.name, got, err, succeeded)
		}
	}
	if got, want := b.Balance(n), hebao.SandboxCardBalance-100; got != want {
		t.Errorf("Balance = %d, want %d (one debit only)", got, want)
	}
	if got := b.Balance(other); got != hebao.SandboxCardBalance {
		t.Errorf("other card's Balance = %d, want untouched", got)
	}

	// A refused reference stays refused, even for a card that would pay.
	if got, _ := b.Debit(ctx, order("r2", card(t, 1, "0002"), 100)); got != declined {
		t.Fatalf("Debit on 0002 = %+v", got)
	}
	if got, _ := b.Credit(ctx, order("r2", n, 100)); got != declined {
		t.Errorf("replay of refused ref = %+v, want %+v", got, declined)
	}
	if got, want := b.Balance(n), hebao.SandboxCardBalance-100; got != want {
		t.Errorf("Balance = %d, want %d", got, want)
	}
}

func TestCancel(t *testing.T) {
	ctx := context.Background()
	n := card(t, 1, "1234")
	tests := []struct {
		name   string
		before func(*sandbox.Bank) // what happens to ref "x" before Cancel
		want   hebao.BankOutcome
		delta  int64
	}{
		{"never seen", func(*sandbox.Bank) {}, cancelled, 0},
		{"after debit", func(b *sandbox.Bank) { b.Debit(ctx, order("x", n, 50)) }, succeeded, -50},
		{"after credit", func(b *sandbox.Bank) { b.Credit(ctx, order("x", n, 50)) }, succeeded, 50},
		{"after refusal", func(b *sandbox.Bank) { b.Debit(ctx, order("x", card(t, 1, "0051"), 50)) }, insufficient, 0},
		{"after a time-out", func(b *sandbox.Bank) {
			ctx, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
			defer cancel()
			b.Debit(ctx, order("x", card(t, 1, "0119"), 50))
		}, cancelled, 0},
		{"twice", func(b *sandbox.Bank) { b.Cancel(ctx, "x") }, cancelled, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := open(t, "")
			tt.before(b)
			got, err := b.Cancel(ctx, "x")
			if err != nil || got != tt.want {
				t.Fatalf("Cancel = (%+v, %v), want %+v", got, err, tt.want)
			}
			// Whatever comes later with the same reference gets the same answer.
			for _, c := range []call{debit, credit} {
				if got, err := c(b, ctx, order("x", n, 70)); err != nil || got != tt.want {
					t.Errorf("later order = (%+v, %v), want %+v", got, err, tt.want)
				}
			}
			if got, want := b.Balance(n), hebao.SandboxCardBalance+tt.delta; got != want {
				t.Errorf("Balance = %d, want %d", got, want)
			}
		})
	}
}

// TestCancelWhileWaiting cancels a reference while a Debit or Credit with it waits
// for an answer: the waiting call answers cancelled at once and nothing moves.
func TestCancelWhileWaiting(t *testing.T) {
	for _, ending := range []string{"0119", "0259"} {
		for name, c := range map[string]call{"debit": debit, "credit": credit} {
			t.Run(ending+" "+name, func(t *testing.T) {
				b := open(t, "")
				b.LateAnswer = time.Minute
				n := card(t, 1, ending)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
				defer cancel()

				type result struct {
					out hebao.BankOutcome
					err error
				}
				done := make(chan result, 1)
				go func() {
					out, err := c(b, ctx, order("w", n, 500))
					done <- result{out, err}
				}()
				time.Sleep(20 * time.Millisecond) // let the call start waiting
				if got, err := b.Cancel(ctx, "w"); err != nil || got != cancelled {
					t.Fatalf("Cancel = (%+v, %v)", got, err)
				}
				select {
				case r := <-done:
					if r.err != nil || r.out != cancelled {
						t.Errorf("waiting call = (%+v, %v), want %+v", r.out, r.err, cancelled)
					}
				case <-time.After(5 * time.Second):
					t.Fatal("the waiting call did not answer after Cancel")
				}
				if got := b.Balance(n); got != hebao.SandboxCardBalance {
					t.Errorf("Balance = %d, want untouched", got)
				}
			})
		}
	}
}

func TestLateAnswer(t *testing.T) {
	const late = 50 * time.Millisecond
	n := card(t, 1, "0259")

	t.Run("answers after the delay", func(t *testing.T) {
		b := open(t, "")
		b.LateAnswer = late
		start := time.Now()
		got, err := b.Debit(context.Background(), order("l1", n, 10))
		if err != nil || got != succeeded {
			t.Fatalf("Debit = (%+v, %v)", got, err)
		}
		if d := time.Since(start); d < late {
			t.Errorf("answered after %v, want at least %v", d, late)
		}
		// A decided reference answers at once.
		start = time.Now()
		if got, _ := b.Debit(context.Background(), order("l1", n, 10)); got != succeeded {
			t.Errorf("replay = %+v", got)
		}
		if d := time.Since(start); d >= late {
			t.Errorf("replay took %v, want at once", d)
		}
	})

	t.Run("ctx shorter than the delay", func(t *testing.T) {
		b := open(t, "")
		b.LateAnswer = 200 * time.Millisecond
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Millisecond)
		defer cancel()
		start := time.Now()
		_, err := b.Debit(ctx, order("l2", n, 10))
		if !errors.Is(err, hebao.ErrBankNoAnswer) {
			t.Fatalf("err = %v, want ErrBankNoAnswer", err)
		}
		if d := time.Since(start); d >= b.LateAnswer {
			t.Errorf("gave up after %v, want when ctx ended", d)
		}
		time.Sleep(b.LateAnswer) // a late answer must not land after the time-out
		if got := b.Balance(n); got != hebao.SandboxCardBalance {
			t.Fatalf("Balance = %d after a time-out, want untouched", got)
		}
		// Asking again applies the order once.
		b.LateAnswer = late
		if got, err := b.Debit(context.Background(), order("l2", n, 10)); err != nil || got != succeeded {
			t.Fatalf("retry = (%+v, %v)", got, err)
		}
		if got, want := b.Balance(n), hebao.SandboxCardBalance-10; got != want {
			t.Errorf("Balance = %d, want %d", got, want)
		}
	})

	t.Run("ctx already ended", func(t *testing.T) {
		b := open(t, "")
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		if _, err := b.Debit(ctx, order("l3", card(t, 1, "1234"), 10)); !errors.Is(err, hebao.ErrBankNoAnswer) {
			t.Fatalf("err = %v, want ErrBankNoAnswer", err)
		}
		if got, _ := b.Cancel(context.Background(), "l3"); got != cancelled {
			t.Errorf("Cancel = %+v, want the order never applied", got)
		}
	})
}

func TestInvalidOrders(t *testing.T) {
	good := card(t, 1, "1234")
	luhnBad := good[:len(good)-5] + string('0'+(good[len(good)-5]-'0'+1)%10) + good[len(good)-4:]
	tests := []struct {
		name string
		o    hebao.BankOrder
	}{
		{"empty ref", order("", good, 10)},
		{"zero amount", order("a", good, 0)},
		{"negative amount", order("a", good, -10)},
		{"luhn fails", order("a", luhnBad, 10)},
		{"unknown BIN", order("a", "4111111111111111", 10)},
		{"too short", order("a", "6222021234", 10)},
		{"not digits", order("a", "6222-0212-3456-7890", 10)},
		{"empty card", order("a", "", 10)},
	}
	for _, tt := range tests {
		for name, c := range map[string]call{"debit": debit, "credit": credit} {
			t.Run(tt.name+" "+name, func(t *testing.T) {
				b := open(t, "")
				_, err := c(b, context.Background(), tt.o)
				if err == nil || errors.Is(err, hebao.ErrBankNoAnswer) {
					t.Fatalf("err = %v, want a validation error", err)
				}
				if tt.o.CardNumber != "" && strings.Contains(err.Error(), tt.o.CardNumber) {
					t.Errorf("error %q repeats the card number", err)
				}
				// Nothing was recorded: the reference is still free.
				if tt.o.Ref != "" {
					if got, _ := b.Cancel(context.Background(), tt.o.Ref); got != cancelled {
						t.Errorf("Cancel after an invalid order = %+v", got)
					}
				}
			})
		}
	}
	b := open(t, "")
	if _, err := b.Cancel(context.Background(), ""); err == nil {
		t.Error("Cancel(\"\") = nil error")
	}
	if luhnBad == good {
		t.Fatal("luhnBad is the good card")
	}
}

func TestBalanceAndLabel(t *testing.T) {
	b := open(t, "")
	n := card(t, 1, "1234")
	if got := b.Balance(n); got != hebao.SandboxCardBalance {
		t.Errorf("Balance of an unseen card = %d, want %d", got, hebao.SandboxCardBalance)
	}
	spaced := n[:4] + " " + n[4:8] + " " + n[8:12] + " " + n[12:]
	b.Credit(context.Background(), order("c", spaced, 7))
	if got, want := b.Balance(n), hebao.SandboxCardBalance+7; got != want {
		t.Errorf("Balance = %d, want %d (spaces ignored)", got, want)
	}
	if got := b.Balance("1234"); got != 0 {
		t.Errorf("Balance of an invalid number = %d, want 0", got)
	}
	if l := b.Label(); !strings.Contains(strings.ToLower(l), "sandbox") {
		t.Errorf("Label() = %q, want it to say sandbox", l)
	}
}

// applySome runs a mix of orders on a fresh bank and returns the outcome of each
// reference, for TestPersistence to compare after a restart.
func applySome(t *testing.T, b *sandbox.Bank, ok, ok2 string) map[string]hebao.BankOutcome {
	t.Helper()
	ctx := context.Background()
	short, cancel := context.WithTimeout(ctx, 10*time.Millisecond)
	defer cancel()
	b.LateAnswer = 5 * time.Millisecond
	steps := []struct {
		ref  string
		do   func() (hebao.BankOutcome, error)
		want hebao.BankOutcome
	}{
		{"d1", func() (hebao.BankOutcome, error) { return b.Debit(ctx, order("d1", ok, 1_000)) }, succeeded},
		{"d2", func() (hebao.BankOutcome, error) { return b.Debit(ctx, order("d2", ok, 2_000)) }, succeeded},
		{"c1", func() (hebao.BankOutcome, error) { return b.Credit(ctx, order("c1", ok2, 500)) }, succeeded},
		{"big", func() (hebao.BankOutcome, error) {
			return b.Debit(ctx, order("big", ok2, hebao.SandboxCardBalance+1_000))
		}, insufficient},
		{"dec", func() (hebao.BankOutcome, error) { return b.Debit(ctx, order("dec", card(t, 3, "0002"), 1)) }, declined},
		{"nsf", func() (hebao.BankOutcome, error) { return b.Debit(ctx, order("nsf", card(t, 3, "0051"), 1)) }, insufficient},
		{"late", func() (hebao.BankOutcome, error) { return b.Credit(ctx, order("late", card(t, 3, "0259"), 9)) }, succeeded},
		{"void", func() (hebao.BankOutcome, error) { return b.Cancel(ctx, "void") }, cancelled},
	}
	out := make(map[string]hebao.BankOutcome)
	for _, s := range steps {
		got, err := s.do()
		if err != nil || got != s.want {
			t.Fatalf("%s = (%+v, %v), want %+v", s.ref, got, err, s.want)
		}
		out[s.ref] = got
	}
	// Not applied, so not remembered as applied.
	if _, err := b.Debit(short, order("timed-out", card(t, 3, "0119"), 1)); !errors.Is(err, hebao.ErrBankNoAnswer) {
		t.Fatalf("0119: err = %v", err)
	}
	return out
}

func TestPersistence(t *testing.T) {
	ctx := context.Background()
	ok, ok2 := card(t, 1, "1234"), card(t, 2, "5678")
	cards := []string{ok, ok2, card(t, 3, "0002"), card(t, 3, "0051"), card(t, 3, "0259")}

	for _, crash := range []bool{false, true} {
		t.Run(fmt.Sprintf("crash=%v", crash), func(t *testing.T) {
			dir := filepath.Join(t.TempDir(), "bank") // Open creates it
			b1, err := sandbox.Open(dir)
			if err != nil {
				t.Fatal(err)
			}
			want := applySome(t, b1, ok, ok2)
			balances := make(map[string]int64)
			for _, n := range cards {
				balances[n] = b1.Balance(n)
			}
			if crash {
				// The process dies: no Close; a second bank opens the same journal.
				defer b1.Close()
			} else if err := b1.Close(); err != nil {
				t.Fatal(err)
			}

			b2 := open(t, dir)
			for _, n := range cards {
				if got := b2.Balance(n); got != balances[n] {
					t.Errorf("after restart, Balance(…%s) = %d, want %d", n[len(n)-4:], got, balances[n])
				}
			}
			if got, want := b2.Balance(ok), hebao.SandboxCardBalance-3_000; got != want {
				t.Errorf("Balance(ok) = %d, want %d", got, want)
			}
			// Every reference answers as before, with no second effect, whatever is asked.
			for ref, w := range want {
				for name, c := range map[string]call{"debit": debit, "credit": credit} {
					if got, err := c(b2, ctx, order(ref, ok, 1)); err != nil || got != w {
						t.Errorf("after restart, %s %s = (%+v, %v), want %+v", name, ref, got, err, w)
					}
				}
				if got, err := b2.Cancel(ctx, ref); err != nil || got != w {
					t.Errorf("after restart, Cancel %s = (%+v, %v), want %+v", ref, got, err, w)
				}
			}
			if got, want := b2.Balance(ok), balances[ok]; got != want {
				t.Errorf("replays moved money: Balance = %d, want %d", got, want)
			}
			if got, _ := b2.Cancel(ctx, "timed-out"); got != cancelled {
				t.Errorf("Cancel(timed-out) = %+v, want cancelled (never applied)", got)
			}
		})
	}
}

func TestTornLastLine(t *testing.T) {
	ctx := context.Background()
	n := card(t, 1, "1234")
	for name, tail := range map[string]string{
		"partial record":   `{"ref":"half","op":"debit","sta`,
		"garbled line":     "\x00\x00\x00garbage\n",
		"incomplete JSON":  `{"ref":"half","op":"debit","status":"succeeded"}` + "\n",
		"record, no \\n":   `{"ref":"half","op":"cancel","status":"cancelled"}`,
		"stray blank line": "\n",
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			b := open(t, dir)
			if _, err := b.Debit(ctx, order("d1", n, 100)); err != nil {
				t.Fatal(err)
			}
			b.Close()
			f, err := os.OpenFile(filepath.Join(dir, sandbox.JournalName), os.O_APPEND|os.O_WRONLY, 0)
			if err != nil {
				t.Fatal(err)
			}
			f.WriteString(tail)
			f.Close()

			b = open(t, dir)
			if got, want := b.Balance(n), hebao.SandboxCardBalance-100; got != want {
				t.Fatalf("Balance = %d, want %d", got, want)
			}
			// The torn order was never answered, so its reference is still free.
			if got, _ := b.Debit(ctx, order("half", n, 1)); got != succeeded {
				t.Fatalf("Debit(half) = %+v", got)
			}
			b.Close()

			// The next record landed on a line of its own: a third open reads both.
			b = open(t, dir)
			if got, want := b.Balance(n), hebao.SandboxCardBalance-101; got != want {
				t.Errorf("Balance = %d, want %d", got, want)
			}
		})
	}
}

func TestCorruptJournal(t *testing.T) {
	dir := t.TempDir()
	b := open(t, dir)
	n := card(t, 1, "1234")
	b.Debit(context.Background(), order("d1", n, 100))
	b.Debit(context.Background(), order("d2", n, 100))
	b.Close()
	path := filepath.Join(dir, sandbox.JournalName)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data = append([]byte("not json\n"), data...)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := sandbox.Open(dir); err == nil {
		b.Close()
		t.Fatal("Open of a journal with a bad line in the middle succeeded")
	}
}

func TestJournalHoldsNoCardNumber(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	b := open(t, dir)
	b.LateAnswer = time.Millisecond
	var cards []string
	for i, ending := range []string{"1234", "0002", "0051", "0259"} {
		n := card(t, i, ending)
		cards = append(cards, n)
		b.Debit(ctx, order(fmt.Sprint("d", i), n, 10))
		b.Credit(ctx, order(fmt.Sprint("c", i), n, 10))
	}
	b.Cancel(ctx, "v")
	b.Close()
	data, err := os.ReadFile(filepath.Join(dir, sandbox.JournalName))
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Count(string(data), "\n"); got != 9 {
		t.Errorf("journal has %d lines, want 9", got)
	}
	for _, n := range cards {
		if strings.Contains(string(data), n) {
			t.Errorf("journal holds the full card number ending %s", n[len(n)-4:])
		}
		if !strings.Contains(string(data), hebao.MaskCard(n)) {
			t.Errorf("journal lacks the masked card %s", hebao.MaskCard(n))
		}
	}
}

func TestConcurrency(t *testing.T) {
	for _, mode := range []string{"memory", "journal"} {
		t.Run(mode, func(t *testing.T) {
			dir := ""
			if mode == "journal" {
				dir = t.TempDir()
			}
			ctx := context.Background()

			t.Run("distinct refs", func(t *testing.T) {
				b := open(t, dir)
				n := card(t, 1, "1234")
				var wg sync.WaitGroup
				for i := range 50 {
					wg.Go(func() {
						if got, err := b.Debit(ctx, order(fmt.Sprint("dist-", i), n, 100)); err != nil || got != succeeded {
							t.Errorf("Debit %d = (%+v, %v)", i, got, err)
						}
					})
				}
				wg.Wait()
				if got, want := b.Balance(n), hebao.SandboxCardBalance-50*100; got != want {
					t.Errorf("Balance = %d, want %d", got, want)
				}
				b.Close()
				if dir != "" {
					if got, want := open(t, dir).Balance(n), hebao.SandboxCardBalance-50*100; got != want {
						t.Errorf("after reopen, Balance = %d, want %d", got, want)
					}
				}
			})

			for _, ending := range []string{"1234", "0259"} {
				t.Run("same ref "+ending, func(t *testing.T) {
					b := open(t, dir)
					b.LateAnswer = 20 * time.Millisecond
					n := card(t, 2, ending)
					var wg sync.WaitGroup
					for i := range 20 {
						wg.Go(func() {
							if got, err := b.Debit(ctx, order("same-"+ending, n, 100)); err != nil || got != succeeded {
								t.Errorf("Debit %d = (%+v, %v)", i, got, err)
							}
						})
					}
					wg.Wait()
					if got, want := b.Balance(n), hebao.SandboxCardBalance-100; got != want {
						t.Errorf("Balance = %d, want %d (applied once)", got, want)
					}
				})
			}

			// Debits and Cancels race on one reference: whichever wins, everyone
			// gets the same answer, and money moves only if it is succeeded.
			t.Run("debit races cancel", func(t *testing.T) {
				b := open(t, dir)
				n := card(t, 3, "1234")
				var mu sync.Mutex
				seen := make(map[hebao.BankOutcome]int)
				var wg sync.WaitGroup
				for i := range 20 {
					wg.Go(func() {
						var got hebao.BankOutcome
						var err error
						if i%2 == 0 {
							got, err = b.Cancel(ctx, "race")
						} else {
							got, err = b.Debit(ctx, order("race", n, 100))
						}
						if err != nil {
							t.Error(err)
						}
						mu.Lock()
						seen[got]++
						mu.Unlock()
					})
				}
				wg.Wait()
				if len(seen) != 1 {
					t.Fatalf("answers differ: %v", seen)
				}
				want := hebao.SandboxCardBalance
				if seen[succeeded] > 0 {
					want -= 100
				}
				if got := b.Balance(n); got != want {
					t.Errorf("Balance = %d, want %d", got, want)
				}
			})
		})
	}
}

func TestClose(t *testing.T) {
	ctx := context.Background()
	b, err := sandbox.Open(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		_, err := b.Debit(ctx, order("blocked", card(t, 1, "0119"), 1))
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	if err := b.Close(); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-done:
		if !errors.Is(err, sandbox.ErrClosed) {
			t.Errorf("blocked call after Close: err = %v, want ErrClosed", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not wake a blocked call")
	}
	if err := b.Close(); err != nil {
		t.Errorf("second Close = %v", err)
	}
	if _, err := b.Debit(ctx, order("after", card(t, 1, "1234"), 1)); !errors.Is(err, sandbox.ErrClosed) {
		t.Errorf("Debit after Close: err = %v, want ErrClosed", err)
	}
	if _, err := b.Cancel(ctx, "after"); !errors.Is(err, sandbox.ErrClosed) {
		t.Errorf("Cancel after Close: err = %v, want ErrClosed", err)
	}
}
