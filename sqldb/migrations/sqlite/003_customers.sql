-- Customers, their wallets, devices and sessions; staff accounts and sessions; the
-- failed sign-ins that throttle password guessing; the append-only audit log
-- (SPEC §1, §3, §6). Times are microseconds since the Unix epoch. Passwords are
-- stored only as argon2id hashes, tokens only as SHA-256.

CREATE TABLE customers (
    id             TEXT    PRIMARY KEY,
    phone          TEXT    NOT NULL UNIQUE, -- one wallet per phone; concurrent registrations race here
    password_hash  TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE wallets (
    id                 TEXT    PRIMARY KEY,
    customer_id        TEXT    NOT NULL UNIQUE REFERENCES customers (id),
    status             TEXT    NOT NULL,
    tier               INTEGER NOT NULL,
    account_id         INTEGER NOT NULL REFERENCES accounts (id),
    promo_account_id   INTEGER NOT NULL REFERENCES accounts (id),
    points_account_id  INTEGER NOT NULL REFERENCES accounts (id),
    created_at         INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE devices (
    customer_id    TEXT    NOT NULL REFERENCES customers (id),
    device_id      TEXT    NOT NULL,
    first_seen_at  INTEGER NOT NULL,
    PRIMARY KEY (customer_id, device_id)
) WITHOUT ROWID;

CREATE TABLE sessions (
    id            TEXT    PRIMARY KEY,
    token_hash    BLOB    NOT NULL UNIQUE, -- SHA-256 of the bearer token
    customer_id   TEXT    NOT NULL REFERENCES customers (id),
    device_id     TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL
) WITHOUT ROWID;
-- Sign-out everywhere and pruning of idle sessions go by customer.
CREATE INDEX sessions_customer ON sessions (customer_id, last_used_at);

-- One row per sign-in attempt not (yet) known to have succeeded, by subject: a
-- phone, or "staff:" and a username. A correct password deletes the subject's rows.
CREATE TABLE login_failures (
    id       INTEGER PRIMARY KEY,
    subject  TEXT    NOT NULL,
    at       INTEGER NOT NULL
);
CREATE INDEX login_failures_subject ON login_failures (subject, at);

CREATE TABLE staff (
    id             TEXT    PRIMARY KEY,
    username       TEXT    NOT NULL UNIQUE,
    password_hash  TEXT    NOT NULL,
    role           TEXT    NOT NULL,
    created_at     INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE staff_sessions (
    id            TEXT    PRIMARY KEY,
    token_hash    BLOB    NOT NULL UNIQUE,
    staff_id      TEXT    NOT NULL REFERENCES staff (id),
    created_at    INTEGER NOT NULL,
    last_used_at  INTEGER NOT NULL
) WITHOUT ROWID;
CREATE INDEX staff_sessions_staff ON staff_sessions (staff_id, last_used_at);

-- Append-only: the program never updates or deletes a row, and the triggers below
-- refuse anyone else who tries through SQL without first dropping them.
CREATE TABLE audit_log (
    seq         INTEGER PRIMARY KEY, -- newest first is seq DESC
    id          TEXT    NOT NULL UNIQUE,
    at          INTEGER NOT NULL,
    actor_kind  TEXT    NOT NULL,
    actor_id    TEXT    NOT NULL,
    action      TEXT    NOT NULL,
    subject     TEXT    NOT NULL,
    request_id  TEXT    NOT NULL,
    detail      TEXT    NOT NULL -- a JSON object of strings, never a secret
);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN
    SELECT RAISE(ABORT, 'audit_log is append-only');
END;
