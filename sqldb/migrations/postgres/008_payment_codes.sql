-- Payment codes (SPEC §5 付款码): kept by their keyed hash, never the code; and the
-- index that counts a customer's password-free payments of the day.

CREATE TABLE payment_codes (
    code_hash    BYTEA    PRIMARY KEY,
    customer_id  TEXT    NOT NULL,
    created_at   BIGINT  NOT NULL,
    expires_at   BIGINT  NOT NULL,
    used_at      BIGINT  NOT NULL -- 0 until a till used it
);
CREATE INDEX payment_codes_expiry ON payment_codes (expires_at);

CREATE INDEX orders_customer_paid ON orders (customer_id, paid_at) WHERE paid_at > 0;
