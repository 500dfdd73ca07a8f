-- Coupons (SPEC §7): each a customer's, used once; an order paid with one records it
-- and the subsidy its campaign paid, which a refund gives back in proportion.
CREATE TABLE coupons (
    id             TEXT    PRIMARY KEY,
    customer_id    TEXT    NOT NULL,
    campaign_id    TEXT    NOT NULL REFERENCES campaigns (id),
    kind           TEXT    NOT NULL CHECK (kind IN ('fixed', 'threshold', 'percent')),
    off            INTEGER NOT NULL,
    threshold      INTEGER NOT NULL,
    percent        INTEGER NOT NULL,
    cap            INTEGER NOT NULL,
    valid_days     INTEGER NOT NULL,
    merchant_id    TEXT    NOT NULL,
    valid_from     INTEGER NOT NULL,
    valid_until    INTEGER NOT NULL,
    used_order_id  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX coupons_customer ON coupons (customer_id, valid_until);

ALTER TABLE orders ADD COLUMN coupon_id TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN subsidy INTEGER NOT NULL DEFAULT 0;
