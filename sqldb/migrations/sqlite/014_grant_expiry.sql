-- Red-packet money expires with its campaign (SPEC §7): each grant is swept once, its
-- unspent rest returned to the campaign's budget.
ALTER TABLE campaign_grants ADD COLUMN swept_at INTEGER NOT NULL DEFAULT 0;
ALTER TABLE campaign_grants ADD COLUMN returned INTEGER NOT NULL DEFAULT 0;
CREATE INDEX campaign_grants_wallet ON campaign_grants (wallet_id);
CREATE INDEX campaign_grants_unswept ON campaign_grants (campaign_id) WHERE swept_at = 0;
