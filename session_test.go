package hebao_test

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

func TestCheckLoginThrottle(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
	min := func(ms ...float64) []time.Time {
		var out []time.Time
		for _, m := range ms {
			out = append(out, t0.Add(time.Duration(m*float64(time.Minute))))
		}
		return out
	}
	tests := []struct {
		name     string
		failures []time.Time
		now      float64 // minutes after t0
		wait     string  // "" when not limited, else the detail's wait
	}{
		{name: "none", now: 0},
		{name: "four", failures: min(0, 1, 2, 3), now: 3},
		{name: "five in a minute", failures: min(0, 0.25, 0.5, 0.75, 1), now: 1, wait: "900 seconds"},
		{name: "five, out of order", failures: min(1, 0.5, 0, 0.75, 0.25), now: 2, wait: "840 seconds"},
		{name: "until 15 minutes after the fifth", failures: min(0, 1, 2, 3, 4), now: 18.99, wait: "1 second"},
		{name: "over at 15 minutes after the fifth", failures: min(0, 1, 2, 3, 4), now: 19},
		{name: "five spread over exactly 15 minutes", failures: min(0, 5, 10, 14, 15), now: 16, wait: "840 seconds"},
		{name: "five spread over more than 15 minutes", failures: min(0, 5, 10, 14, 15.5), now: 16},
		{name: "a sixth after the block starts a new count", failures: min(0, 1, 2, 3, 4, 19), now: 19.5},
		{name: "four more after the block", failures: min(0, 1, 2, 3, 4, 19, 20, 21, 22), now: 22},
		{name: "five more after the block", failures: min(0, 1, 2, 3, 4, 19, 20, 21, 22, 23), now: 23, wait: "900 seconds"},
		{name: "an old block is over", failures: min(0, 1, 2, 3, 4, 40), now: 41},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			now := t0.Add(time.Duration(tt.now * float64(time.Minute)))
			err := hebao.CheckLoginThrottle(tt.failures, now)
			if tt.wait == "" {
				if err != nil {
					t.Fatalf("limited: %v", err)
				}
				return
			}
			wantCode(t, "throttle", err, hebao.CodeRateLimited)
			if err != nil && !strings.HasSuffix(hebao.ErrorOf(err).Message, "try again in "+tt.wait) {
				t.Errorf("detail %q, want it to end with a wait of %s", hebao.ErrorOf(err).Message, tt.wait)
			}
		})
	}
}

func TestIdle(t *testing.T) {
	t0 := time.Date(2026, 3, 2, 4, 0, 0, 0, time.UTC)
	tests := []struct {
		idle  time.Duration
		after time.Duration
		want  bool
	}{
		{hebao.SessionIdle, 0, false},
		{hebao.SessionIdle, 30*24*time.Hour - time.Microsecond, false},
		{hebao.SessionIdle, 30 * 24 * time.Hour, true},
		{hebao.StaffSessionIdle, 12*time.Hour - time.Second, false},
		{hebao.StaffSessionIdle, 12 * time.Hour, true},
	}
	for _, tt := range tests {
		if got := hebao.Idle(t0, tt.idle, t0.Add(tt.after)); got != tt.want {
			t.Errorf("Idle(idle %v, %v later) = %v, want %v", tt.idle, tt.after, got, tt.want)
		}
	}
}

func TestValidateDeviceID(t *testing.T) {
	for id, code := range map[string]string{
		"ios-5f2b8c1e-7d3a-4e6b-9c0d": "",
		"a":                           "",
		strings.Repeat("d", 128):      "",
		"":                            "invalid_request",
		strings.Repeat("d", 129):      "invalid_request",
		"with space":                  "invalid_request",
		"tab\there":                   "invalid_request",
		"设备":                          "invalid_request",
	} {
		wantCode(t, "ValidateDeviceID("+id+")", hebao.ValidateDeviceID(id), code)
	}
}

func TestRoles(t *testing.T) {
	tests := []struct {
		role, needs hebao.StaffRole
		want        bool
	}{
		{hebao.RoleAdmin, hebao.RoleAdmin, true},
		{hebao.RoleAdmin, hebao.RoleAgent, true},
		{hebao.RoleAgent, hebao.RoleAgent, true},
		{hebao.RoleAgent, hebao.RoleAdmin, false},
		{"root", hebao.RoleAgent, false},
	}
	for _, tt := range tests {
		if got := tt.role.Allows(tt.needs); got != tt.want {
			t.Errorf("%s.Allows(%s) = %v, want %v", tt.role, tt.needs, got, tt.want)
		}
	}

	customer := hebao.Principal{Customer: &hebao.Session{ID: "ses_1", CustomerID: "cus_1"}}
	agent := hebao.Principal{Staff: &hebao.Staff{ID: "stf_1", Role: hebao.RoleAgent}}
	admin := hebao.Principal{Staff: &hebao.Staff{ID: "stf_2", Role: hebao.RoleAdmin}}
	for _, tt := range []struct {
		name string
		p    hebao.Principal
		call func(hebao.Principal) error
		code string
	}{
		{"customer as customer", customer, asCustomer, ""},
		{"agent as customer", agent, asCustomer, "forbidden"},
		{"customer as agent", customer, asStaff(hebao.RoleAgent), "forbidden"},
		{"agent as agent", agent, asStaff(hebao.RoleAgent), ""},
		{"agent as admin", agent, asStaff(hebao.RoleAdmin), "forbidden"},
		{"admin as admin", admin, asStaff(hebao.RoleAdmin), ""},
		{"admin as agent", admin, asStaff(hebao.RoleAgent), ""},
	} {
		wantCode(t, tt.name, tt.call(tt.p), tt.code)
	}
}

func asCustomer(p hebao.Principal) error {
	_, err := p.AsCustomer()
	return err
}

func asStaff(role hebao.StaffRole) func(hebao.Principal) error {
	return func(p hebao.Principal) error {
		_, err := p.AsStaff(role)
		return err
	}
}

// TestDefaultTierLimits holds the table of SPEC §3, in fen.
func TestDefaultTierLimits(t *testing.T) {
	u := hebao.Unlimited
	want := map[int]hebao.Limits{
		4: {BalanceCap: 1_000_000, SinglePayment: 200_000, DailyPayments: 500_000, YearlyPayments: 5_000_000},
		3: {BalanceCap: 2_000_000, SinglePayment: 500_000, DailyPayments: 1_000_000, YearlyPayments: 10_000_000},
		2: {BalanceCap: 50_000_000, SinglePayment: 5_000_000, DailyPayments: 10_000_000, YearlyPayments: u},
		1: {BalanceCap: u, SinglePayment: u, DailyPayments: u, YearlyPayments: u},
	}
	tiers := hebao.DefaultTierLimits()
	got := map[int]hebao.Limits{}
	for tier := 1; tier <= 4; tier++ {
		l, err := tiers.For(tier)
		if err != nil {
			t.Fatal(err)
		}
		got[tier] = l
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("tier table (-want +got):\n%s", diff)
	}
	if err := tiers.Validate(); err != nil {
		t.Error(err)
	}
	for _, tier := range []int{0, 5} {
		if _, err := tiers.For(tier); err == nil {
			t.Errorf("For(%d) succeeded", tier)
		}
	}
	tiers[3].DailyPayments = 0
	if err := tiers.Validate(); err == nil {
		t.Error("a zero limit passed Validate")
	}
}

func TestParsePageSize(t *testing.T) {
	for in, want := range map[string]int{"": 20, "1": 1, "100": 100, "0": -1, "101": -1, "-1": -1, "x": -1, "1.5": -1, " 5": -1} {
		got, err := hebao.ParsePageSize(in)
		if want < 0 {
			wantCode(t, "ParsePageSize("+in+")", err, hebao.CodeInvalidRequest)
		} else if err != nil || got != want {
			t.Errorf("ParsePageSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
}
