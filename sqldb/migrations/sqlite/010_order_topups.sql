-- A top-up made to pay an order (SPEC §5: paying by card is a top-up and the
-- payment as one operation; auto top-up tops up the shortfall): when the bank says
-- yes, the payment is made in the same transaction as the top-up.
CREATE TABLE order_topups (
    movement_id  TEXT    PRIMARY KEY, -- the pending top-up
    order_id     TEXT    NOT NULL,
    auto         INTEGER NOT NULL CHECK (auto IN (0, 1)), -- the shortfall, from the cards in the customer's order
    created_at   INTEGER NOT NULL
) WITHOUT ROWID;
