-- Promotions (SPEC §7): campaigns, each with its own budget account, and what they
-- granted to whom (once per person: the person key is a keyed hash, never a phone or
-- an ID number).

CREATE TABLE campaigns (
    id          TEXT    PRIMARY KEY,
    name        TEXT    NOT NULL,
    starts_at   BIGINT  NOT NULL,
    ends_at     BIGINT  NOT NULL CHECK (ends_at > starts_at),
    budget      BIGINT  NOT NULL CHECK (budget > 0),
    account_id  BIGINT  NOT NULL REFERENCES accounts (id),
    rules       TEXT    NOT NULL, -- JSON: what the campaign gives
    created_by  TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL
);
CREATE INDEX campaigns_ends ON campaigns (ends_at);

CREATE TABLE campaign_grants (
    id           TEXT    PRIMARY KEY,
    campaign_id  TEXT    NOT NULL REFERENCES campaigns (id),
    kind         TEXT    NOT NULL,
    person_key   TEXT    NOT NULL,
    wallet_id    TEXT    NOT NULL,
    amount       BIGINT  NOT NULL,
    created_at   BIGINT  NOT NULL,
    UNIQUE (campaign_id, kind, person_key)
);
