-- Refunds of merchant orders (SPEC §5): each given back to where the payment came
-- from, once per out_refund_no.

CREATE TABLE refunds (
    id             TEXT    PRIMARY KEY,
    merchant_id    TEXT    NOT NULL REFERENCES merchants (id),
    order_id       TEXT    NOT NULL REFERENCES orders (id),
    out_trade_no   TEXT    NOT NULL,
    out_refund_no  TEXT    NOT NULL,
    amount         BIGINT  NOT NULL CHECK (amount > 0),
    reason         TEXT    NOT NULL,
    request_hash   BYTEA    NOT NULL,
    wallet_id      TEXT    NOT NULL,
    movement_id    TEXT    NOT NULL,
    created_at     BIGINT  NOT NULL,
    UNIQUE (merchant_id, out_refund_no)
);
-- A merchant's day of refunds, for its bill.
CREATE INDEX refunds_day ON refunds (merchant_id, created_at);
