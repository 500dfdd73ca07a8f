package sqldb

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/hebaopay/hebao"
)

// The statements of campaigns and their grants.
const (
	campaignColumns = `id, name, starts_at, ends_at, budget, account_id, rules, created_by, created_at`
	campaignInsert  = `INSERT INTO campaigns (` + campaignColumns + `) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)`
	campaignByID    = `SELECT ` + campaignColumns + ` FROM campaigns WHERE id = $1`
	// campaignsLive are the campaigns not ended at $1, started or not: what the
	// campaign cache holds.
	campaignsLive = `SELECT ` + campaignColumns + ` FROM campaigns WHERE ends_at > $1 ORDER BY created_at, id`

	grantInsert = `INSERT INTO campaign_grants (id, campaign_id, kind, person_key, wallet_id, amount, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)`
	grantExists = `SELECT COUNT(*) FROM campaign_grants WHERE campaign_id = $1 AND kind = $2 AND person_key = $3`
	grantTotals = `SELECT COUNT(*), COALESCE(SUM(amount), 0) FROM campaign_grants WHERE campaign_id = $1`
)

// CreateCampaign implements hebao.Tx.
func (t *tx) CreateCampaign(_ context.Context, c hebao.Campaign) error {
	if c.ID == "" || c.Name == "" || c.Account == 0 {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a campaign needs an id, a name and an account")
	}
	rules, err := json.Marshal(c.Rules)
	if err != nil {
		return err
	}
	if _, err := t.execOwn(campaignInsert, c.ID, c.Name, c.StartsAt.UnixMicro(), c.EndsAt.UnixMicro(), c.Budget, int64(c.Account),
		string(rules), c.CreatedBy, c.CreatedAt.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("store campaign: %w", err))
	}
	t.b.newCampaign = true
	return nil
}

// CampaignByID implements hebao.Tx.
func (t *tx) CampaignByID(_ context.Context, id string) (hebao.Campaign, error) {
	if err := t.check(); err != nil {
		return hebao.Campaign{}, err
	}
	c, err := scanCampaign(t.queryRow(campaignByID, id))
	if isNoRows(err) {
		return hebao.Campaign{}, hebao.Errorf(hebao.CodeNotFound, "no such campaign")
	}
	if err != nil {
		return hebao.Campaign{}, fmt.Errorf("read campaign: %w", err)
	}
	return c, nil
}

// ActiveCampaigns implements hebao.Tx. Every payment asks (for its points rate), so
// the campaigns not yet ended are kept parsed in the DB's campaign cache; the
// campaigns returned share their rules with it and must not be changed.
func (t *tx) ActiveCampaigns(_ context.Context, at time.Time) ([]hebao.Campaign, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	c := t.b.campaigns
	if !t.b.newCampaign && c != nil {
		if live, ok := c.get(at); ok {
			return activeAt(live, at), nil
		}
	}
	var gen uint64
	if c != nil {
		gen = c.generation()
	}
	rs, err := t.query(campaignsLive, at.UnixMicro())
	if err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	defer rs.Close()
	var live []hebao.Campaign
	for rs.Next() {
		c, err := scanCampaign(rs)
		if err != nil {
			return nil, fmt.Errorf("read campaigns: %w", err)
		}
		live = append(live, c)
	}
	if err := rs.Err(); err != nil {
		return nil, err
	}
	if !t.b.newCampaign && c != nil {
		// A campaign this batch created may yet be undone: only committed ones are
		// remembered.
		c.put(gen, at, live)
	}
	return activeAt(live, at), nil
}

func activeAt(live []hebao.Campaign, at time.Time) []hebao.Campaign {
	var out []hebao.Campaign
	for _, c := range live {
		if c.Active(at) {
			out = append(out, c)
		}
	}
	return out
}

// campaignTTL is how long the campaign cache is trusted: a campaign another process
// creates reaches this one's payments within it. Campaigns this process creates
// reach them at once.
const campaignTTL = time.Second

// campaignCache holds the campaigns not ended at a moment, read at most campaignTTL
// ago. Campaign rows never change once committed, so the list stays true for any
// later moment, but for campaigns created since.
type campaignCache struct {
	mu     sync.Mutex
	gen    uint64 // counts resets: a list read before one is stale
	from   time.Time
	readAt time.Time
	live   []hebao.Campaign
	ok     bool
}

func (c *campaignCache) get(at time.Time) ([]hebao.Campaign, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.ok || at.Before(c.from) || time.Since(c.readAt) > campaignTTL {
		return nil, false
	}
	return c.live, true
}

func (c *campaignCache) generation() uint64 {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.gen
}

func (c *campaignCache) put(gen uint64, from time.Time, live []hebao.Campaign) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if gen == c.gen {
		c.from, c.readAt, c.live, c.ok = from, time.Now(), live, true
	}
}

// reset forgets the list: a campaign was committed.
func (c *campaignCache) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	c.ok, c.live = false, nil
}

func scanCampaign(r scanner) (hebao.Campaign, error) {
	var (
		c                        hebao.Campaign
		starts, ends, acct, made int64
		rules                    string
	)
	if err := r.Scan(&c.ID, &c.Name, &starts, &ends, &c.Budget, &acct, &rules, &c.CreatedBy, &made); err != nil {
		return hebao.Campaign{}, err
	}
	if err := json.Unmarshal([]byte(rules), &c.Rules); err != nil {
		return hebao.Campaign{}, fmt.Errorf("campaign %s rules: %w", c.ID, err)
	}
	c.StartsAt, c.EndsAt, c.CreatedAt = time.UnixMicro(starts).UTC(), time.UnixMicro(ends).UTC(), time.UnixMicro(made).UTC()
	c.Account = hebao.AccountID(acct)
	return c, nil
}

// CreateGrant implements hebao.Tx.
func (t *tx) CreateGrant(_ context.Context, g hebao.Grant) error {
	if g.ID == "" || g.CampaignID == "" || g.Kind == "" || g.PersonKey == "" {
		return hebao.Errorf(hebao.CodeInvalidRequest, "a grant needs an id, a campaign, a kind and a person")
	}
	if _, err := t.execOwn(grantInsert, g.ID, g.CampaignID, g.Kind, g.PersonKey, g.WalletID, g.Amount, g.CreatedAt.UnixMicro()); err != nil {
		return t.retryable(fmt.Errorf("store grant: %w", err))
	}
	return nil
}

// HasGrant implements hebao.Tx.
func (t *tx) HasGrant(_ context.Context, campaignID, kind, personKey string) (bool, error) {
	if err := t.check(); err != nil {
		return false, err
	}
	var n int64
	if err := t.queryRow(grantExists, campaignID, kind, personKey).Scan(&n); err != nil {
		return false, fmt.Errorf("read grants: %w", err)
	}
	return n > 0, nil
}

// CampaignGrants implements hebao.Tx.
func (t *tx) CampaignGrants(_ context.Context, campaignID string) (int, int64, error) {
	if err := t.check(); err != nil {
		return 0, 0, err
	}
	var n, total int64
	if err := t.queryRow(grantTotals, campaignID).Scan(&n, &total); err != nil {
		return 0, 0, fmt.Errorf("read grants: %w", err)
	}
	return int(n), total, nil
}

const (
	grantColumns   = `id, campaign_id, kind, person_key, wallet_id, amount, created_at, swept_at, returned`
	campaignsEnded = `SELECT ` + campaignColumns + ` FROM campaigns c WHERE ends_at <= $1
AND EXISTS (SELECT 1 FROM campaign_grants g WHERE g.campaign_id = c.id AND g.swept_at = 0) ORDER BY ends_at, id LIMIT $2`
	grantsUnswept = `SELECT ` + grantColumns + ` FROM campaign_grants WHERE campaign_id = $1 AND swept_at = 0 ORDER BY id LIMIT $2`
	grantsWallet  = `SELECT g.id, g.campaign_id, g.kind, g.person_key, g.wallet_id, g.amount, g.created_at, g.swept_at, g.returned, c.ends_at
FROM campaign_grants g JOIN campaigns c ON c.id = g.campaign_id WHERE g.wallet_id = $1`
	grantSweep = `UPDATE campaign_grants SET swept_at = $2, returned = $3 WHERE id = $1 AND swept_at = 0`
)

// EndedCampaigns implements hebao.Tx.
func (t *tx) EndedCampaigns(_ context.Context, at time.Time, limit int) ([]hebao.Campaign, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(campaignsEnded, at.UnixMicro(), limit)
	if err != nil {
		return nil, fmt.Errorf("read campaigns: %w", err)
	}
	defer rs.Close()
	var out []hebao.Campaign
	for rs.Next() {
		c, err := scanCampaign(rs)
		if err != nil {
			return nil, fmt.Errorf("read campaigns: %w", err)
		}
		out = append(out, c)
	}
	return out, rs.Err()
}

func scanGrant(r scanner, extra ...any) (hebao.Grant, error) {
	var (
		g              hebao.Grant
		created, swept int64
	)
	dest := append([]any{&g.ID, &g.CampaignID, &g.Kind, &g.PersonKey, &g.WalletID, &g.Amount, &created, &swept, &g.Returned}, extra...)
	if err := r.Scan(dest...); err != nil {
		return hebao.Grant{}, err
	}
	g.CreatedAt, g.SweptAt = time.UnixMicro(created).UTC(), fromMicros(swept)
	return g, nil
}

// UnsweptGrants implements hebao.Tx.
func (t *tx) UnsweptGrants(_ context.Context, campaignID string, limit int) ([]hebao.Grant, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(grantsUnswept, campaignID, limit)
	if err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	defer rs.Close()
	var out []hebao.Grant
	for rs.Next() {
		g, err := scanGrant(rs)
		if err != nil {
			return nil, fmt.Errorf("read grants: %w", err)
		}
		out = append(out, g)
	}
	return out, rs.Err()
}

// WalletGrants implements hebao.Tx.
func (t *tx) WalletGrants(_ context.Context, walletID string) ([]hebao.WalletGrant, error) {
	if err := t.check(); err != nil {
		return nil, err
	}
	rs, err := t.query(grantsWallet, walletID)
	if err != nil {
		return nil, fmt.Errorf("read grants: %w", err)
	}
	defer rs.Close()
	var out []hebao.WalletGrant
	for rs.Next() {
		var ends int64
		g, err := scanGrant(rs, &ends)
		if err != nil {
			return nil, fmt.Errorf("read grants: %w", err)
		}
		out = append(out, hebao.WalletGrant{Grant: g, EndsAt: time.UnixMicro(ends).UTC()})
	}
	return out, rs.Err()
}

// SweepGrant implements hebao.Tx.
func (t *tx) SweepGrant(_ context.Context, id string, returned int64, at time.Time) (bool, error) {
	n, err := t.execOwn(grantSweep, id, at.UnixMicro(), returned)
	if err != nil {
		return false, t.retryable(fmt.Errorf("sweep grant: %w", err))
	}
	return n == 1, nil
}
