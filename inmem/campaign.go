package inmem

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/hebaopay/hebao"
)

func (t *tx) CreateCampaign(_ context.Context, c hebao.Campaign) error {
	if err := t.write(); err != nil {
		return err
	}
	if c.ID == "" || c.Name == "" || c.Account == 0 {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a campaign needs an id, a name and an account")
	}
	if _, ok := t.d.campaigns[c.ID]; ok {
		return conflict("campaign")
	}
	t.d.campaigns[c.ID] = c
	return nil
}

func (t *tx) CampaignByID(_ context.Context, id string) (hebao.Campaign, error) {
	if err := t.read(); err != nil {
		return hebao.Campaign{}, err
	}
	c, ok := t.d.campaigns[id]
	if !ok {
		return hebao.Campaign{}, notFound("campaign")
	}
	return c, nil
}

func (t *tx) ActiveCampaigns(_ context.Context, at time.Time) ([]hebao.Campaign, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Campaign
	for _, c := range t.d.campaigns {
		if c.Active(at) {
			out = append(out, c)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Campaign) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return out, nil
}

func (t *tx) CreateGrant(_ context.Context, g hebao.Grant) error {
	if err := t.write(); err != nil {
		return err
	}
	for _, o := range t.d.grants {
		if o.ID == g.ID || (o.CampaignID == g.CampaignID && o.Kind == g.Kind && o.PersonKey == g.PersonKey) {
			return conflict("grant")
		}
	}
	t.d.grants[g.ID] = g
	return nil
}

func (t *tx) HasGrant(_ context.Context, campaignID, kind, personKey string) (bool, error) {
	if err := t.read(); err != nil {
		return false, err
	}
	for _, g := range t.d.grants {
		if g.CampaignID == campaignID && g.Kind == kind && g.PersonKey == personKey {
			return true, nil
		}
	}
	return false, nil
}

func (t *tx) CampaignGrants(_ context.Context, campaignID string) (int, int64, error) {
	if err := t.read(); err != nil {
		return 0, 0, err
	}
	n, total := 0, int64(0)
	for _, g := range t.d.grants {
		if g.CampaignID == campaignID {
			n++
			total += g.Amount
		}
	}
	return n, total, nil
}

func (t *tx) EndedCampaigns(_ context.Context, at time.Time, limit int) ([]hebao.Campaign, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Campaign
	for _, c := range t.d.campaigns {
		if c.EndsAt.After(at) {
			continue
		}
		for _, g := range t.d.grants {
			if g.CampaignID == c.ID && g.SweptAt.IsZero() {
				out = append(out, c)
				break
			}
		}
	}
	slices.SortFunc(out, func(a, b hebao.Campaign) int { return a.EndsAt.Compare(b.EndsAt) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *tx) UnsweptGrants(_ context.Context, campaignID string, limit int) ([]hebao.Grant, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.Grant
	for _, g := range t.d.grants {
		if g.CampaignID == campaignID && g.SweptAt.IsZero() {
			out = append(out, g)
		}
	}
	slices.SortFunc(out, func(a, b hebao.Grant) int { return strings.Compare(a.ID, b.ID) })
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (t *tx) WalletGrants(_ context.Context, walletID string) ([]hebao.WalletGrant, error) {
	if err := t.read(); err != nil {
		return nil, err
	}
	var out []hebao.WalletGrant
	for _, g := range t.d.grants {
		if g.WalletID == walletID {
			out = append(out, hebao.WalletGrant{Grant: g, EndsAt: t.d.campaigns[g.CampaignID].EndsAt})
		}
	}
	return out, nil
}

func (t *tx) SweepGrant(_ context.Context, id string, returned int64, at time.Time) (bool, error) {
	if err := t.write(); err != nil {
		return false, err
	}
	g, ok := t.d.grants[id]
	if !ok || !g.SweptAt.IsZero() {
		return false, nil
	}
	g.SweptAt, g.Returned = at, returned
	t.d.grants[id] = g
	return true, nil
}
