-- Customers' real names and resident ID numbers (SPEC §3, §6). Both are stored only
-- sealed with the keyring (AES-256-GCM, the customer id as additional data); the
-- ID number's keyed hash (HMAC-SHA-256) is unique, so one person holds at most one
-- wallet. Times are microseconds since the Unix epoch.

CREATE TABLE identities (
    customer_id       TEXT    PRIMARY KEY REFERENCES customers (id),
    name_sealed       TEXT    NOT NULL,
    id_number_sealed  TEXT    NOT NULL,
    id_lookup         TEXT    NOT NULL UNIQUE, -- concurrent uses of one ID number race here
    created_at        BIGINT  NOT NULL
);

-- Bank cards bound to customers. The full number is stored only sealed (the customer
-- id as additional data) and as its keyed hash, unique per customer: binding a card
-- twice is a conflict. position is the customer's order, 0 first.
CREATE TABLE cards (
    id             TEXT    PRIMARY KEY,
    customer_id    TEXT    NOT NULL REFERENCES customers (id),
    number_sealed  TEXT    NOT NULL,
    number_lookup  TEXT    NOT NULL,
    bank_code      TEXT    NOT NULL,
    bank_name      TEXT    NOT NULL,
    masked         TEXT    NOT NULL,
    last4          TEXT    NOT NULL,
    position       BIGINT  NOT NULL,
    created_at     BIGINT  NOT NULL,
    UNIQUE (customer_id, number_lookup)
);

-- Payment passwords (SPEC §6): only the keyed hash (HMAC-SHA-256 under a key kept
-- outside the database, over the wallet id and the password), and the count of
-- wrong tries in a row with the end of the lock (0 when never locked).
CREATE TABLE payment_passwords (
    wallet_id     TEXT    PRIMARY KEY REFERENCES wallets (id),
    hash          BYTEA   NOT NULL,
    failures      BIGINT  NOT NULL,
    locked_until  BIGINT  NOT NULL,
    updated_at    BIGINT  NOT NULL
);
