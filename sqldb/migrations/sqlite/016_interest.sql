-- Interest (SPEC §7): one row per China day the interest job has run, with its
-- progress, and one row per wallet with the interest it has accrued and not yet been
-- paid. Accruals are fen-ppm-days: a day-end balance in fen times the yearly rate in
-- parts per million; a credit pays floor(accrued / (1,000,000 × day_basis)) fen and
-- leaves the rest accrued. Dates are China days written YYYY-MM-DD; times are
-- microseconds since the Unix epoch.

CREATE TABLE interest_runs (
    date        TEXT    PRIMARY KEY,
    status      TEXT    NOT NULL CHECK (status IN ('accruing', 'crediting', 'done')),
    cursor      TEXT    NOT NULL, -- the last wallet id done in the current phase
    rate_ppm    INTEGER NOT NULL CHECK (rate_ppm >= 0),
    day_basis   INTEGER NOT NULL CHECK (day_basis BETWEEN 360 AND 366),
    wallets     INTEGER NOT NULL,
    accrued     INTEGER NOT NULL,
    payees      INTEGER NOT NULL,
    credited    INTEGER NOT NULL,
    started_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) WITHOUT ROWID;

-- last_date is the guard of a day's accrual: a wallet accrues a day only once, even
-- if two processes ran the same chunk. credited_through is that of a credit.
CREATE TABLE interest_accounts (
    wallet_id         TEXT    PRIMARY KEY REFERENCES wallets (id),
    accrued           INTEGER NOT NULL CHECK (accrued >= 0),
    last_date         TEXT    NOT NULL,
    last_balance      INTEGER NOT NULL,
    credited_through  TEXT    NOT NULL
) WITHOUT ROWID;
