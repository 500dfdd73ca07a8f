package http

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
)

// TestAdminStats pays two orders two minutes apart and reads them back per minute.
func TestAdminStats(t *testing.T) {
	acct := newAccounts(t)
	mon := acct.withMoney(t)
	mon.withShop(t)
	acct.cfg.Stats = &hebao.StatsService{Store: acct.store, Now: acct.clock.Now}
	mon.s = newTestServer(t, acct.cfg)
	p := mon.payer(t, "15000150000", "110101198001011232", "6222026000070007")
	mon.fund(t, p, 10_000)
	mch := mon.merchant(t, "荷包咖啡")
	mon.pay(t, p.Token, mon.order(t, mch.APIKey, "stats-1", 100, "").ID, "st-pay-1")
	acct.clock.Add(2 * time.Minute)
	mon.pay(t, p.Token, mon.order(t, mch.APIKey, "stats-2", 250, "").ID, "st-pay-2")

	rec := mon.s.do(t, "GET", "/v1/admin/stats?minutes=3", bearerHeader(acct.admin), "")
	if rec.Code != 200 {
		t.Fatalf("stats: %d %s", rec.Code, rec.Body)
	}
	var got struct {
		From, To      time.Time
		Count, Amount int64
		Minutes       []struct {
			Start         time.Time
			Count, Amount int64
		}
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	last := acct.clock.Now().UTC().Truncate(time.Minute)
	if !got.From.Equal(last.Add(-2*time.Minute)) || !got.To.Equal(last.Add(time.Minute)) || got.Count != 2 || got.Amount != 350 {
		t.Errorf("window %s to %s, %d payments of %d fen; want %s to %s, 2 of 350", got.From, got.To, got.Count, got.Amount,
			last.Add(-2*time.Minute), last.Add(time.Minute))
	}
	var counts, amounts []int64
	for i, m := range got.Minutes {
		if !m.Start.Equal(got.From.Add(time.Duration(i) * time.Minute)) {
			t.Errorf("minute %d starts at %s", i, m.Start)
		}
		counts, amounts = append(counts, m.Count), append(amounts, m.Amount)
	}
	if d := cmp.Diff([]int64{1, 0, 1}, counts); d != "" {
		t.Errorf("counts (-want +got):\n%s", d)
	}
	if d := cmp.Diff([]int64{100, 0, 250}, amounts); d != "" {
		t.Errorf("amounts (-want +got):\n%s", d)
	}

	for _, tt := range []struct {
		target string
		token  string
		status int
	}{
		{"/v1/admin/stats", acct.admin, 200},
		{"/v1/admin/stats?minutes=0", acct.admin, 400},
		{"/v1/admin/stats?minutes=1441", acct.admin, 400},
		{"/v1/admin/stats?minutes=ten", acct.admin, 400},
		{"/v1/admin/stats", acct.agent, 403},
		{"/v1/admin/stats", p.Token, 403},
	} {
		if rec := mon.s.do(t, "GET", tt.target, bearerHeader(tt.token), ""); rec.Code != tt.status {
			t.Errorf("GET %s: %d, want %d: %s", tt.target, rec.Code, tt.status, rec.Body)
		}
	}
}
