package hebao_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

var cli = hebao.Actor{Kind: hebao.ActorSystem, ID: "hebao staff add"}

const staffPassword = "a long staff password"

func TestStaffAdd(t *testing.T) {
	f := newFixture()
	ctx := t.Context()
	tests := []struct {
		name, username, password string
		role                     hebao.StaffRole
		code                     string
	}{
		{"admin", "alice", staffPassword, hebao.RoleAdmin, ""},
		{"agent", "bob.w_2-x", staffPassword, hebao.RoleAgent, ""},
		{"taken", "alice", staffPassword, hebao.RoleAgent, "conflict"},
		{"short password", "carol", "elevenchars", hebao.RoleAgent, "invalid_request"},
		{"bad role", "carol", staffPassword, "root", "invalid_request"},
		{"upper case", "Carol", staffPassword, hebao.RoleAgent, "invalid_request"},
		{"too short", "ca", staffPassword, hebao.RoleAgent, "invalid_request"},
		{"digit first", "1carol", staffPassword, hebao.RoleAgent, "invalid_request"},
		{"colon", "car:ol", staffPassword, hebao.RoleAgent, "invalid_request"},
	}
	for _, tt := range tests {
		st, err := f.staff.Add(ctx, cli, tt.username, tt.password, tt.role)
		wantCode(t, tt.name, err, tt.code)
		if err == nil && (!hebao.ValidID("stf", st.ID) || st.Role != tt.role || strings.Contains(st.PasswordHash, tt.password)) {
			t.Errorf("%s: staff %+v", tt.name, st)
		}
	}
	if diff := cmp.Diff([]string{hebao.ActionStaffAdd, hebao.ActionStaffAdd}, f.actions()); diff != "" {
		t.Errorf("audit (-want +got):\n%s", diff)
	}
	if got := f.store.Audit()[0]; got.Actor != cli || got.Detail["username"] != "alice" || got.Detail["role"] != "admin" {
		t.Errorf("audit record %+v", got)
	}
}

func TestStaffLogin(t *testing.T) {
	f := newFixture()
	ctx := hebao.WithRequestID(t.Context(), "req-staff")
	admin, err := f.staff.Add(ctx, cli, "alice", staffPassword, hebao.RoleAdmin)
	if err != nil {
		t.Fatal(err)
	}
	in, err := f.staff.Login(ctx, "alice", staffPassword)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(in.Token, "hbs_") || in.Staff.ID != admin.ID || in.Staff.Role != hebao.RoleAdmin {
		t.Errorf("signed in %+v", in)
	}
	_, e1 := f.staff.Login(ctx, "alice", "the wrong password")
	_, e2 := f.staff.Login(ctx, "nobody", staffPassword)
	wantCode(t, "wrong password", e1, hebao.CodeUnauthenticated)
	if e1 == nil || e2 == nil || e1.Error() != e2.Error() {
		t.Errorf("wrong password: %v; unknown username: %v; want the same", e1, e2)
	}
	_, err = f.staff.Login(ctx, "", staffPassword)
	wantCode(t, "no username", err, hebao.CodeInvalidRequest)

	// Throttled per username like customers per phone.
	for range 4 {
		f.staff.Login(ctx, "alice", "the wrong password")
	}
	_, err = f.staff.Login(ctx, "alice", staffPassword)
	wantCode(t, "after 5 wrong", err, hebao.CodeRateLimited)
	f.clock.Add(hebao.LoginFailureWindow)
	if _, err := f.staff.Login(ctx, "alice", staffPassword); err != nil {
		t.Fatalf("after the window: %v", err)
	}

	// The token, its idle expiry of 12 hours, and the principal it makes.
	st, _, err := f.staff.Authenticate(ctx, in.Token)
	if err != nil || st.ID != admin.ID {
		t.Fatalf("Authenticate = %+v, %v", st, err)
	}
	p, err := f.auth.Authenticate(ctx, in.Token)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.AsStaff(hebao.RoleAdmin); err != nil {
		t.Errorf("admin as admin: %v", err)
	}
	f.clock.Add(hebao.StaffSessionIdle)
	_, _, err = f.staff.Authenticate(ctx, in.Token)
	wantCode(t, "after 12 hours unused", err, hebao.CodeUnauthenticated)

	var rec hebao.AuditRecord
	for _, r := range f.store.Audit() {
		if r.Action == hebao.ActionStaffLogin {
			rec = r
			break
		}
	}
	if rec.Actor != (hebao.Actor{Kind: hebao.ActorStaff, ID: admin.ID}) || rec.RequestID != "req-staff" {
		t.Errorf("staff login audit %+v", rec)
	}
}

// TestAuthenticator resolves both kinds of token; the role checks are TestRoles'.
func TestAuthenticator(t *testing.T) {
	f := newFixture()
	ctx := t.Context()
	r := f.register(t, phone, "dev-a")
	f.staff.Add(ctx, cli, "alice", staffPassword, hebao.RoleAgent)
	in, err := f.staff.Login(ctx, "alice", staffPassword)
	if err != nil {
		t.Fatal(err)
	}
	p, err := f.auth.Authenticate(ctx, r.Token)
	if err != nil || p.Customer == nil || p.Customer.CustomerID != r.Customer.ID || p.Staff != nil {
		t.Errorf("customer token: %+v, %v", p, err)
	}
	p, err = f.auth.Authenticate(ctx, in.Token)
	if err != nil || p.Staff == nil || p.Staff.Username != "alice" || p.Customer != nil {
		t.Errorf("staff token: %+v, %v", p, err)
	}
	for _, tok := range []string{"", "Bearer " + r.Token, "mk_123", r.Token[:20], "hbs_" + strings.Repeat("A", 43)} {
		_, err := f.auth.Authenticate(ctx, tok)
		wantCode(t, "token "+tok, err, hebao.CodeUnauthenticated)
	}
}

func TestStaffLogout(t *testing.T) {
	f := newFixture()
	ctx := t.Context()
	st, err := f.staff.Add(ctx, cli, "alice", staffPassword, hebao.RoleAgent)
	if err != nil {
		t.Fatal(err)
	}
	desk, err := f.staff.Login(ctx, "alice", staffPassword)
	if err != nil {
		t.Fatal(err)
	}
	other, err := f.staff.Login(ctx, "alice", staffPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := f.staff.Logout(ctx, desk.Staff, desk.Session); err != nil {
		t.Fatal(err)
	}
	_, _, err = f.staff.Authenticate(ctx, desk.Token)
	wantCode(t, "signed-out token", err, hebao.CodeUnauthenticated)
	if _, _, err := f.staff.Authenticate(ctx, other.Token); err != nil {
		t.Errorf("the other desk's token: %v", err)
	}
	a := f.store.Audit()
	if got := a[len(a)-1]; got.Action != hebao.ActionStaffLogout || got.Actor != (hebao.Actor{Kind: hebao.ActorStaff, ID: st.ID}) || got.Detail["username"] != "alice" {
		t.Errorf("audit record %+v", got)
	}
}

func TestAuditList(t *testing.T) {
	f := newFixture()
	ctx := t.Context()
	for _, u := range []string{"user1", "user2", "user3", "user4", "user5"} {
		if _, err := f.staff.Add(ctx, cli, u, staffPassword, hebao.RoleAgent); err != nil {
			t.Fatal(err)
		}
		f.clock.Add(time.Second)
	}
	var seen []string
	cursor, pages := "", 0
	for {
		page, err := f.audit.List(ctx, 2, cursor)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, r := range page.Records {
			seen = append(seen, r.Detail["username"])
		}
		if page.Next == "" {
			break
		}
		cursor = page.Next
	}
	if diff := cmp.Diff([]string{"user5", "user4", "user3", "user2", "user1"}, seen); diff != "" || pages != 3 {
		t.Errorf("%d pages, newest first (-want +got):\n%s", pages, diff)
	}
	all, _ := f.audit.List(ctx, 5, "")
	if all.Next != "" || len(all.Records) != 5 {
		t.Errorf("a page holding everything: %d records, next %q", len(all.Records), all.Next)
	}
	for _, c := range []string{"nope", "djEuMA", "djEuLTE", "djEueA", "djEuMDEy", "bm9wZS4x", "!!"} {
		_, err := f.audit.List(ctx, 2, c)
		wantCode(t, "cursor "+c, err, hebao.CodeInvalidRequest)
	}
	for _, n := range []int{0, 101, -1} {
		_, err := f.audit.List(ctx, n, "")
		wantCode(t, "limit", err, hebao.CodeInvalidRequest)
	}
}
