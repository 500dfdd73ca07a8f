-- Customer money (SPEC §3–§5, §8): the movements each customer sees in their history,
-- the counters of the tier limits, the operator's own accounts (one per kind and
-- owner), wallet settings and the notification inbox. Times are microseconds since
-- the Unix epoch.

-- One clearing account per bank, one account for withdrawals in transit.
CREATE UNIQUE INDEX accounts_system ON accounts (kind, owner)
    WHERE kind IN ('bank_clearing', 'withdrawals_in_transit');

-- No use reads the journal by account: a customer's history is their movements.
-- The index cost two random b-tree inserts per transfer.
DROP INDEX postings_account;

-- Rows are appended in id order (ids are time-sortable); the history is read by
-- wallet, newest first, through movements_wallet.
CREATE TABLE movements (
    id                 TEXT    PRIMARY KEY,
    wallet_id          TEXT    NOT NULL REFERENCES wallets (id),
    account_id         BIGINT  NOT NULL, -- the wallet's CNY account
    customer_id        TEXT    NOT NULL,
    kind               TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    amount             BIGINT  NOT NULL CHECK (amount > 0),
    card_id            TEXT    NOT NULL,
    card_masked        TEXT    NOT NULL,
    card_sealed        TEXT    NOT NULL, -- AES-256-GCM, never the plain number
    bank_code          TEXT    NOT NULL,
    counterparty       TEXT    NOT NULL,
    counterparty_name  TEXT    NOT NULL,
    memo               TEXT    NOT NULL,
    failure_code       TEXT    NOT NULL,
    ref                TEXT    NOT NULL,
    created_at         BIGINT  NOT NULL,
    updated_at         BIGINT  NOT NULL
);
CREATE INDEX movements_wallet ON movements (wallet_id, id);
CREATE INDEX movements_pending ON movements (updated_at) WHERE status = 'pending';

-- What has left each wallet today and this year (China time), and its pending
-- top-ups and withdrawals; one row per wallet, created with it, updated in the transaction of each
-- movement.
CREATE TABLE wallet_usage (
    wallet_id   TEXT    PRIMARY KEY REFERENCES wallets (id),
    day         INTEGER NOT NULL,
    day_total   BIGINT  NOT NULL,
    year        INTEGER NOT NULL,
    year_total  BIGINT  NOT NULL,
    pending_in  BIGINT  NOT NULL,
    pending_out BIGINT  NOT NULL -- pending withdrawals: money that comes back if the bank refuses
);
INSERT INTO wallet_usage SELECT id, 0, 0, 0, 0, 0, 0 FROM wallets;

CREATE TABLE wallet_settings (
    wallet_id            TEXT    PRIMARY KEY REFERENCES wallets (id),
    password_free        INTEGER NOT NULL,
    password_free_limit  BIGINT  NOT NULL,
    auto_topup           INTEGER NOT NULL,
    sms_threshold        BIGINT  NOT NULL -- -1: no SMS
);

CREATE TABLE notifications (
    id              TEXT    PRIMARY KEY,
    customer_id     TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    amount          BIGINT  NOT NULL,
    counterparty    TEXT    NOT NULL,
    balance_after   BIGINT  NOT NULL,
    transaction_id  TEXT    NOT NULL,
    created_at      BIGINT  NOT NULL
);
CREATE INDEX notifications_customer ON notifications (customer_id, id);
