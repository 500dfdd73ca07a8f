-- Points (SPEC §7). A wallet's points are its POINT account; they are spent oldest
-- first, so its yearly buckets follow from that balance and its points_earn postings
-- (postings_account serves them) and need no table. What is recorded is the yearly
-- expiry: once the points earned before a year have been expired, the year is here.
CREATE TABLE points_expiry_runs (
    year         INTEGER PRIMARY KEY,
    finished_at  INTEGER NOT NULL
);

-- What a payment earned and what refunds took back of it.
ALTER TABLE orders ADD COLUMN points_earned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN points_reversed INTEGER NOT NULL DEFAULT 0;

-- Where a coupon came from: '' for an opening pack, 'points:<i>' for a campaign's
-- points offer i, counted for the offer's per-customer limit.
ALTER TABLE coupons ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE INDEX coupons_source ON coupons (customer_id, campaign_id, source);
