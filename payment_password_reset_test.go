package hebao_test

import (
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

var agent = hebao.Staff{ID: "stf_agent", Role: hebao.RoleAgent}

// pendingEvents returns the outbox's events not delivered yet.
func pendingEvents(t *testing.T, st hebao.Store) []hebao.Event {
	t.Helper()
	var out []hebao.Event
	err := st.View(t.Context(), func(tx hebao.Tx) error {
		var err error
		out, err = tx.PendingEvents(t.Context(), 100)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// TestStartReset: an agent's start of a reset locks payments with the payment
// password, the right one too and for good, until the holder resets it with an SMS
// code and the ID number; an SMS code alone does not lift it; it is audited under
// the agent with the identity check, and the customer's notice is in the outbox.
func TestStartReset(t *testing.T) {
	f := newPayFixture(t)
	cus, wal := f.user.Customer.ID, f.user.Wallet.ID
	if err := f.pay.Set(t.Context(), cus, "528471", f.code(t, phone, hebao.PurposeSetPaymentPassword)); err != nil {
		t.Fatal(err)
	}
	woke := 0
	f.pay.Committed = func() { woke++ }
	ctx := hebao.WithRequestID(t.Context(), "req_reset")
	for _, tt := range []struct {
		name, wallet, check, code string
	}{
		{"no identity check", wal, "", hebao.CodeInvalidRequest},
		{"blank identity check", wal, " \n ", hebao.CodeInvalidRequest},
		{"identity check too long", wal, strings.Repeat("核", 501), hebao.CodeInvalidRequest},
		{"malformed wallet", "wal_x", "checked", hebao.CodeInvalidRequest},
		{"unknown wallet", hebao.NewID("wal"), "checked", hebao.CodeNotFound},
	} {
		if _, err := f.pay.StartReset(ctx, agent, tt.wallet, tt.check); hebao.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	if err := f.pay.Check(t.Context(), wal, "528471"); err != nil {
		t.Fatalf("a refused start locked the password: %v", err)
	}
	if n := len(pendingEvents(t, f.store)); n != 0 || woke != 0 {
		t.Fatalf("refused starts emitted %d events and woke the dispatcher %d times", n, woke)
	}

	const check = "来电核验：姓名、身份证后四位与绑定卡后四位一致"
	out, err := f.pay.StartReset(ctx, agent, wal, "  "+check+"  ")
	if err != nil {
		t.Fatal(err)
	}
	if out.Wallet.ID != wal || !out.At.Equal(f.clock.Now()) || woke != 1 {
		t.Errorf("StartReset = %+v (woke %d), want wallet %s at %v, one wake-up", out, woke, wal, f.clock.Now())
	}

	// Payments with the right password are refused, with words saying why and what
	// to do; so are wrong ones, without counting; time does not end it.
	for _, pw := range []string{"528471", "000000", "528471"} {
		err := f.pay.Check(t.Context(), wal, pw)
		var e *hebao.Error
		if !errors.As(err, &e) || e.Code != hebao.CodePaymentPasswordLocked || e.Kind != hebao.KindLocked {
			t.Fatalf("check %s while reset-locked: %v, want 423 payment_password_locked", pw, err)
		}
		for _, want := range []string{"customer service", "SMS code", "ID number"} {
			if !strings.Contains(e.Message, want) {
				t.Errorf("the refusal %q does not mention %q", e.Message, want)
			}
		}
	}
	f.clock.Add(400 * 24 * time.Hour)
	if err := f.pay.Check(t.Context(), wal, "528471"); hebao.ErrorCode(err) != hebao.CodePaymentPasswordLocked {
		t.Errorf("a year later: %v", err)
	}
	v, err := f.wallets.Get(t.Context(), cus)
	if err != nil || v.PaymentPassword != hebao.PaymentPasswordResetRequired || !v.PaymentPasswordSet {
		t.Errorf("the customer's wallet says %q (set %v), %v; want reset_required", v.PaymentPassword, v.PaymentPasswordSet, err)
	}

	// Audited under the agent, with the identity check and the request id.
	rec := f.store.Audit()[len(f.store.Audit())-1]
	want := hebao.AuditRecord{Seq: rec.Seq, ID: rec.ID, At: out.At, Actor: hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_agent"},
		Action: hebao.ActionPaymentPasswordResetStart, Subject: cus, RequestID: "req_reset",
		Detail: map[string]string{"wallet_id": wal, "identity_check": check, "via": "agent"}}
	if d := cmp.Diff(want, rec); d != "" {
		t.Errorf("audit (-want +got):\n%s", d)
	}
	// The customer's notice waits in the outbox.
	evs := pendingEvents(t, f.store)
	if len(evs) != 1 || evs[0].Kind != hebao.EventPaymentPasswordReset {
		t.Fatalf("outbox: %+v, want one %s", evs, hebao.EventPaymentPasswordReset)
	}
	var p hebao.PaymentPasswordResetEvent
	if err := json.Unmarshal(evs[0].Payload, &p); err != nil || p.CustomerID != cus || p.WalletID != wal || !p.At.Equal(out.At) {
		t.Errorf("event payload %s: %+v, %v", evs[0].Payload, p, err)
	}

	// Started already: 409, nothing more written.
	if _, err := f.pay.StartReset(ctx, agent, wal, "again"); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Errorf("a second start: %v, want conflict", err)
	}
	if n := len(pendingEvents(t, f.store)); n != 1 || woke != 1 {
		t.Errorf("a refused second start: %d events, %d wake-ups", n, woke)
	}

	// An SMS code alone sets no new password now; the code is kept for the reset.
	if err := f.pay.Set(t.Context(), cus, "640193", f.code(t, phone, hebao.PurposeSetPaymentPassword)); hebao.ErrorCode(err) != hebao.CodePaymentPasswordLocked {
		t.Errorf("set with an SMS code only: %v, want payment_password_locked", err)
	}
	if err := f.pay.Check(t.Context(), wal, "640193"); hebao.ErrorCode(err) != hebao.CodePaymentPasswordLocked {
		t.Errorf("the refused set stored a password: %v", err)
	}
	// A wrong ID number does not lift it; the right one with a code does.
	if err := f.pay.Reset(t.Context(), cus, f.code(t, phone, hebao.PurposeResetPaymentPassword), idNumber2, "640193"); hebao.ErrorCode(err) != hebao.CodeIDNumberInvalid {
		t.Errorf("reset with another ID number: %v", err)
	}
	if err := f.pay.Check(t.Context(), wal, "640193"); hebao.ErrorCode(err) != hebao.CodePaymentPasswordLocked {
		t.Errorf("after a refused reset: %v", err)
	}
	if err := f.pay.Reset(t.Context(), cus, f.code(t, phone, hebao.PurposeResetPaymentPassword), idNumber, "640193"); err != nil {
		t.Fatal(err)
	}
	if err := f.pay.Check(t.Context(), wal, "640193"); err != nil {
		t.Errorf("the new password after the reset: %v", err)
	}
	if err := f.pay.Check(t.Context(), wal, "528471"); hebao.ErrorCode(err) != hebao.CodePaymentPasswordWrong {
		t.Errorf("the old password after the reset: %v", err)
	}
	if v, _ := f.wallets.Get(t.Context(), cus); v.PaymentPassword != hebao.PaymentPasswordSet {
		t.Errorf("after the reset the wallet says %q", v.PaymentPassword)
	}
	// Once finished, another reset may be started.
	if _, err := f.pay.StartReset(ctx, agent, wal, "called again"); err != nil {
		t.Errorf("a start after a finished reset: %v", err)
	}
}

// TestStartResetRefused: a reset needs a real name to finish with, a payment
// password to reset and a wallet that is not closed.
func TestStartResetRefused(t *testing.T) {
	s := newStatusFixture(t, false)
	pay := &hebao.PaymentPasswordService{Store: s.store, Keys: keyring(t), OTP: s.otp, Now: s.clock.Now}
	cus, wal := s.user.Customer.ID, s.user.Wallet.ID
	if err := pay.Set(t.Context(), cus, "528471", s.code(t, phone, hebao.PurposeSetPaymentPassword)); err != nil {
		t.Fatal(err)
	}
	if _, err := pay.StartReset(t.Context(), agent, wal, "checked"); hebao.ErrorCode(err) != hebao.CodeRealNameRequired {
		t.Errorf("no real name: %v, want real_name_required", err)
	}
	if err := pay.Check(t.Context(), wal, "528471"); err != nil {
		t.Errorf("a refused start locked the password: %v", err)
	}

	n := newStatusFixture(t, true)
	pay = &hebao.PaymentPasswordService{Store: n.store, Keys: keyring(t), OTP: n.otp, Now: n.clock.Now}
	if _, err := pay.StartReset(t.Context(), agent, n.user.Wallet.ID, "checked"); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Errorf("no payment password: %v, want conflict", err)
	}
	if _, err := n.ws.Close(t.Context(), n.user.Customer.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := pay.StartReset(t.Context(), agent, n.user.Wallet.ID, "checked"); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Errorf("closed wallet: %v, want conflict", err)
	}
	for _, st := range []hebao.Store{s.store, n.store} {
		if evs := pendingEvents(t, st); len(evs) != 0 {
			t.Errorf("refused starts emitted %+v", evs)
		}
	}
}

// failingEmit is a store whose transactions cannot write to the outbox.
type failingEmit struct{ hebao.Store }

type failingEmitTx struct{ hebao.Tx }

func (s failingEmit) Transact(ctx context.Context, fn func(hebao.Tx) error) error {
	return s.Store.Transact(ctx, func(tx hebao.Tx) error { return fn(failingEmitTx{tx}) })
}

func (failingEmitTx) Emit(context.Context, hebao.Event) error { return errors.New("outbox is full") }

// TestStartResetOneTransaction: the lock, its audit record and the customer's
// notice are written together or not at all.
func TestStartResetOneTransaction(t *testing.T) {
	f := newPayFixture(t)
	cus, wal := f.user.Customer.ID, f.user.Wallet.ID
	if err := f.pay.Set(t.Context(), cus, "528471", f.code(t, phone, hebao.PurposeSetPaymentPassword)); err != nil {
		t.Fatal(err)
	}
	before := len(f.store.Audit())
	broken := &hebao.PaymentPasswordService{Store: failingEmit{f.store}, Keys: f.pay.Keys, Now: f.clock.Now}
	if _, err := broken.StartReset(t.Context(), agent, wal, "checked"); err == nil || !strings.Contains(err.Error(), "outbox is full") {
		t.Fatalf("StartReset with no outbox: %v", err)
	}
	if err := f.pay.Check(t.Context(), wal, "528471"); err != nil {
		t.Errorf("the password is locked although the notice was not written: %v", err)
	}
	if n := len(f.store.Audit()); n != before {
		t.Errorf("%d audit records kept of a start that failed", n-before)
	}
}

// TestAgentLooksAudited: every look of an agent at a customer, and every page of
// their history, is in the audit log under the agent; the look shows the balances,
// the payment password's state and the phone masked.
func TestAgentLooksAudited(t *testing.T) {
	s := newStatusFixture(t, true)
	ctx := hebao.WithRequestID(t.Context(), "req_look")
	cus, wal := s.user.Customer.ID, s.user.Wallet.ID
	var ids []string
	err := s.store.Transact(ctx, func(tx hebao.Tx) error {
		src, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, MayGoNegative: true})
		if err != nil {
			return err
		}
		if err := tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(src.ID, s.user.Wallet.Account, hebao.CNY, 12_345)}); err != nil {
			return err
		}
		if err := tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(src.ID, s.user.Wallet.PromoAccount, hebao.CNY, 888)}); err != nil {
			return err
		}
		for i := range 3 {
			m := hebao.Movement{ID: hebao.NewID("mov"), WalletID: wal, CustomerID: cus, Kind: hebao.MovementTopup, Status: hebao.MovementSucceeded,
				Amount: int64(100 * (i + 1)), CreatedAt: tx.Now(), UpdatedAt: tx.Now()}
			if err := tx.CreateMovement(ctx, m); err != nil {
				return err
			}
			ids = append(ids, m.ID)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	look := func(action, via string) hebao.AuditRecord {
		t.Helper()
		rec := s.lastAudit(t)
		if rec.Action != action || rec.Actor != (hebao.Actor{Kind: hebao.ActorStaff, ID: agent.ID}) || rec.Subject != cus ||
			rec.RequestID != "req_look" || rec.Detail["wallet_id"] != wal || (via != "" && rec.Detail["via"] != via) {
			t.Errorf("audit %+v, want %s by %s of %s via %q", rec, action, agent.ID, cus, via)
		}
		return rec
	}

	v, err := s.ws.LookupByPhone(ctx, agent, phone)
	if err != nil {
		t.Fatal(err)
	}
	want := hebao.CustomerView{Customer: hebao.Customer{ID: cus, Phone: "138****8000", CreatedAt: s.user.Customer.CreatedAt},
		Wallet: v.Wallet, Balance: 12_345, PromoBalance: 888, PaymentPassword: hebao.PaymentPasswordNotSet}
	if d := cmp.Diff(want, v); d != "" {
		t.Errorf("look-up by phone (-want +got):\n%s", d)
	}
	look(hebao.ActionWalletView, "phone")
	if v, err := s.ws.LookupByID(ctx, agent, cus); err != nil || v.Wallet.ID != wal {
		t.Fatalf("look-up by id: %+v, %v", v, err)
	}
	look(hebao.ActionWalletView, "id")
	n := len(s.store.Audit())
	if _, err := s.ws.LookupByID(ctx, agent, hebao.NewID("cus")); hebao.ErrorCode(err) != hebao.CodeNotFound {
		t.Errorf("unknown customer: %v", err)
	}

	// History: newest first, in pages, each page a record.
	page, err := s.ws.History(ctx, agent, wal, "", 2)
	if err != nil || len(page) != 2 || page[0].ID != ids[2] || page[1].ID != ids[1] {
		t.Fatalf("first page: %+v, %v", page, err)
	}
	if rec := look(hebao.ActionWalletHistory, ""); rec.Detail["cursor"] != "" {
		t.Errorf("first page audited with cursor %q", rec.Detail["cursor"])
	}
	page, err = s.ws.History(ctx, agent, wal, page[1].ID, 2)
	if err != nil || len(page) != 1 || page[0].ID != ids[0] {
		t.Fatalf("second page: %+v, %v", page, err)
	}
	if rec := look(hebao.ActionWalletHistory, ""); rec.Detail["cursor"] != ids[1] {
		t.Errorf("second page audited with cursor %q, want %s", rec.Detail["cursor"], ids[1])
	}
	for _, tt := range []struct {
		name, wallet, before string
		limit                int
		code                 string
	}{
		{"malformed wallet", "wal_x", "", 2, hebao.CodeInvalidRequest},
		{"unknown wallet", hebao.NewID("wal"), "", 2, hebao.CodeNotFound},
		{"bad cursor", wal, "x", 2, hebao.CodeInvalidRequest},
		{"no limit", wal, "", 0, hebao.CodeInvalidRequest},
		{"limit too big", wal, "", 102, hebao.CodeInvalidRequest},
	} {
		if _, err := s.ws.History(ctx, agent, tt.wallet, tt.before, tt.limit); hebao.ErrorCode(err) != tt.code {
			t.Errorf("%s: %v, want %s", tt.name, err, tt.code)
		}
	}
	if got := len(s.store.Audit()) - n; got != 2 {
		t.Errorf("%d records for the two pages and the refused looks, want 2 (only what was shown)", got)
	}
}
