-- What refunds have given back so far of the parts of an order's payment that did
-- not come from the payer's cash (red packets, a coupon's subsidy): each refund gives
-- back its share without ever passing what that part paid.
ALTER TABLE orders ADD COLUMN promo_refunded INTEGER NOT NULL DEFAULT 0;
ALTER TABLE orders ADD COLUMN subsidy_refunded INTEGER NOT NULL DEFAULT 0;
