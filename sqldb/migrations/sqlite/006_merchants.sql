-- Merchants (SPEC §5, §8, §13): merchants and their API keys, their orders and the
-- webhook deliveries owed to them. Times are microseconds since the Unix epoch; a
-- zero time is 0.

CREATE TABLE merchants (
    id                     TEXT    PRIMARY KEY,
    name                   TEXT    NOT NULL,
    api_key_hash           BLOB    NOT NULL UNIQUE, -- SHA-256 of the mk_ key, never the key
    webhook_secret_sealed  TEXT    NOT NULL,        -- AES-256-GCM under the card keyring
    account_id             INTEGER NOT NULL REFERENCES accounts (id),
    created_at             INTEGER NOT NULL
) WITHOUT ROWID;

-- An order is found by its id (the customer's side) or by the merchant's number.
CREATE TABLE orders (
    id            TEXT    PRIMARY KEY,
    merchant_id   TEXT    NOT NULL REFERENCES merchants (id),
    out_trade_no  TEXT    NOT NULL,
    kind          TEXT    NOT NULL CHECK (kind IN ('native', 'code')),
    amount        INTEGER NOT NULL CHECK (amount > 0),
    subject       TEXT    NOT NULL,
    notify_url    TEXT    NOT NULL,
    status        TEXT    NOT NULL CHECK (status IN ('NOTPAY', 'USERPAYING', 'SUCCESS', 'CLOSED', 'REFUND')),
    request_hash  BLOB    NOT NULL,
    customer_id   TEXT    NOT NULL,
    wallet_id     TEXT    NOT NULL,
    method        TEXT    NOT NULL,
    card_id       TEXT    NOT NULL,
    movement_id   TEXT    NOT NULL,
    refunded      INTEGER NOT NULL CHECK (refunded >= 0 AND refunded <= amount),
    refunds       INTEGER NOT NULL CHECK (refunds >= 0),
    created_at    INTEGER NOT NULL,
    expires_at    INTEGER NOT NULL,
    paid_at       INTEGER NOT NULL,
    closed_at     INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL,
    UNIQUE (merchant_id, out_trade_no)
) WITHOUT ROWID;
CREATE INDEX orders_open ON orders (expires_at) WHERE status IN ('NOTPAY', 'USERPAYING');
CREATE INDEX orders_paid ON orders (merchant_id, paid_at) WHERE paid_at > 0;

-- The merchant side of the outbox: each row written in the transaction of the change
-- it announces, then sent (and retried) by the webhook sender.
CREATE TABLE webhook_deliveries (
    id               TEXT    PRIMARY KEY,
    merchant_id      TEXT    NOT NULL REFERENCES merchants (id),
    event_id         TEXT    NOT NULL,
    event_type       TEXT    NOT NULL,
    url              TEXT    NOT NULL,
    payload          BLOB    NOT NULL,
    attempts         INTEGER NOT NULL,
    delivered        INTEGER NOT NULL CHECK (delivered IN (0, 1)),
    next_attempt_at  INTEGER NOT NULL, -- 0: delivered, or the schedule ran out
    last_status      INTEGER NOT NULL,
    last_error       TEXT    NOT NULL,
    created_at       INTEGER NOT NULL,
    updated_at       INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at) WHERE next_attempt_at > 0;
CREATE INDEX webhook_deliveries_merchant ON webhook_deliveries (merchant_id, id);
