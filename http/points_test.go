package http

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/hebaopay/hebao"
	"github.com/hebaopay/hebao/notify"
)

// withPoints adds the points service to m's configuration and server.
func (m *money) withPoints(t *testing.T) {
	t.Helper()
	m.cfg.Points = &hebao.PointsService{Store: m.store, Tiers: hebao.DefaultTierLimits(), Now: m.clock.Now, Committed: m.disp.Wake}
	m.s = newTestServer(t, m.cfg)
}

// pointsPage is GET /v1/points as a client reads it.
type pointsPage struct {
	Balance int64 `json:"balance"`
	Buckets []struct {
		Year      int       `json:"year"`
		Earned    int64     `json:"earned"`
		Remaining int64     `json:"remaining"`
		ExpiresAt time.Time `json:"expires_at"`
	} `json:"buckets"`
	History []struct {
		Seq        int64  `json:"seq"`
		TransferID string `json:"transfer_id"`
		Kind       string `json:"kind"`
		Ref        string `json:"ref"`
		Amount     int64  `json:"amount"`
	} `json:"history"`
	NextBefore *int64 `json:"next_before"`
	Offers     []struct {
		CampaignID   string                `json:"campaign_id"`
		CampaignName string                `json:"campaign_name"`
		Kind         string                `json:"kind"`
		Points       int64                 `json:"points"`
		Fen          int64                 `json:"fen"`
		Coupon       *hebao.CouponTemplate `json:"coupon"`
		Index        *int                  `json:"index"`
		Left         *int                  `json:"left"`
	} `json:"offers"`
}

// points reads the points of the customer with token.
func (m *money) points(t *testing.T, token, query string) pointsPage {
	t.Helper()
	rec := m.s.do(t, "GET", "/v1/points"+query, bearerHeader(token), "")
	var p pointsPage
	if rec.Code != 200 || json.Unmarshal(rec.Body.Bytes(), &p) != nil {
		t.Fatalf("GET /v1/points%s: %d %s", query, rec.Code, rec.Body)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != "no-store" {
		t.Errorf("GET /v1/points: Cache-Control %q, want no-store", cc)
	}
	return p
}

// redemption is what POST /v1/points/redeem answers.
type redemption struct {
	ID          string    `json:"id"`
	Kind        string    `json:"kind"`
	Points      int64     `json:"points"`
	Cash        int64     `json:"cash"`
	CouponID    string    `json:"coupon_id"`
	PointsAfter int64     `json:"points_after"`
	CreatedAt   time.Time `json:"created_at"`
}

// redeem posts a redemption with the Idempotency-Key key and returns the status,
// the body, and the answer decoded when it is a 201.
func (m *money) redeem(t *testing.T, token, key, b string) (int, string, redemption) {
	t.Helper()
	out := m.post(t, token, "/v1/points/redeem", key, b).String()
	status, rest, _ := strings.Cut(out, " ")
	var r redemption
	if status == "201" {
		if err := json.Unmarshal([]byte(rest), &r); err != nil {
			t.Fatalf("redeem: %v: %s", err, out)
		}
		return 201, rest, r
	}
	var p struct{ Status int }
	json.Unmarshal([]byte(rest), &p)
	return p.Status, rest, r
}

// pointsCampaign has the admin create a running campaign: payments earn 2 points
// a yuan; 10 points buy ¥1.00, 5 points a ¥3.00 coupon, once per customer.
func (m *money) pointsCampaign(t *testing.T) string {
	t.Helper()
	rec := m.s.do(t, "POST", "/v1/admin/campaigns", authJSON(m.admin), `{"name": "双倍积分", "starts_at": "2026-03-01T00:00:00Z",
		"ends_at": "2026-04-01T00:00:00Z", "budget": 10000, "rules": {"points_per_yuan": 2, "points_cash": {"points": 10, "fen": 100},
		"points_coupons": [{"points": 5, "coupon": {"kind": "fixed", "off": 300, "valid_days": 7}, "per_customer": 1}]}}`)
	var c struct {
		ID    string          `json:"id"`
		Rules json.RawMessage `json:"rules"`
	}
	if rec.Code != 201 || json.Unmarshal(rec.Body.Bytes(), &c) != nil {
		t.Fatalf("create campaign: %d %s", rec.Code, rec.Body)
	}
	want := `{"opening_red_packet":0,"points_per_yuan":2,"points_cash":{"points":10,"fen":100},` +
		`"points_coupons":[{"points":5,"coupon":{"kind":"fixed","off":300,"valid_days":7},"per_customer":1}]}`
	if string(c.Rules) != want {
		t.Errorf("campaign rules:\n got %s\nwant %s", c.Rules, want)
	}
	rec = m.s.do(t, "GET", "/v1/admin/campaigns/"+c.ID, bearerHeader(m.admin), "")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), `"rules":`+want) {
		t.Errorf("GET campaign: %d %s", rec.Code, rec.Body)
	}
	return c.ID
}

func TestPoints(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	m.withPoints(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	bob := m.payer(t, "13700137000", testIDNumber2, cardBob)
	m.fund(t, alice, 10_000)
	m.fund(t, bob, 10_000)
	cmpID := m.pointsCampaign(t)
	shop := m.merchant(t, "荷包咖啡")

	// Nothing paid yet: no points, but the offers are there.
	if p := m.points(t, alice.Token, ""); p.Balance != 0 || len(p.Buckets) != 0 || len(p.History) != 0 || p.NextBefore != nil || len(p.Offers) != 2 {
		t.Fatalf("alice before paying: %+v", p)
	}

	// Alice pays ¥12.34 from her balance: 12 whole yuan at the campaign's 2 a yuan.
	o := m.order(t, shop.APIKey, "points-1", 1234, "")
	m.pay(t, alice.Token, o.ID, "pt-pay-1")
	p := m.points(t, alice.Token, "")
	if p.Balance != 24 || len(p.History) != 1 || p.History[0].Kind != "points_earn" || p.History[0].Ref != o.ID ||
		p.History[0].Amount != 24 || !hebao.ValidID("trf", p.History[0].TransferID) || p.NextBefore != nil {
		t.Fatalf("alice after paying: %+v", p)
	}
	if len(p.Buckets) != 1 || p.Buckets[0].Year != 2026 || p.Buckets[0].Earned != 24 || p.Buckets[0].Remaining != 24 ||
		!p.Buckets[0].ExpiresAt.Equal(time.Date(2027, 12, 31, 16, 0, 0, 0, time.UTC)) {
		t.Errorf("alice's buckets: %+v", p.Buckets)
	}
	zero, one := 0, 1
	type offer struct {
		Kind         string
		Campaign     string
		Points, Fen  int64
		Coupon       *hebao.CouponTemplate
		Index, Left  *int
		CampaignName string
	}
	var offers []offer
	for _, o := range p.Offers {
		offers = append(offers, offer{o.Kind, o.CampaignID, o.Points, o.Fen, o.Coupon, o.Index, o.Left, o.CampaignName})
	}
	wantOffers := []offer{
		{"cash", cmpID, 10, 100, nil, nil, nil, "双倍积分"},
		{"coupon", cmpID, 5, 0, &hebao.CouponTemplate{Kind: hebao.CouponFixed, Off: 300, ValidDays: 7}, &zero, &one, "双倍积分"},
	}
	if d := cmp.Diff(wantOffers, offers); d != "" {
		t.Errorf("offers (-want +got):\n%s", d)
	}

	// Bob sees his own points, and Alice's stay hers.
	if p := m.points(t, bob.Token, ""); p.Balance != 0 || len(p.History) != 0 || len(p.Buckets) != 0 {
		t.Errorf("bob sees %+v", p)
	}
	m.pay(t, bob.Token, m.order(t, shop.APIKey, "points-2", 500, "").ID, "pt-pay-2")
	if p := m.points(t, bob.Token, ""); p.Balance != 10 || len(p.History) != 1 || p.History[0].Amount != 10 {
		t.Errorf("bob after paying: %+v", p)
	}
	if p := m.points(t, alice.Token, ""); p.Balance != 24 || len(p.History) != 1 {
		t.Errorf("alice after bob paid: %+v", p)
	}

	// Cash: 20 points for ¥2.00, into the balance from the campaign's budget.
	before := m.balance(t, alice.Token)
	cash := body(map[string]any{"campaign_id": cmpID, "kind": "cash", "points": 20})
	first := m.post(t, alice.Token, "/v1/points/redeem", "pt-redeem-1", cash).String()
	var red redemption
	if !strings.HasPrefix(first, "201 ") || json.Unmarshal([]byte(first[4:]), &red) != nil {
		t.Fatalf("redeem cash: %s", first)
	}
	if !hebao.ValidID("trf", red.ID) || red.Kind != "cash" || red.Points != 20 || red.Cash != 200 || red.CouponID != "" || red.PointsAfter != 4 ||
		!red.CreatedAt.Equal(m.clock.Now()) {
		t.Errorf("redeem cash: %s", first)
	}
	if got := m.balance(t, alice.Token); got != before+200 {
		t.Errorf("balance after redeeming: %d, want %d", got, before+200)
	}
	// A retry answers the same bytes and does nothing more; another body with the key
	// is refused.
	if again := m.post(t, alice.Token, "/v1/points/redeem", "pt-redeem-1", `{"kind": "cash", "points": 20, "campaign_id": "`+cmpID+`"}`).String(); again != first {
		t.Errorf("retry:\n got %s\nwant %s", again, first)
	}
	status, b, _ := m.redeem(t, alice.Token, "pt-redeem-1", body(map[string]any{"campaign_id": cmpID, "kind": "cash", "points": 10}))
	wantCode(t, "the same key, another body", status, b, 422, "idempotency_key_reused")
	if got, p := m.balance(t, alice.Token), m.points(t, alice.Token, ""); got != before+200 || p.Balance != 4 {
		t.Errorf("after the retries: balance %d, points %d; want %d, 4", got, p.Balance, before+200)
	}
	ids, _ := m.history(t, alice.Token, "?limit=1")
	if len(ids) != 1 || ids[0] != "points_cash:succeeded" {
		t.Errorf("alice's history: %v", ids)
	}

	// A coupon for 5 points, once per customer.
	status, b, _ = m.redeem(t, alice.Token, "pt-redeem-2", body(map[string]any{"campaign_id": cmpID, "kind": "coupon", "coupon": 0}))
	wantCode(t, "a coupon with 4 points", status, b, 422, "insufficient_funds")
	m.pay(t, alice.Token, m.order(t, shop.APIKey, "points-3", 300, "").ID, "pt-pay-3") // 6 more
	status, b, red = m.redeem(t, alice.Token, "pt-redeem-3", body(map[string]any{"campaign_id": cmpID, "kind": "coupon", "coupon": 0}))
	if status != 201 || red.Kind != "coupon" || red.Points != 5 || red.Cash != 0 || !hebao.ValidID("cpn", red.CouponID) || red.PointsAfter != 5 {
		t.Fatalf("redeem coupon: %d %s", status, b)
	}
	var coupons struct{ Items []couponJSON }
	if status, b := m.call(t, "GET", "/v1/coupons", alice.Token, "", &coupons); status != 200 || len(coupons.Items) != 1 ||
		coupons.Items[0].ID != red.CouponID || coupons.Items[0].Off != 300 {
		t.Errorf("alice's coupons: %d %s", status, b)
	}
	status, b, _ = m.redeem(t, alice.Token, "pt-redeem-4", body(map[string]any{"campaign_id": cmpID, "kind": "coupon", "coupon": 0}))
	wantCode(t, "the coupon again", status, b, 422, "promotion_unavailable")
	if p := m.points(t, alice.Token, ""); p.Balance != 5 || len(p.Offers) != 2 || p.Offers[1].Left == nil || *p.Offers[1].Left != 0 {
		t.Errorf("alice after the coupon: %+v", p)
	}
	if p := m.points(t, bob.Token, ""); p.Balance != 10 || len(p.Offers) != 2 || *p.Offers[1].Left != 1 {
		t.Errorf("bob after alice's coupon: %+v", p)
	}

	// Too few points for cash.
	status, b, _ = m.redeem(t, alice.Token, "pt-redeem-5", body(map[string]any{"campaign_id": cmpID, "kind": "cash", "points": 1000}))
	wantCode(t, "too few points", status, b, 422, "insufficient_funds")

	// Her history, newest first, a page at a time.
	p = m.points(t, alice.Token, "?limit=2")
	if len(p.History) != 2 || p.History[0].Kind != "points_redeem" || p.History[0].Amount != -5 || p.History[0].Ref != red.CouponID ||
		p.History[1].Kind != "points_earn" || p.History[1].Amount != 6 || p.NextBefore == nil || *p.NextBefore != p.History[1].Seq {
		t.Fatalf("first page: %+v", p)
	}
	p = m.points(t, alice.Token, "?limit=2&before="+jsonInt(*p.NextBefore))
	if len(p.History) != 2 || p.History[0].Amount != -20 || p.History[0].Ref != cmpID || p.History[1].Amount != 24 || p.NextBefore == nil {
		t.Fatalf("second page: %+v", p)
	}
	if p = m.points(t, alice.Token, "?limit=2&before="+jsonInt(*p.NextBefore)); len(p.History) != 0 || p.NextBefore != nil {
		t.Errorf("third page: %+v", p)
	}

	// The cash is announced in her inbox.
	if _, err := m.disp.DispatchOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var inbox struct{ Items []notify.View }
	m.call(t, "GET", "/v1/notifications", alice.Token, "", &inbox)
	found := false
	for _, n := range inbox.Items {
		found = found || n.Kind == "points_cash.succeeded" && n.Title == "You received ¥2.00 for points" && n.Amount == 200
	}
	if !found {
		t.Errorf("no notification of the cash: %+v", inbox.Items)
	}

	// A frozen wallet redeems nothing.
	if rec := m.s.do(t, "POST", "/v1/wallet/freeze", authJSON(bob.Token), `{"reason": "lost my phone"}`); rec.Code != 200 {
		t.Fatalf("freeze: %d %s", rec.Code, rec.Body)
	}
	status, b, _ = m.redeem(t, bob.Token, "pt-redeem-6", body(map[string]any{"campaign_id": cmpID, "kind": "cash", "points": 10}))
	wantCode(t, "frozen", status, b, 422, "wallet_frozen")
}

func jsonInt(n int64) string {
	b, _ := json.Marshal(n)
	return string(b)
}

func TestRedeemInvalid(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withShop(t)
	m.withPoints(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	cmpID := m.pointsCampaign(t)
	ok := `{"campaign_id": "` + cmpID + `", "kind": "cash", "points": 10}`
	for _, tc := range []struct {
		name, key, body string
		code            string
	}{
		{"malformed JSON", "k", `{"campaign_id": `, "invalid_request"},
		{"not an object", "k", `[]`, "invalid_request"},
		{"unknown field", "k", `{"campaign_id": "` + cmpID + `", "kind": "cash", "points": 10, "balance": 1}`, "invalid_request"},
		{"no kind", "k", `{"campaign_id": "` + cmpID + `", "points": 10}`, "invalid_request"},
		{"other kind", "k", `{"campaign_id": "` + cmpID + `", "kind": "gold", "points": 10}`, "invalid_request"},
		{"cash without points", "k", `{"campaign_id": "` + cmpID + `", "kind": "cash"}`, "invalid_request"},
		{"cash with a coupon", "k", `{"campaign_id": "` + cmpID + `", "kind": "cash", "points": 10, "coupon": 0}`, "invalid_request"},
		{"coupon without its index", "k", `{"campaign_id": "` + cmpID + `", "kind": "coupon"}`, "invalid_request"},
		{"coupon with points", "k", `{"campaign_id": "` + cmpID + `", "kind": "coupon", "coupon": 0, "points": 5}`, "invalid_request"},
		{"zero points", "k", `{"campaign_id": "` + cmpID + `", "kind": "cash", "points": 0}`, "invalid_request"},
		{"negative points", "k", `{"campaign_id": "` + cmpID + `", "kind": "cash", "points": -10}`, "invalid_request"},
		{"fractional points", "k", `{"campaign_id": "` + cmpID + `", "kind": "cash", "points": 10.5}`, "invalid_request"},
		{"points as a string", "k", `{"campaign_id": "` + cmpID + `", "kind": "cash", "points": "10"}`, "invalid_request"},
		{"too many points", "k", `{"campaign_id": "` + cmpID + `", "kind": "cash", "points": 9007199254740993}`, "invalid_request"},
		{"not a multiple of the rate", "k", `{"campaign_id": "` + cmpID + `", "kind": "cash", "points": 15}`, "invalid_request"},
		{"negative coupon", "k", `{"campaign_id": "` + cmpID + `", "kind": "coupon", "coupon": -1}`, "invalid_request"},
		{"coupon past the tenth", "k", `{"campaign_id": "` + cmpID + `", "kind": "coupon", "coupon": 10}`, "invalid_request"},
		{"no campaign", "k", `{"kind": "cash", "points": 10}`, "invalid_request"},
		{"not a campaign id", "k", `{"campaign_id": "ord_x", "kind": "cash", "points": 10}`, "invalid_request"},
		{"no key", "", ok, "invalid_request"},
		{"a key with a space", "a b", ok, "invalid_request"},
		{"a key too long", strings.Repeat("k", 256), ok, "invalid_request"},
		{"unknown campaign", "k", `{"campaign_id": "` + hebao.NewID("cmp") + `", "kind": "cash", "points": 10}`, "not_found"},
		{"unknown coupon offer", "k", `{"campaign_id": "` + cmpID + `", "kind": "coupon", "coupon": 1}`, "not_found"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			status, b, _ := m.redeem(t, alice.Token, tc.key, tc.body)
			want := 400
			if tc.code == "not_found" {
				want = 404
			}
			wantCode(t, tc.name, status, b, want, tc.code)
		})
	}
	// None of them spent or recorded anything: the key is still free.
	status, b, _ := m.redeem(t, alice.Token, "k", body(map[string]any{"campaign_id": cmpID, "kind": "cash", "points": 10}))
	wantCode(t, "no points yet", status, b, 422, "insufficient_funds")
}

func TestPointsQueryInvalid(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	m.withPoints(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	for _, q := range []string{"limit=0", "limit=101", "limit=x", "limit=-1", "before=0", "before=-5", "before=x", "before=1.5",
		"before=99999999999999999999"} {
		rec := m.s.do(t, "GET", "/v1/points?"+q, bearerHeader(alice.Token), "")
		wantCode(t, q, rec.Code, rec.Body.String(), 400, "invalid_request")
	}
	for _, q := range []string{"", "limit=100", "before=1", "limit=1&before=9223372036854775807"} {
		if rec := m.s.do(t, "GET", "/v1/points?"+q, bearerHeader(alice.Token), ""); rec.Code != 200 {
			t.Errorf("?%s: %d %s", q, rec.Code, rec.Body)
		}
	}
	if rec := m.s.do(t, "GET", "/v1/points", bearerHeader(m.admin), ""); rec.Code != 403 {
		t.Errorf("a staff token: %d", rec.Code)
	}
}

// TestPointsExpire runs the expiry a year after the year the points were earned in:
// they leave the balance, the history says so and the inbox tells the customer,
// with no SMS even though every movement gets one.
func TestPointsExpire(t *testing.T) {
	m := newAccounts(t).withMoney(t)
	texts := &devInbox{}
	m.disp.SMS = texts
	m.withShop(t)
	m.withPoints(t)
	alice := m.payer(t, "13800138000", testIDNumber, cardAlice)
	m.fund(t, alice, 10_000)
	if rec := m.s.do(t, "PUT", "/v1/wallet/settings", authJSON(alice.Token),
		`{"password_free":{"enabled":true,"per_payment_limit":100},"auto_topup":false,"sms_threshold":1}`); rec.Code != 200 {
		t.Fatalf("settings: %d %s", rec.Code, rec.Body)
	}
	shop := m.merchant(t, "荷包咖啡")
	m.pay(t, alice.Token, m.order(t, shop.APIKey, "expiry-1", 4321, "").ID, "ex-pay-1")
	if _, err := m.disp.DispatchOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	sent := len(texts.Messages("13800138000"))
	if sent == 0 {
		t.Fatal("no SMS for the payment: the threshold is not in force, and the test below proves nothing")
	}
	if n, err := m.cfg.Points.ExpireDue(t.Context()); err != nil || n != 0 {
		t.Fatalf("ExpireDue in the year earned: %d, %v", n, err)
	}

	// 2028, China time: the 2026 points have expired.
	m.clock.Add(time.Date(2027, 12, 31, 16, 0, 1, 0, time.UTC).Sub(m.clock.Now()))
	if n, err := m.cfg.Points.ExpireDue(t.Context()); err != nil || n != 1 {
		t.Fatalf("ExpireDue: %d, %v; want 1", n, err)
	}
	if _, err := m.disp.DispatchOnce(t.Context()); err != nil {
		t.Fatal(err)
	}
	var in struct{ Token string }
	if status, b := m.call(t, "POST", "/v1/sessions", "", loginBody("13800138000", testPassword, "dev-13800138000", ""), &in); status != 201 {
		t.Fatalf("sign in again: %d %s", status, b)
	}
	p := m.points(t, in.Token, "")
	if p.Balance != 0 || len(p.Buckets) != 0 || len(p.History) != 2 || p.History[0].Kind != "expiry" || p.History[0].Amount != -43 ||
		p.History[0].Ref != "points-before:2027" {
		t.Errorf("points after expiry: %+v", p)
	}
	var inbox struct{ Items []notify.View }
	m.call(t, "GET", "/v1/notifications?limit=1", in.Token, "", &inbox)
	if len(inbox.Items) != 1 || inbox.Items[0].Kind != "points.expired" || inbox.Items[0].Title != "43 points expired" ||
		inbox.Items[0].Amount != 43 || inbox.Items[0].TransactionID != p.History[0].TransferID {
		t.Errorf("inbox: %+v", inbox.Items)
	}
	if got := texts.Messages("13800138000"); len(got) != sent {
		t.Errorf("SMS about expired points: %+v", got[sent:])
	}
}
