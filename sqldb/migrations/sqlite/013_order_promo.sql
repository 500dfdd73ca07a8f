-- The part of an order's payment that came from the payer's promo balance (red
-- packets, SPEC §7): a refund gives that share back to the promo balance, never as
-- cash.
ALTER TABLE orders ADD COLUMN promo_paid INTEGER NOT NULL DEFAULT 0;
