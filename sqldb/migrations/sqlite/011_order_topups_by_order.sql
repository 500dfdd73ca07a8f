-- A payment checks for a top-up of the same order still waiting for the bank.
CREATE INDEX order_topups_order ON order_topups (order_id);
