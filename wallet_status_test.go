package hebao_test

import (
	"context"
	"testing"

	"github.com/hebaopay/hebao"
)

func TestNextWalletStatus(t *testing.T) {
	const (
		A, F, C = hebao.WalletActive, hebao.WalletFrozen, hebao.WalletClosed
		ok      = ""
	)
	for _, tt := range []struct {
		from hebao.WalletStatus
		ev   hebao.WalletEvent
		want hebao.WalletStatus
		code string
	}{
		{A, hebao.EventFreeze, F, ok},
		{A, hebao.EventUnfreeze, "", hebao.CodeConflict},
		{A, hebao.EventClose, C, ok},
		{F, hebao.EventFreeze, "", hebao.CodeConflict},
		{F, hebao.EventUnfreeze, A, ok},
		{F, hebao.EventClose, C, ok},
		{C, hebao.EventFreeze, "", hebao.CodeConflict},
		{C, hebao.EventUnfreeze, "", hebao.CodeConflict},
		{C, hebao.EventClose, "", hebao.CodeConflict},
		{A, "melt", "", hebao.CodeInvalidRequest},
		{"gone", hebao.EventFreeze, "", hebao.CodeInvalidRequest},
	} {
		got, err := hebao.NextWalletStatus(tt.from, tt.ev)
		if got != tt.want || hebao.ErrorCode(err) != tt.code {
			t.Errorf("NextWalletStatus(%s, %s) = %q, %v; want %q, %q", tt.from, tt.ev, got, err, tt.want, tt.code)
		}
	}
}

func TestCanPay(t *testing.T) {
	for st, code := range map[hebao.WalletStatus]string{
		hebao.WalletActive: "", hebao.WalletFrozen: hebao.CodeWalletFrozen, hebao.WalletClosed: hebao.CodeWalletFrozen,
	} {
		if got := hebao.ErrorCode(hebao.CanPay(hebao.Wallet{Status: st})); got != code {
			t.Errorf("CanPay(%s) = %q, want %q", st, got, code)
		}
	}
	if hebao.Errorf(hebao.CodeWalletNotEmpty, "x").Kind != hebao.KindRejected {
		t.Errorf("wallet_not_empty is not a 422")
	}
}

type statusFixture struct {
	*fixture
	ws   *hebao.WalletStatusService
	user hebao.Registered
}

func newStatusFixture(t *testing.T, realNamed bool) *statusFixture {
	f := newFixture()
	keys := keyring(t)
	s := &statusFixture{fixture: f, ws: &hebao.WalletStatusService{Store: f.store, Keys: keys, OTP: f.otp, Now: f.clock.Now}}
	s.user = f.register(t, phone, "dev-a")
	if realNamed {
		ids := &hebao.IdentityService{Store: f.store, Keys: keys, Now: f.clock.Now}
		if _, err := ids.SetRealName(t.Context(), s.user.Customer.ID, realName, idNumber); err != nil {
			t.Fatal(err)
		}
	}
	return s
}

func (s *statusFixture) status(t *testing.T) hebao.WalletStatus {
	t.Helper()
	v, err := s.wallets.Get(t.Context(), s.user.Customer.ID)
	if err != nil {
		t.Fatal(err)
	}
	return v.Wallet.Status
}

func (s *statusFixture) lastAudit(t *testing.T) hebao.AuditRecord {
	t.Helper()
	p, err := s.audit.List(t.Context(), 1, "")
	if err != nil || len(p.Records) == 0 {
		t.Fatal(err)
	}
	return p.Records[0]
}

func TestFreezeUnfreezeByCustomer(t *testing.T) {
	s := newStatusFixture(t, true)
	ctx := hebao.WithRequestID(t.Context(), "req_1")
	cus := s.user.Customer.ID
	if _, err := s.ws.Freeze(ctx, cus, " "); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
		t.Errorf("no reason: %v", err)
	}
	if _, err := s.ws.Freeze(ctx, cus, "lost my card"); err != nil {
		t.Fatal(err)
	}
	if got := s.status(t); got != hebao.WalletFrozen {
		t.Fatalf("status %s", got)
	}
	rec := s.lastAudit(t)
	if rec.Action != hebao.ActionWalletFreeze || rec.Actor.ID != cus || rec.RequestID != "req_1" || rec.Detail["reason"] != "lost my card" {
		t.Errorf("audit %+v", rec)
	}
	if _, err := s.ws.Freeze(ctx, cus, "again"); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Errorf("freeze twice: %v", err)
	}
	// A wrong ID number spends the code.
	code := s.code(t, phone, hebao.PurposeUnfreeze)
	if _, err := s.ws.Unfreeze(ctx, cus, code, "110101199003074258"); hebao.ErrorCode(err) != hebao.CodeIDNumberInvalid {
		t.Errorf("wrong ID number: %v", err)
	}
	if _, err := s.ws.Unfreeze(ctx, cus, code, idNumber); hebao.ErrorCode(err) != hebao.CodeOTPInvalid {
		t.Errorf("spent code: %v", err)
	}
	if _, err := s.ws.Unfreeze(ctx, cus, s.code(t, phone, hebao.PurposeStepUp), idNumber); hebao.ErrorCode(err) != hebao.CodeOTPInvalid {
		t.Errorf("code of another purpose: %v", err)
	}
	if _, err := s.ws.Unfreeze(ctx, cus, s.code(t, phone, hebao.PurposeUnfreeze), idNumber); err != nil {
		t.Fatal(err)
	}
	if got := s.status(t); got != hebao.WalletActive {
		t.Fatalf("status %s", got)
	}
	if rec := s.lastAudit(t); rec.Action != hebao.ActionWalletUnfreeze {
		t.Errorf("audit %+v", rec)
	}
	if _, err := s.ws.Unfreeze(ctx, cus, s.code(t, phone, hebao.PurposeUnfreeze), idNumber); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Errorf("unfreeze an active wallet: %v", err)
	}
}

func TestFreezeByPhone(t *testing.T) {
	s := newStatusFixture(t, false)
	ctx := t.Context()
	if _, err := s.ws.FreezeByPhone(ctx, phone, "000000", "stolen"); hebao.ErrorCode(err) != hebao.CodeOTPInvalid {
		t.Errorf("wrong code: %v", err)
	}
	if _, err := s.ws.FreezeByPhone(ctx, phone, s.code(t, phone, hebao.PurposeLogin), "stolen"); hebao.ErrorCode(err) != hebao.CodeOTPInvalid {
		t.Errorf("login code: %v", err)
	}
	if _, err := s.ws.FreezeByPhone(ctx, phone, s.code(t, phone, hebao.PurposeStepUp), "stolen"); err != nil {
		t.Fatal(err)
	}
	if got := s.status(t); got != hebao.WalletFrozen {
		t.Fatalf("status %s", got)
	}
	if rec := s.lastAudit(t); rec.Actor.ID != s.user.Customer.ID || rec.Detail["via"] != "sms_code" {
		t.Errorf("audit %+v", rec)
	}
	// No real name: the holder cannot unfreeze; an agent can.
	if _, err := s.ws.Unfreeze(ctx, s.user.Customer.ID, "123456", idNumber); hebao.ErrorCode(err) != hebao.CodeRealNameRequired {
		t.Errorf("unfreeze without real name: %v", err)
	}
	agent := hebao.Staff{ID: "stf_agent", Role: hebao.RoleAgent}
	if _, err := s.ws.AgentUnfreeze(ctx, agent, s.user.Wallet.ID, ""); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
		t.Errorf("no identity check: %v", err)
	}
	if _, err := s.ws.AgentUnfreeze(ctx, agent, s.user.Wallet.ID, "video call, face matched"); err != nil {
		t.Fatal(err)
	}
	rec := s.lastAudit(t)
	if rec.Actor != (hebao.Actor{Kind: hebao.ActorStaff, ID: "stf_agent"}) || rec.Detail["identity_check"] != "video call, face matched" {
		t.Errorf("audit %+v", rec)
	}
}

func TestCloseWallet(t *testing.T) {
	s := newStatusFixture(t, false)
	ctx := t.Context()
	cus := s.user.Customer.ID
	fund := func(amount int64) {
		t.Helper()
		err := s.store.Transact(ctx, func(tx hebao.Tx) error {
			src, err := tx.CreateAccount(ctx, hebao.Account{Kind: hebao.AccountTest, Unit: hebao.CNY, MayGoNegative: true})
			if err != nil {
				return err
			}
			return tx.Post(ctx, &hebao.Transfer{ID: hebao.NewID("tr"), Kind: hebao.TransferTest, Postings: hebao.Move(src.ID, s.user.Wallet.PromoAccount, hebao.CNY, amount)})
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	fund(1)
	if _, err := s.ws.Close(ctx, cus); hebao.ErrorCode(err) != hebao.CodeWalletNotEmpty {
		t.Fatalf("close with red-packet money: %v", err)
	}
	if _, err := s.auth(ctx, s.user.Token); err != nil {
		t.Fatalf("a refused close ended the session: %v", err)
	}
	fund(-1)
	if _, err := s.ws.Close(ctx, cus); err != nil {
		t.Fatal(err)
	}
	if got := s.status(t); got != hebao.WalletClosed {
		t.Fatalf("status %s", got)
	}
	if _, err := s.auth(ctx, s.user.Token); hebao.ErrorCode(err) != hebao.CodeUnauthenticated {
		t.Errorf("session after close: %v", err)
	}
	if _, err := s.ws.Freeze(ctx, cus, "x"); hebao.ErrorCode(err) != hebao.CodeConflict {
		t.Errorf("freeze a closed wallet: %v", err)
	}
}

func (s *statusFixture) auth(ctx context.Context, tok string) (hebao.Session, error) {
	return s.customers.Authenticate(ctx, tok)
}

func TestAgentAndAdmin(t *testing.T) {
	s := newStatusFixture(t, false)
	ctx := t.Context()
	agent := hebao.Staff{ID: "stf_agent", Role: hebao.RoleAgent}
	v, err := s.ws.LookupByPhone(ctx, agent, phone)
	if err != nil || v.Wallet.ID != s.user.Wallet.ID || v.Customer.ID != s.user.Customer.ID {
		t.Fatalf("lookup: %+v, %v", v, err)
	}
	if _, err := s.ws.LookupByPhone(ctx, agent, "13900139000"); hebao.ErrorCode(err) != hebao.CodeNotFound {
		t.Errorf("unknown phone: %v", err)
	}
	if _, err := s.ws.LookupByID(ctx, agent, "cus_x"); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
		t.Errorf("malformed id: %v", err)
	}
	if _, err := s.ws.LookupByID(ctx, agent, hebao.NewID("cus")); hebao.ErrorCode(err) != hebao.CodeNotFound {
		t.Errorf("unknown id: %v", err)
	}
	if _, err := s.ws.AgentFreeze(ctx, agent, hebao.NewID("wal"), "x"); hebao.ErrorCode(err) != hebao.CodeNotFound {
		t.Errorf("unknown wallet: %v", err)
	}
	if _, err := s.ws.AgentFreeze(ctx, agent, s.user.Wallet.ID, "called in"); err != nil {
		t.Fatal(err)
	}
	if rec := s.lastAudit(t); rec.Actor.Kind != hebao.ActorStaff || rec.Detail["reason"] != "called in" {
		t.Errorf("audit %+v", rec)
	}
	w, err := s.ws.SetTier(ctx, hebao.Staff{ID: "stf_admin", Role: hebao.RoleAdmin}, s.user.Wallet.ID, 1)
	if err != nil || w.Tier != 1 {
		t.Fatalf("set tier: %+v, %v", w, err)
	}
	if _, err := s.ws.SetTier(ctx, agent, s.user.Wallet.ID, 0); hebao.ErrorCode(err) != hebao.CodeInvalidRequest {
		t.Errorf("tier 0: %v", err)
	}
	if rec := s.lastAudit(t); rec.Action != hebao.ActionWalletTier || rec.Detail["tier"] != "1" || rec.Detail["tier_from"] != "4" {
		t.Errorf("audit %+v", rec)
	}
}
