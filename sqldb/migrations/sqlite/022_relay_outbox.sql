-- The relay queue (docs/events.md): outbox events still to be published to NATS
-- JetStream. Only a server started with --nats writes here: the dispatcher adds each
-- event in the transaction that marks it delivered, and the publisher deletes it
-- once the stream has acknowledged it. lease_until (microseconds since the Unix
-- epoch, 0 when free) keeps an event claimed by one publisher from the others
-- until its lease ends. Rows are claimed oldest first, hence the index.
CREATE TABLE relay_outbox (
    id           TEXT    PRIMARY KEY,
    kind         TEXT    NOT NULL,
    payload      BLOB    NOT NULL,
    created_at   INTEGER NOT NULL,
    lease_until  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX relay_outbox_order ON relay_outbox (created_at, id);
