package sqldb

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// twoWorlds opens two handles on one database (two processes) with a world on each,
// sharing one sandbox bank.
func twoWorlds(t *testing.T, open func(t *testing.T) *DB) []*world {
	w0 := newWorld(t, open(t), nil)
	return []*world{w0, newWorld(t, open(t), w0.bank)}
}

// TestMoneyTransferOverdraw sends 50 transfers at once from one wallet, over two
// processes, that together ask for more than it holds: exactly as many as the
// balance covers go through, the rest are insufficient_funds and claim no key.
func TestMoneyTransferOverdraw(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		w := ws[0]
		ctx := context.Background()
		payer := w.customer("13800000011", 1, 20_500)
		payee := w.customer("13800000012", 1, 0)
		const n = 50
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			svc := ws[i%2].transfers
			wg.Go(func() {
				_, errs[i] = svc.Send(ctx, transferRequest(payer, payee.Customer.Phone, 1_000, fmt.Sprintf("k%d", i)))
			})
		}
		wg.Wait()
		if d := cmp.Diff(map[string]int{"": 20, hebao.CodeInsufficientFunds: 30}, codeCounts(errs)); d != "" {
			t.Fatalf("outcomes by code (-want +got):\n%s\nerrors: %v", d, errs)
		}
		if got := w.balance(payer.Wallet.Account); got != 500 {
			t.Errorf("payer balance %d, want 500", got)
		}
		if got := w.balance(payee.Wallet.Account); got != 20_000 {
			t.Errorf("payee balance %d, want 20000", got)
		}
		if got := w.movementCount(payer.Wallet.ID, hebao.MovementTransferOut); got != 20 {
			t.Errorf("%d transfer_out movements, want 20", got)
		}
		if got := w.movementCount(payee.Wallet.ID, hebao.MovementTransferIn); got != 20 {
			t.Errorf("%d transfer_in movements, want 20", got)
		}
		if got := rawInt(t, w.db, `SELECT COUNT(*) FROM idempotency_keys WHERE scope = ?`, payer.Customer.ID); got != 20 {
			t.Errorf("%d idempotency keys claimed, want 20 (one per transfer that went through)", got)
		}
		failed := -1
		for i, err := range errs {
			if err != nil {
				failed = i
				break
			}
		}
		// The failed request claimed nothing: with the money there, the same key works.
		w.fund(payer.Wallet.Account, 500)
		if _, err := ws[1].transfers.Send(ctx, transferRequest(payer, payee.Customer.Phone, 1_000, fmt.Sprintf("k%d", failed))); err != nil {
			t.Fatalf("retry of failed key k%d: %v", failed, err)
		}
		if got := w.balance(payer.Wallet.Account); got != 0 {
			t.Errorf("payer balance after retry %d, want 0", got)
		}
		if got := w.movementCount(payer.Wallet.ID, hebao.MovementTransferOut); got != 21 {
			t.Errorf("%d transfer_out movements after retry, want 21", got)
		}
		mustVerify(t, w.db)
	})
}

// TestMoneyTransferDailyLimit checks the single and daily limits of a tier 4 wallet
// under 50 concurrent transfers, and the payee's balance cap.
func TestMoneyTransferDailyLimit(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		w := ws[0]
		ctx := context.Background()
		payer := w.customer("13800000021", 4, 1_000_000)
		payee := w.customer("13800000022", 1, 0)
		const n = 50
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			svc := ws[i%2].transfers
			wg.Go(func() {
				_, errs[i] = svc.Send(ctx, transferRequest(payer, payee.Customer.Phone, 15_000, fmt.Sprintf("d%d", i)))
			})
		}
		wg.Wait()
		// ¥5,000 a day is 33 transfers of ¥150 (¥4,950); the 34th would pass it.
		if d := cmp.Diff(map[string]int{"": 33, hebao.CodeLimitExceeded: 17}, codeCounts(errs)); d != "" {
			t.Fatalf("outcomes by code (-want +got):\n%s\nerrors: %v", d, errs)
		}
		if got := w.balance(payer.Wallet.Account); got != 1_000_000-495_000 {
			t.Errorf("payer balance %d, want %d", got, 1_000_000-495_000)
		}
		if got := w.balance(payee.Wallet.Account); got != 495_000 {
			t.Errorf("payee balance %d, want 495000", got)
		}
		if u := w.usage(payer.Wallet.ID); u.DayTotal != 495_000 || u.YearTotal != 495_000 {
			t.Errorf("usage %+v, want 495000 today and this year", u)
		}
		// Up to the limit exactly, and not a fen more.
		if _, err := w.transfers.Send(ctx, transferRequest(payer, payee.Customer.Phone, 5_000, "to-limit")); err != nil {
			t.Fatalf("transfer up to the daily limit: %v", err)
		}
		if _, err := w.transfers.Send(ctx, transferRequest(payer, payee.Customer.Phone, 1, "past-limit")); hebao.ErrorCode(err) != hebao.CodeLimitExceeded {
			t.Fatalf("1 fen past the daily limit: %v, want limit_exceeded", err)
		}
		if got := w.balance(payer.Wallet.Account); got != 500_000 {
			t.Errorf("payer balance %d, want 500000: no more than the daily limit leaves", got)
		}

		// Single payment limit: ¥2,000.
		payer2 := w.customer("13800000023", 4, 300_000)
		if _, err := w.transfers.Send(ctx, transferRequest(payer2, payee.Customer.Phone, 200_001, "single")); hebao.ErrorCode(err) != hebao.CodeLimitExceeded {
			t.Fatalf("200001 fen from a tier 4 wallet: %v, want limit_exceeded", err)
		}
		if _, err := w.transfers.Send(ctx, transferRequest(payer2, payee.Customer.Phone, 200_000, "single-ok")); err != nil {
			t.Fatalf("200000 fen from a tier 4 wallet: %v", err)
		}

		// Payee's balance cap: a tier 4 wallet holds at most ¥10,000.
		full := w.customer("13800000024", 4, 990_000)
		if _, err := w.transfers.Send(ctx, transferRequest(payer2, full.Customer.Phone, 20_000, "cap")); hebao.ErrorCode(err) != hebao.CodeBalanceCapExceeded {
			t.Fatalf("20000 fen to a wallet holding 990000: %v, want balance_cap_exceeded", err)
		}
		if got, got2 := w.balance(full.Wallet.Account), w.balance(payer2.Wallet.Account); got != 990_000 || got2 != 100_000 {
			t.Errorf("after a refused transfer: payee %d (want 990000), payer %d (want 100000)", got, got2)
		}
		if u := w.usage(payer2.Wallet.ID); u.DayTotal != 200_000 {
			t.Errorf("payer's daily usage %d after a refused transfer, want 200000", u.DayTotal)
		}
		if _, err := w.transfers.Send(ctx, transferRequest(payer2, full.Customer.Phone, 10_000, "cap-ok")); err != nil {
			t.Fatalf("10000 fen to a wallet holding 990000 (up to the cap): %v", err)
		}
		if got := w.balance(full.Wallet.Account); got != 1_000_000 {
			t.Errorf("payee at the cap holds %d, want 1000000", got)
		}
		mustVerify(t, w.db)
	})
}

// TestMoneyTransferBothWays sends money both ways between two wallets at once over
// two processes: the lock order never shows the caller a deadlock or a
// serialization failure.
func TestMoneyTransferBothWays(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		w := ws[0]
		ctx := context.Background()
		a := w.customer("13800000031", 1, 10_000)
		b := w.customer("13800000032", 1, 10_000)
		const n = 40
		errs := make([]error, 2*n)
		var wg sync.WaitGroup
		for i := range n {
			ab, ba := ws[i%2].transfers, ws[(i+1)%2].transfers
			wg.Go(func() {
				_, errs[2*i] = ab.Send(ctx, transferRequest(a, b.Customer.Phone, 100, fmt.Sprintf("ab%d", i)))
			})
			wg.Go(func() {
				_, errs[2*i+1] = ba.Send(ctx, transferRequest(b, a.Customer.Phone, 70, fmt.Sprintf("ba%d", i)))
			})
		}
		wg.Wait()
		if d := cmp.Diff(map[string]int{"": 2 * n}, codeCounts(errs)); d != "" {
			t.Fatalf("outcomes by code (-want +got):\n%s\nerrors: %v", d, errs)
		}
		if got := w.balance(a.Wallet.Account); got != 10_000-n*100+n*70 {
			t.Errorf("A holds %d, want %d", got, 10_000-n*100+n*70)
		}
		if got := w.balance(b.Wallet.Account); got != 10_000+n*100-n*70 {
			t.Errorf("B holds %d, want %d", got, 10_000+n*100-n*70)
		}
		for _, r := range []hebao.Registered{a, b} {
			if out, in := w.movementCount(r.Wallet.ID, hebao.MovementTransferOut), w.movementCount(r.Wallet.ID, hebao.MovementTransferIn); out != n || in != n {
				t.Errorf("wallet %s: %d out, %d in; want %d each", r.Wallet.ID, out, in, n)
			}
		}
		mustVerify(t, w.db)
	})
}

// TestMoneyPaymentPassword checks the count of wrong payment passwords shared by
// transfers and withdrawals, the lock, the reset of the count by a right password,
// and frozen wallets.
func TestMoneyPaymentPassword(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		ctx := context.Background()
		a := w.customer("13800000041", 1, 10_000)
		b := w.customer("13800000042", 1, 0)
		card := w.card(a.Customer.ID, "1234")
		transfer := func(r hebao.Registered, to string, pw, k string) error {
			req := transferRequest(r, to, 1_000, k)
			req.PaymentPassword = pw
			_, err := w.transfers.Send(ctx, req)
			return err
		}
		withdraw := func(r hebao.Registered, c hebao.Card, pw, k string) error {
			_, err := w.banks.Withdraw(ctx, hebao.WithdrawalRequest{CustomerID: r.Customer.ID, CardID: c.ID, Amount: 1_000,
				PaymentPassword: pw, Key: key(r.Customer.ID, k, 1_000), Reply: movementReply})
			return err
		}

		// Five wrong tries, by transfer and withdrawal alike: the fifth locks.
		var got []string
		for i := range 5 {
			var err error
			if i%2 == 0 {
				err = transfer(a, b.Customer.Phone, "000000", fmt.Sprintf("wrong%d", i))
			} else {
				err = withdraw(a, card, "000000", fmt.Sprintf("wrong%d", i))
			}
			got = append(got, hebao.ErrorCode(err))
			if i == 4 && hebao.ErrorOf(err).Kind != hebao.KindLocked {
				t.Errorf("5th wrong try: kind %v, want KindLocked (423)", hebao.ErrorOf(err).Kind)
			}
		}
		wrong, locked := hebao.CodePaymentPasswordWrong, hebao.CodePaymentPasswordLocked
		if d := cmp.Diff([]string{wrong, wrong, wrong, wrong, locked}, got); d != "" {
			t.Errorf("five wrong tries (-want +got):\n%s", d)
		}
		if err := transfer(a, b.Customer.Phone, payPassword, "right-locked"); hebao.ErrorCode(err) != locked {
			t.Errorf("right password while locked, transfer: %v, want payment_password_locked", err)
		}
		if err := withdraw(a, card, payPassword, "right-locked-w"); hebao.ErrorCode(err) != locked {
			t.Errorf("right password while locked, withdrawal: %v, want payment_password_locked", err)
		}
		if ga, gb := w.balance(a.Wallet.Account), w.balance(b.Wallet.Account); ga != 10_000 || gb != 0 {
			t.Errorf("balances %d, %d after refused payments; want 10000, 0", ga, gb)
		}
		if n := rawInt(t, w.db, `SELECT COUNT(*) FROM movements WHERE wallet_id IN (?, ?)`, a.Wallet.ID, b.Wallet.ID); n != 0 {
			t.Errorf("%d movements after refused payments, want 0", n)
		}
		if u := w.usage(a.Wallet.ID); u.DayTotal != 0 {
			t.Errorf("daily usage %d after refused payments, want 0", u.DayTotal)
		}

		// A right password clears the count: 3 wrong, right, then 4 wrong do not lock.
		c := w.customer("13800000043", 1, 10_000)
		for i := range 3 {
			if err := transfer(c, b.Customer.Phone, "000000", fmt.Sprintf("c-wrong%d", i)); hebao.ErrorCode(err) != wrong {
				t.Fatalf("wrong try %d: %v, want payment_password_wrong", i+1, err)
			}
		}
		if err := transfer(c, b.Customer.Phone, payPassword, "c-right"); err != nil {
			t.Fatalf("right password after 3 wrong: %v", err)
		}
		for i := range 4 {
			if err := transfer(c, b.Customer.Phone, "000000", fmt.Sprintf("c-wrong-again%d", i)); hebao.ErrorCode(err) != wrong {
				t.Fatalf("wrong try %d after a right one: %v, want payment_password_wrong", i+1, err)
			}
		}
		if err := transfer(c, b.Customer.Phone, payPassword, "c-right-again"); err != nil {
			t.Fatalf("right password after 4 wrong: %v", err)
		}
		if got := w.balance(c.Wallet.Account); got != 8_000 {
			t.Errorf("C holds %d, want 8000", got)
		}

		// A frozen wallet pays nothing out and receives no transfers.
		d := w.customer("13800000044", 1, 10_000)
		dCard := w.card(d.Customer.ID, "1234")
		if _, err := (&hebao.WalletStatusService{Store: w.db}).Freeze(ctx, d.Customer.ID, "lost my phone"); err != nil {
			t.Fatal(err)
		}
		if err := transfer(d, b.Customer.Phone, payPassword, "frozen-out"); hebao.ErrorCode(err) != hebao.CodeWalletFrozen {
			t.Errorf("transfer from a frozen wallet: %v, want wallet_frozen", err)
		}
		if err := withdraw(d, dCard, payPassword, "frozen-w"); hebao.ErrorCode(err) != hebao.CodeWalletFrozen {
			t.Errorf("withdrawal from a frozen wallet: %v, want wallet_frozen", err)
		}
		_, err := w.banks.Topup(ctx, hebao.TopupRequest{CustomerID: d.Customer.ID, CardID: dCard.ID, Amount: 1_000,
			Key: key(d.Customer.ID, "frozen-t", 1_000), Reply: movementReply})
		if hebao.ErrorCode(err) != hebao.CodeWalletFrozen {
			t.Errorf("top-up of a frozen wallet: %v, want wallet_frozen", err)
		}
		if err := transfer(c, d.Customer.Phone, payPassword, "to-frozen"); hebao.ErrorCode(err) != hebao.CodePayeeUnavailable {
			t.Errorf("transfer to a frozen wallet: %v, want payee_unavailable", err)
		}
		if gd, gc := w.balance(d.Wallet.Account), w.balance(c.Wallet.Account); gd != 10_000 || gc != 8_000 {
			t.Errorf("frozen wallet holds %d (want 10000), sender %d (want 8000)", gd, gc)
		}
		if n := rawInt(t, w.db, `SELECT COUNT(*) FROM movements WHERE wallet_id = ?`, d.Wallet.ID); n != 0 {
			t.Errorf("%d movements of the frozen wallet, want 0", n)
		}
		mustVerify(t, w.db)
	})
}

// TestMoneyIdempotency checks a transfer's idempotency key: a retry is answered the
// same bytes and moves nothing; another request under the key is refused; a burst
// of the same request moves money once.
func TestMoneyIdempotency(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		w := ws[0]
		ctx := context.Background()
		a := w.customer("13800000051", 1, 10_000)
		b := w.customer("13800000052", 1, 0)

		req := transferRequest(a, b.Customer.Phone, 1_000, "same")
		r1, err := w.transfers.Send(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		r2, err := ws[1].transfers.Send(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if r1.Status != r2.Status || !bytes.Equal(r1.Body, r2.Body) {
			t.Errorf("retry answered %d %s, first answer was %d %s", r2.Status, r2.Body, r1.Status, r1.Body)
		}
		other := req
		other.Amount = 2_000
		other.Key = key(a.Customer.ID, "same", []any{b.Customer.Phone, int64(2_000)})
		if _, err := w.transfers.Send(ctx, other); hebao.ErrorCode(err) != hebao.CodeIdempotencyKeyReused {
			t.Errorf("same key, another body: %v, want idempotency_key_reused", err)
		}
		if got := w.balance(a.Wallet.Account); got != 9_000 {
			t.Errorf("payer holds %d after a request and its retries, want 9000", got)
		}
		if got := w.movementCount(a.Wallet.ID, hebao.MovementTransferOut); got != 1 {
			t.Errorf("%d transfers after a request and its retries, want 1", got)
		}

		// A burst of one request: one moves money, the others see its reply or that it
		// is still running.
		const n = 20
		storm := transferRequest(a, b.Customer.Phone, 500, "storm")
		replies := make([]hebao.Reply, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			svc := ws[i%2].transfers
			wg.Go(func() { replies[i], errs[i] = svc.Send(ctx, storm) })
		}
		wg.Wait()
		var first *hebao.Reply
		for i, err := range errs {
			switch hebao.ErrorCode(err) {
			case "":
				if first == nil {
					first = &replies[i]
				} else if replies[i].Status != first.Status || !bytes.Equal(replies[i].Body, first.Body) {
					t.Errorf("reply %d is %s, another was %s", i, replies[i].Body, first.Body)
				}
			case hebao.CodeIdempotencyKeyInUse:
			default:
				t.Errorf("call %d: %v, want success or idempotency_key_in_use", i, err)
			}
		}
		if first == nil {
			t.Fatalf("no call of the burst succeeded: %v", errs)
		}
		again, err := ws[1].transfers.Send(ctx, storm)
		if err != nil || !bytes.Equal(again.Body, first.Body) {
			t.Errorf("retry after the burst: %s, %v; want %s", again.Body, err, first.Body)
		}
		if got := w.balance(a.Wallet.Account); got != 8_500 {
			t.Errorf("payer holds %d after the burst, want 8500", got)
		}
		if got := w.movementCount(a.Wallet.ID, hebao.MovementTransferOut); got != 2 {
			t.Errorf("%d transfers after the burst, want 2", got)
		}
		mustVerify(t, w.db)
	})
}

// TestMoneyStepUp checks that a transfer above ¥5,000 from a device first seen
// within 24 hours needs an SMS code, and from an older device does not.
func TestMoneyStepUp(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		ctx := context.Background()
		a := w.customer("13800000081", 2, 2_000_000)
		b := w.customer("13800000082", 1, 0)
		send := func(amount int64, device, otp, k string) error {
			req := transferRequest(a, b.Customer.Phone, amount, k)
			req.DeviceID, req.OTP = device, otp
			_, err := w.transfers.Send(ctx, req)
			return err
		}
		dev := "dev-" + a.Customer.Phone // first seen at registration, just now
		if err := send(500_001, dev, "", "big"); hebao.ErrorCode(err) != hebao.CodeStepUpRequired {
			t.Fatalf("¥5,000.01 from a new device without a code: %v, want step_up_required", err)
		}
		if got := w.balance(a.Wallet.Account); got != 2_000_000 {
			t.Fatalf("payer holds %d after a refused transfer", got)
		}
		if err := send(500_001, dev, "123456", "big"); err != nil {
			t.Fatalf("¥5,000.01 from a new device with a code: %v", err)
		}
		// A retry with the same key gets the first answer, though its code is spent
		// now (codes work once: the checker below refuses every code after one use).
		spent := *w.transfers
		spent.OTP = usedCode{}
		req := transferRequest(a, b.Customer.Phone, 500_001, "big")
		req.DeviceID, req.OTP = dev, "123456"
		if _, err := spent.Send(ctx, req); err != nil {
			t.Fatalf("the retry of a stepped-up transfer: %v", err)
		}
		if err := send(500_000, dev, "", "at-threshold"); err != nil {
			t.Fatalf("¥5,000 from a new device without a code: %v", err)
		}
		if err := send(500_001, "dev-never-seen", "", "unknown-device"); hebao.ErrorCode(err) != hebao.CodeStepUpRequired {
			t.Fatalf("¥5,000.01 from a device never seen: %v, want step_up_required", err)
		}
		age := func(d time.Duration) {
			t.Helper()
			n, err := rawExec(t, w.db, `UPDATE devices SET first_seen_at = ? WHERE customer_id = ? AND device_id = ?`,
				time.Now().Add(-d).UnixMicro(), a.Customer.ID, dev)
			if err != nil || n != 1 {
				t.Fatalf("age the device: %d rows, %v", n, err)
			}
		}
		age(23 * time.Hour)
		if err := send(500_001, dev, "", "23h"); hebao.ErrorCode(err) != hebao.CodeStepUpRequired {
			t.Fatalf("¥5,000.01 from a device first seen 23 h ago: %v, want step_up_required", err)
		}
		age(25 * time.Hour)
		if err := send(500_001, dev, "", "25h"); err != nil {
			t.Fatalf("¥5,000.01 from a device first seen 25 h ago: %v", err)
		}
		if got := w.balance(a.Wallet.Account); got != 2_000_000-500_001-500_000-500_001 {
			t.Errorf("payer holds %d, want %d", got, 2_000_000-500_001-500_000-500_001)
		}
		mustVerify(t, w.db)
	})
}

// TestMoneyHistory lists a wallet's movements newest first, page by page, and
// checks both sides of each transfer.
func TestMoneyHistory(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		w := newWorld(t, open(t), nil)
		ctx := context.Background()
		a := w.customer("13800000091", 1, 10_000)
		b := w.customer("13800000092", 1, 0)
		send := func(from hebao.Registered, to string, amount int64) {
			t.Helper()
			req := transferRequest(from, to, amount, fmt.Sprintf("h%d", amount))
			req.Memo = fmt.Sprintf("memo %d", amount)
			if _, err := w.transfers.Send(ctx, req); err != nil {
				t.Fatal(err)
			}
			// Ids order by millisecond only: keep each transfer in a later one.
			time.Sleep(2 * time.Millisecond)
		}
		for _, amount := range []int64{100, 200, 300, 400} {
			send(a, b.Customer.Phone, amount)
		}
		send(b, a.Customer.Phone, 50)

		list := func(walletID, before string, limit int) []hebao.Movement {
			t.Helper()
			var ms []hebao.Movement
			err := w.db.View(ctx, func(tx hebao.Tx) error {
				var err error
				ms, err = tx.Movements(ctx, walletID, before, limit)
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			return ms
		}
		type line struct {
			Kind   hebao.MovementKind
			Amount int64
		}
		lines := func(ms []hebao.Movement) []line {
			var out []line
			for _, m := range ms {
				out = append(out, line{m.Kind, m.Amount})
			}
			return out
		}
		var all []hebao.Movement
		before := ""
		for _, want := range [][]line{
			{{hebao.MovementTransferIn, 50}, {hebao.MovementTransferOut, 400}, {hebao.MovementTransferOut, 300}},
			{{hebao.MovementTransferOut, 200}, {hebao.MovementTransferOut, 100}},
			nil,
		} {
			page := list(a.Wallet.ID, before, 3)
			if d := cmp.Diff(want, lines(page)); d != "" {
				t.Fatalf("page before %q (-want +got):\n%s", before, d)
			}
			if len(page) > 0 {
				before = page[len(page)-1].ID
			}
			all = append(all, page...)
		}

		// Each side names the other by masked phone, and both share Ref.
		theirs := map[string]hebao.Movement{}
		for _, m := range list(b.Wallet.ID, "", 10) {
			theirs[m.Ref] = m
		}
		if len(theirs) != 5 {
			t.Fatalf("payee has %d movements, want 5", len(theirs))
		}
		for _, m := range all {
			o, ok := theirs[m.Ref]
			if !ok {
				t.Fatalf("movement %s (ref %s) has no other side", m.ID, m.Ref)
			}
			if m.Status != hebao.MovementSucceeded || o.Status != hebao.MovementSucceeded || o.Amount != m.Amount ||
				o.Kind == m.Kind || o.Memo != m.Memo || m.Memo != fmt.Sprintf("memo %d", m.Amount) {
				t.Errorf("sides of %s: %+v and %+v", m.Ref, m, o)
			}
			if m.Counterparty != b.Wallet.ID || m.CounterpartyName != "138****0092" {
				t.Errorf("payer's side names %s %q, want %s 138****0092", m.Counterparty, m.CounterpartyName, b.Wallet.ID)
			}
			if o.Counterparty != a.Wallet.ID || o.CounterpartyName != "138****0091" {
				t.Errorf("payee's side names %s %q, want %s 138****0091", o.Counterparty, o.CounterpartyName, a.Wallet.ID)
			}
		}

		// One movement is read by its own wallet only.
		err := w.db.View(ctx, func(tx hebao.Tx) error {
			if _, err := tx.Movement(ctx, a.Wallet.ID, all[1].ID); err != nil {
				t.Errorf("own movement: %v", err)
			}
			if _, err := tx.Movement(ctx, b.Wallet.ID, all[1].ID); hebao.ErrorCode(err) != hebao.CodeNotFound {
				t.Errorf("another wallet's movement: %v, want not_found", err)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		mustVerify(t, w.db)
	})
}

// usedCode is an OTP checker for which every code was used already.
type usedCode struct{}

func (usedCode) Check(context.Context, string, hebao.OTPPurpose, string) (hebao.OTPPass, error) {
	return hebao.OTPPass{}, hebao.Errorf(hebao.CodeOTPInvalid, "this code was used")
}

func (usedCode) Use(context.Context, hebao.Tx, hebao.OTPPass) error {
	return hebao.Errorf(hebao.CodeOTPInvalid, "this code was used")
}
