-- Coupons (SPEC §7): each a customer's, used once; an order paid with one records it
-- and the subsidy its campaign paid, which a refund gives back in proportion.
CREATE TABLE coupons (
    id             TEXT    PRIMARY KEY,
    customer_id    TEXT    NOT NULL,
    campaign_id    TEXT    NOT NULL REFERENCES campaigns (id),
    kind           TEXT    NOT NULL CHECK (kind IN ('fixed', 'threshold', 'percent')),
    off            BIGINT  NOT NULL,
    threshold      BIGINT  NOT NULL,
    percent        BIGINT  NOT NULL,
    cap            BIGINT  NOT NULL,
    valid_days     BIGINT  NOT NULL,
    merchant_id    TEXT    NOT NULL,
    valid_from     BIGINT  NOT NULL,
    valid_until    BIGINT  NOT NULL,
    used_order_id  TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL
);
CREATE INDEX coupons_customer ON coupons (customer_id, valid_until);

ALTER TABLE orders ADD COLUMN coupon_id TEXT NOT NULL DEFAULT '';
ALTER TABLE orders ADD COLUMN subsidy BIGINT NOT NULL DEFAULT 0;
