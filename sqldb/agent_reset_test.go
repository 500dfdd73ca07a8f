package sqldb

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// TestAgentResetOnDB is customer service's side of a wallet on a real database,
// over two processes: an agent looks a customer up and reads the history (each look
// audited), starts a payment-password reset; from then on payments with the right
// password are refused in both processes (on SQLite after the committer had the
// payer's row cached), a second start is a conflict and an SMS code alone sets no
// new password; the start is audited with the identity check and its event is in
// the outbox; the holder's reset with the ID number lifts it.
func TestAgentResetOnDB(t *testing.T) {
	suite(t, func(t *testing.T, open func(t *testing.T) *DB) {
		ws := twoWorlds(t, open)
		w := ws[0]
		ctx := hebao.WithRequestID(context.Background(), "req_agent")
		payer := w.customer("13800000021", 1, 10_000)
		payee := w.customer("13800000022", 1, 0)
		if _, err := (&hebao.IdentityService{Store: w.db, Keys: w.keys}).SetRealName(ctx, payer.Customer.ID, "张三", "11010519491231002X"); err != nil {
			t.Fatal(err)
		}
		// A transfer first: SQLite's committer now holds the payer's row, with the
		// payment password, in its cache.
		for i, wd := range ws {
			if _, err := wd.transfers.Send(ctx, transferRequest(payer, payee.Customer.Phone, 100, "before"+string(rune('a'+i)))); err != nil {
				t.Fatalf("transfer before the reset: %v", err)
			}
		}
		agent := hebao.Staff{ID: "stf_agent", Role: hebao.RoleAgent}
		status := &hebao.WalletStatusService{Store: ws[1].db}
		v, err := status.LookupByPhone(ctx, agent, payer.Customer.Phone)
		if err != nil {
			t.Fatal(err)
		}
		if v.Balance != 9_800 || v.PaymentPassword != hebao.PaymentPasswordSet || v.Customer.Phone != "138****0021" || v.Customer.PasswordHash != "" {
			t.Errorf("look-up: %+v", v)
		}
		hist, err := status.History(ctx, agent, payer.Wallet.ID, "", 10)
		if err != nil || len(hist) != 2 || hist[0].Kind != hebao.MovementTransferOut {
			t.Fatalf("history: %+v, %v", hist, err)
		}

		pay := &hebao.PaymentPasswordService{Store: w.db, Keys: w.keys, OTP: anyCode{}}
		const check = "来电核验：姓名、身份证后四位一致"
		if _, err := pay.StartReset(ctx, agent, payer.Wallet.ID, check); err != nil {
			t.Fatal(err)
		}
		for i, wd := range ws {
			_, err := wd.transfers.Send(ctx, transferRequest(payer, payee.Customer.Phone, 100, "after"+string(rune('a'+i))))
			if hebao.ErrorCode(err) != hebao.CodePaymentPasswordLocked {
				t.Errorf("process %d: a transfer with the right password after the start: %v, want payment_password_locked", i, err)
			}
		}
		if got := w.balance(payer.Wallet.Account); got != 9_800 {
			t.Errorf("balance %d after refused transfers, want 9800", got)
		}
		other := &hebao.PaymentPasswordService{Store: ws[1].db, Keys: w.keys, OTP: anyCode{}}
		if _, err := other.StartReset(ctx, agent, payer.Wallet.ID, "again"); hebao.ErrorCode(err) != hebao.CodeConflict {
			t.Errorf("a second start: %v, want conflict", err)
		}
		if err := other.Set(ctx, payer.Customer.ID, "640193", "123456"); hebao.ErrorCode(err) != hebao.CodePaymentPasswordLocked {
			t.Errorf("a set with an SMS code only: %v, want payment_password_locked", err)
		}
		if v, err := status.LookupByID(ctx, agent, payer.Customer.ID); err != nil || v.PaymentPassword != hebao.PaymentPasswordResetRequired {
			t.Errorf("look-up after the start: %q, %v", v.PaymentPassword, err)
		}

		page, err := (&hebao.AuditService{Store: w.db}).List(ctx, 10, "")
		if err != nil {
			t.Fatal(err)
		}
		type rec struct {
			Action, Actor, Subject, Request string
			Detail                          map[string]string
		}
		var got []rec
		for _, r := range page.Records {
			if r.Actor.Kind == hebao.ActorStaff {
				got = append(got, rec{r.Action, r.Actor.ID, r.Subject, r.RequestID, r.Detail})
			}
		}
		wal := payer.Wallet.ID
		want := []rec{ // newest first
			{hebao.ActionWalletView, "stf_agent", payer.Customer.ID, "req_agent", map[string]string{"wallet_id": wal, "via": "id"}},
			{hebao.ActionPaymentPasswordResetStart, "stf_agent", payer.Customer.ID, "req_agent", map[string]string{"wallet_id": wal, "identity_check": check, "via": "agent"}},
			{hebao.ActionWalletHistory, "stf_agent", payer.Customer.ID, "req_agent", map[string]string{"wallet_id": wal}},
			{hebao.ActionWalletView, "stf_agent", payer.Customer.ID, "req_agent", map[string]string{"wallet_id": wal, "via": "phone"}},
		}
		if d := cmp.Diff(want, got); d != "" {
			t.Errorf("staff audit records (-want +got):\n%s", d)
		}

		var events []hebao.Event
		err = w.db.Transact(ctx, func(tx hebao.Tx) error {
			var err error
			events, err = tx.PendingEvents(ctx, 100)
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		var resets []hebao.PaymentPasswordResetEvent
		for _, e := range events {
			if e.Kind == hebao.EventPaymentPasswordReset {
				var p hebao.PaymentPasswordResetEvent
				if err := json.Unmarshal(e.Payload, &p); err != nil {
					t.Fatal(err)
				}
				resets = append(resets, p)
			}
		}
		if len(resets) != 1 || resets[0].CustomerID != payer.Customer.ID || resets[0].WalletID != wal {
			t.Errorf("reset events in the outbox: %+v, want one for %s", resets, wal)
		}

		// The holder resets it with a code and the ID number: payments go again.
		if err := other.Reset(ctx, payer.Customer.ID, "123456", "11010519491231002X", "640193"); err != nil {
			t.Fatal(err)
		}
		r := transferRequest(payer, payee.Customer.Phone, 100, "reset")
		r.PaymentPassword = "640193"
		r.Key = key(payer.Customer.ID, "reset", []any{payee.Customer.Phone, int64(100)})
		if _, err := w.transfers.Send(ctx, r); err != nil {
			t.Errorf("a transfer with the new password: %v", err)
		}
		mustVerify(t, w.db)
	})
}
