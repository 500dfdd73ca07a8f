-- Points (SPEC §7): each wallet's points in yearly buckets (China time), spent oldest
-- first and expiring at the end of the following year. The ledger's POINT account of
-- the wallet holds the sum of the buckets' remaining points.
CREATE TABLE points_buckets (
    wallet_id  TEXT    NOT NULL,
    year       INTEGER NOT NULL,
    earned     INTEGER NOT NULL,
    remaining  INTEGER NOT NULL CHECK (remaining >= 0),
    expired    INTEGER NOT NULL,
    PRIMARY KEY (wallet_id, year)
) WITHOUT ROWID;
-- The expiry job reads the buckets with points left, oldest year first.
CREATE INDEX points_buckets_due ON points_buckets (year, wallet_id) WHERE remaining > 0;

-- What a payment earned and what refunds took back of it.
ALTER TABLE orders ADD COLUMN points_earned INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN points_reversed INTEGER NOT NULL DEFAULT 0;

-- Where a coupon came from: '' for an opening pack, 'points:<i>' for a campaign's
-- points offer i, counted for the offer's per-customer limit.
ALTER TABLE coupons ADD COLUMN source TEXT NOT NULL DEFAULT '';
CREATE INDEX coupons_source ON coupons (customer_id, campaign_id, source);
