-- Development mode (serve --dev) only: what the development SMS gateway kept instead
-- of sending, and what --dev seeded, kept in the database so that several
-- development servers sharing it read the same codes and credentials.
CREATE TABLE dev_sms (
    id      TEXT   PRIMARY KEY,
    phone   TEXT   NOT NULL,
    body    TEXT   NOT NULL,
    sent_at BIGINT NOT NULL
);
CREATE INDEX dev_sms_phone ON dev_sms (phone, sent_at, id);
CREATE TABLE dev_seed (
    id   INTEGER PRIMARY KEY CHECK (id = 1),
    body TEXT    NOT NULL
);
