-- SMS codes (SPEC §6). A code is stored only as its HMAC-SHA-256 under a key kept
-- outside the database. The limits (60 s between sends, 10 a day, 5 checks) are
-- computed from these rows, so nothing a client does can reset them.

CREATE TABLE otp_codes (
    id          TEXT    PRIMARY KEY,
    phone       TEXT    NOT NULL,
    purpose     TEXT    NOT NULL,
    mac         BLOB    NOT NULL,
    sent_at     INTEGER NOT NULL, -- microseconds since the Unix epoch
    expires_at  INTEGER NOT NULL,
    checks      INTEGER NOT NULL DEFAULT 0,
    used_at     INTEGER           -- NULL while unused
) WITHOUT ROWID;
-- A send reads the phone's codes of the day; a check, its codes of the last 24 hours.
CREATE INDEX otp_codes_phone ON otp_codes (phone, sent_at);

-- One row per phone ever sent a code. Sends and checks lock it before they read the
-- phone's codes, so that two processes sharing a PostgreSQL database cannot both see
-- room for one more code. (SQLite's single writer serializes them anyway.)
CREATE TABLE otp_phones (
    phone  TEXT PRIMARY KEY
) WITHOUT ROWID;
