-- The ledger: accounts with guarded balances, the append-only journal of transfers and
-- postings, the hash-chain head, idempotency claims and the transactional outbox.

CREATE TABLE accounts (
    id               INTEGER PRIMARY KEY,
    kind             TEXT    NOT NULL,
    unit             TEXT    NOT NULL,
    owner            TEXT    NOT NULL DEFAULT '',
    may_go_negative  INTEGER NOT NULL CHECK (may_go_negative IN (0, 1)),
    balance          INTEGER NOT NULL DEFAULT 0,
    created_at       INTEGER NOT NULL,
    -- The last line of defence: whatever the code does, a constrained account cannot
    -- be stored below zero.
    CHECK (may_go_negative = 1 OR balance >= 0)
);
CREATE INDEX accounts_owner ON accounts (owner, kind);

CREATE TABLE transfers (
    seq         INTEGER PRIMARY KEY,
    id          TEXT    NOT NULL UNIQUE,
    kind        TEXT    NOT NULL,
    ref         TEXT    NOT NULL,
    created_at  INTEGER NOT NULL, -- microseconds since the Unix epoch
    prev_hash   BLOB    NOT NULL,
    hash        BLOB    NOT NULL
);
CREATE INDEX transfers_ref ON transfers (ref);

CREATE TABLE postings (
    transfer_seq  INTEGER NOT NULL,
    idx           INTEGER NOT NULL,
    account_id    INTEGER NOT NULL,
    unit          TEXT    NOT NULL,
    amount        INTEGER NOT NULL,
    PRIMARY KEY (transfer_seq, idx)
) WITHOUT ROWID;
CREATE INDEX postings_account ON postings (account_id, transfer_seq);

CREATE TABLE ledger_head (
    id    INTEGER PRIMARY KEY CHECK (id = 1),
    seq   INTEGER NOT NULL,
    hash  BLOB    NOT NULL,
    mac   BLOB    NOT NULL
);

CREATE TABLE idempotency_keys (
    scope         TEXT    NOT NULL,
    key           TEXT    NOT NULL,
    request_hash  BLOB    NOT NULL,
    status        INTEGER NOT NULL,
    body          BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (scope, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_keys_created ON idempotency_keys (created_at);

CREATE TABLE outbox (
    id            TEXT    PRIMARY KEY,
    kind          TEXT    NOT NULL,
    payload       BLOB    NOT NULL,
    created_at    INTEGER NOT NULL,
    delivered_at  INTEGER
);
CREATE INDEX outbox_pending ON outbox (created_at) WHERE delivered_at IS NULL;
