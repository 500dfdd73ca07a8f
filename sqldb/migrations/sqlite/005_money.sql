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
    id                 TEXT    NOT NULL UNIQUE,
    wallet_id          TEXT    NOT NULL REFERENCES wallets (id),
    account_id         INTEGER NOT NULL, -- the wallet's CNY account: a small key for the history index
    customer_id        TEXT    NOT NULL,
    kind               TEXT    NOT NULL,
    status             TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'failed')),
    amount             INTEGER NOT NULL CHECK (amount > 0),
    card_id            TEXT    NOT NULL,
    card_masked        TEXT    NOT NULL,
    card_sealed        TEXT    NOT NULL, -- AES-256-GCM, never the plain number
    bank_code          TEXT    NOT NULL,
    counterparty       TEXT    NOT NULL,
    counterparty_name  TEXT    NOT NULL,
    memo               TEXT    NOT NULL,
    failure_code       TEXT    NOT NULL,
    ref                TEXT    NOT NULL,
    created_at         INTEGER NOT NULL,
    updated_at         INTEGER NOT NULL
);
CREATE INDEX movements_wallet ON movements (account_id);
CREATE INDEX movements_pending ON movements (updated_at) WHERE status = 'pending';

-- What has left each wallet today and this year (China time), and its pending
-- top-ups and withdrawals; one row per wallet, created with it, updated in the transaction of each
-- movement.
CREATE TABLE wallet_usage (
    wallet_id   TEXT    PRIMARY KEY REFERENCES wallets (id),
    day         INTEGER NOT NULL,
    day_total   INTEGER NOT NULL,
    year        INTEGER NOT NULL,
    year_total  INTEGER NOT NULL,
    pending_in  INTEGER NOT NULL,
    pending_out INTEGER NOT NULL -- pending withdrawals: money that comes back if the bank refuses
) WITHOUT ROWID;
INSERT INTO wallet_usage SELECT id, 0, 0, 0, 0, 0, 0 FROM wallets;

CREATE TABLE wallet_settings (
    wallet_id            TEXT    PRIMARY KEY REFERENCES wallets (id),
    password_free        INTEGER NOT NULL,
    password_free_limit  INTEGER NOT NULL,
    auto_topup           INTEGER NOT NULL,
    sms_threshold        INTEGER NOT NULL -- -1: no SMS
) WITHOUT ROWID;

CREATE TABLE notifications (
    id              TEXT    PRIMARY KEY,
    customer_id     TEXT    NOT NULL,
    kind            TEXT    NOT NULL,
    title           TEXT    NOT NULL,
    amount          INTEGER NOT NULL,
    counterparty    TEXT    NOT NULL,
    balance_after   INTEGER NOT NULL,
    transaction_id  TEXT    NOT NULL,
    created_at      INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX notifications_customer ON notifications (customer_id, id);

-- Idempotency keys are kept in the order they were claimed, with only (scope, key) in
-- the unique index: keyed by (scope, key) itself, every claim inserted a whole reply
-- at a random place of a large b-tree, which cost a page split and a page of WAL. The
-- row id grows with time, so the index by creation time is not needed.
CREATE TABLE idempotency_keys_by_claim (
    id            INTEGER PRIMARY KEY,
    scope         TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    request_hash  BLOB    NOT NULL,
    status        INTEGER NOT NULL,
    body          BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    UNIQUE (scope, key)
);
INSERT INTO idempotency_keys_by_claim (scope, key, request_hash, status, body, created_at)
    SELECT scope, key, request_hash, status, body, created_at FROM idempotency_keys ORDER BY created_at;
DROP TABLE idempotency_keys;
ALTER TABLE idempotency_keys_by_claim RENAME TO idempotency_keys;

-- The outbox keyed by its time-sortable ids (every event is appended at the end of
-- one b-tree) and holding only what is still to deliver: the dispatcher deletes an
-- event once delivered, so the pending events need no index of their own.
CREATE TABLE outbox_pending_only (
    id          TEXT    PRIMARY KEY,
    kind        TEXT    NOT NULL,
    payload     BLOB    NOT NULL,
    created_at  INTEGER NOT NULL
) WITHOUT ROWID;
INSERT INTO outbox_pending_only SELECT id, kind, payload, created_at FROM outbox WHERE delivered_at IS NULL;
DROP TABLE outbox;
ALTER TABLE outbox_pending_only RENAME TO outbox;
