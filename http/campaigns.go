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

type campaignRulesJSON struct {
	OpeningRedPacket int64 `json:"opening_red_packet"`
}

func campaignOut(st hebao.CampaignStatus) campaignJSON {
	c := st.Campaign
	return campaignJSON{ID: c.ID, Name: c.Name, StartsAt: c.StartsAt.UTC(), EndsAt: c.EndsAt.UTC(), Budget: c.Budget,
		Remaining: st.Remaining, Spent: st.Spent, Grants: st.Grants, State: st.State,
		Rules: campaignRulesJSON{OpeningRedPacket: c.Rules.OpeningRedPacket}, CreatedAt: c.CreatedAt.UTC()}
}

// createCampaign is POST /v1/admin/campaigns {name, starts_at, ends_at, budget,
// rules{opening_red_packet}} → 201 the campaign, its budget funded from the
// operator's marketing account.
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
		StartsAt: req.StartsAt, EndsAt: req.EndsAt, Budget: req.Budget, Rules: hebao.CampaignRules{OpeningRedPacket: req.Rules.OpeningRedPacket}})
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
