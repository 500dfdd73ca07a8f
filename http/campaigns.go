package http

import (
	"net/http"
	"time"

	"github.com/hebaopay/hebao"
)

// campaignJSON is a campaign and how it stands, as admins see it.
type campaignJSON struct {
	ID        string            `json:"id"`
	Name      string            `json:"name"`
	StartsAt  time.Time         `json:"starts_at"`
	EndsAt    time.Time         `json:"ends_at"`
	Budget    int64             `json:"budget"`
	Remaining int64             `json:"remaining"`
	Spent     int64             `json:"spent"`
	Grants    int               `json:"grants"`
	State     string            `json:"state"`
	Rules     campaignRulesJSON `json:"rules"`
	CreatedAt time.Time         `json:"created_at"`
}

// campaignRulesJSON is what a campaign gives, in POST /v1/admin/campaigns and in
// the campaign's view.
type campaignRulesJSON struct {
	OpeningRedPacket int64                  `json:"opening_red_packet"`
	OpeningCoupons   []hebao.CouponTemplate `json:"opening_coupons,omitempty"`
	// PointsPerYuan raises what payments earn while the campaign runs; 0 leaves
	// the default.
	PointsPerYuan int64                     `json:"points_per_yuan"`
	PointsCash    *hebao.PointsCashRate     `json:"points_cash,omitempty"`
	PointsCoupons []hebao.PointsCouponOffer `json:"points_coupons,omitempty"`
}

func (r campaignRulesJSON) rules() hebao.CampaignRules {
	return hebao.CampaignRules{OpeningRedPacket: r.OpeningRedPacket, OpeningCoupons: r.OpeningCoupons,
		PointsPerYuan: r.PointsPerYuan, PointsCash: r.PointsCash, PointsCoupons: r.PointsCoupons}
}

func rulesOut(r hebao.CampaignRules) campaignRulesJSON {
	return campaignRulesJSON{OpeningRedPacket: r.OpeningRedPacket, OpeningCoupons: r.OpeningCoupons,
		PointsPerYuan: r.PointsPerYuan, PointsCash: r.PointsCash, PointsCoupons: r.PointsCoupons}
}

func campaignOut(st hebao.CampaignStatus) campaignJSON {
	c := st.Campaign
	return campaignJSON{ID: c.ID, Name: c.Name, StartsAt: c.StartsAt.UTC(), EndsAt: c.EndsAt.UTC(), Budget: c.Budget,
		Remaining: st.Remaining, Spent: st.Spent, Grants: st.Grants, State: st.State,
		Rules: rulesOut(c.Rules), CreatedAt: c.CreatedAt.UTC()}
}

// createCampaign is POST /v1/admin/campaigns {name, starts_at, ends_at, budget,
// rules{opening_red_packet, opening_coupons, points_per_yuan, points_cash,
// points_coupons}} → 201 the campaign, its budget funded from the operator's
// marketing account.
// Errors: invalid_request, unavailable.
func (s *Server) createCampaign(w http.ResponseWriter, r *http.Request, st hebao.Staff) error {
	var req struct {
		Name     string            `json:"name"`
		StartsAt time.Time         `json:"starts_at"`
		EndsAt   time.Time         `json:"ends_at"`
		Budget   int64             `json:"budget"`
		Rules    campaignRulesJSON `json:"rules"`
	}
	if err := decode(r, &req); err != nil {
		return err
	}
	if s.campaigns == nil {
		return notConfigured("campaigns")
	}
	c, err := s.campaigns.Create(r.Context(), hebao.Actor{Kind: hebao.ActorStaff, ID: st.ID}, hebao.CampaignRequest{Name: req.Name,
		StartsAt: req.StartsAt, EndsAt: req.EndsAt, Budget: req.Budget,
		Rules: req.Rules.rules()})
	if err != nil {
		return err
	}
	status, err := s.campaigns.Status(r.Context(), c.ID)
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusCreated, campaignOut(status))
}

// getCampaign is GET /v1/admin/campaigns/{id}: the campaign, what it has spent and
// given, and its state (scheduled, active, budget_spent, ended).
// Errors: not_found, unavailable.
func (s *Server) getCampaign(w http.ResponseWriter, r *http.Request, _ hebao.Staff) error {
	if s.campaigns == nil {
		return notConfigured("campaigns")
	}
	st, err := s.campaigns.Status(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, campaignOut(st))
}

// listCampaigns is GET /v1/admin/campaigns?limit=&cursor= → {items, next_cursor}:
// the campaigns newest first, each as GET /v1/admin/campaigns/{id} shows it.
// Errors: invalid_request (limit, cursor), unavailable.
func (s *Server) listCampaigns(w http.ResponseWriter, r *http.Request, _ hebao.Staff) error {
	limit, cursor, err := page(r, "cmp")
	if err != nil {
		return err
	}
	if s.campaigns == nil {
		return notConfigured("campaigns")
	}
	cs, next, err := s.campaigns.List(r.Context(), cursor, limit)
	if err != nil {
		return err
	}
	out := struct {
		Items      []campaignJSON `json:"items"`
		NextCursor *string        `json:"next_cursor"`
	}{Items: []campaignJSON{}}
	for _, c := range cs {
		out.Items = append(out.Items, campaignOut(c))
	}
	if next != "" {
		out.NextCursor = &next
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}

// couponJSON is a coupon as its holder sees it.
type couponJSON struct {
	ID         string    `json:"id"`
	Kind       string    `json:"kind"`
	Off        int64     `json:"off,omitempty"`
	Threshold  int64     `json:"threshold,omitempty"`
	Percent    int       `json:"percent,omitempty"`
	Cap        int64     `json:"cap,omitempty"`
	MerchantID string    `json:"merchant_id,omitempty"`
	ValidFrom  time.Time `json:"valid_from"`
	ValidUntil time.Time `json:"valid_until"`
	// Discount is what it takes off the order asked about (?order_id=).
	Discount *int64 `json:"discount,omitempty"`
}

// listCoupons is GET /v1/coupons[?order_id=]: the caller's coupons usable now; with
// an order, only those that apply to it, each with its discount.
// Errors: not_found (an unknown order), unavailable.
func (s *Server) listCoupons(w http.ResponseWriter, r *http.Request, sess hebao.Session) error {
	if s.campaigns == nil {
		return notConfigured("coupons")
	}
	orderID := r.URL.Query().Get("order_id")
	if orderID != "" && !hebao.ValidID("ord", orderID) {
		return invalid("order_id is not an order id")
	}
	offers, err := s.campaigns.Coupons(r.Context(), sess.CustomerID, orderID)
	if err != nil {
		return err
	}
	out := struct {
		Items []couponJSON `json:"items"`
	}{Items: []couponJSON{}}
	for _, o := range offers {
		c := couponJSON{ID: o.ID, Kind: string(o.Kind), Off: o.Off, Threshold: o.Threshold, Percent: o.Percent, Cap: o.Cap,
			MerchantID: o.MerchantID, ValidFrom: o.ValidFrom.UTC(), ValidUntil: o.ValidUntil.UTC()}
		if orderID != "" {
			d := o.Discount
			c.Discount = &d
		}
		out.Items = append(out.Items, c)
	}
	w.Header().Set("Cache-Control", "no-store")
	return writeJSON(w, http.StatusOK, out)
}
