-- Customer-service tickets (SPEC §9): a customer's ticket and its thread. A
-- ticket counts its messages, and each message is numbered in its ticket by seq:
-- the next message takes messages + 1 under the ticket's lock, and the primary key
-- stops two from taking one number. Times are microseconds since the Unix epoch.
CREATE TABLE tickets (
    id              TEXT    PRIMARY KEY,
    customer_id     TEXT    NOT NULL REFERENCES customers (id),
    category        TEXT    NOT NULL CHECK (category IN ('payment_failed', 'delayed', 'card', 'account', 'other')),
    subject         TEXT    NOT NULL,
    status          TEXT    NOT NULL CHECK (status IN ('open', 'answered', 'resolved')),
    assigned_to     TEXT    NOT NULL, -- a staff id, '' while nobody has it
    transaction_id  TEXT    NOT NULL, -- one of the customer's movements, or ''
    messages        BIGINT  NOT NULL CHECK (messages >= 0),
    created_at      BIGINT  NOT NULL,
    updated_at      BIGINT  NOT NULL
);
-- A customer's tickets newest first; the agents' queue by status, oldest first.
CREATE INDEX tickets_customer ON tickets (customer_id, id);
CREATE INDEX tickets_queue ON tickets (status, id);

CREATE TABLE ticket_messages (
    ticket_id   TEXT    NOT NULL REFERENCES tickets (id),
    seq         INTEGER NOT NULL CHECK (seq > 0),
    id          TEXT    NOT NULL UNIQUE,
    author      TEXT    NOT NULL CHECK (author IN ('customer', 'agent')),
    author_id   TEXT    NOT NULL,
    body        TEXT    NOT NULL,
    created_at  BIGINT  NOT NULL,
    PRIMARY KEY (ticket_id, seq)
);
