-- A merchant's orders newest first (GET /v1/merchant/orders), also for one China
-- day by a range on created_at. The key is written once, when the order is created,
-- and never changes: paying, closing or refunding an order leaves this index alone,
-- so the payment path pays nothing for it. A status filter reads the rows in this
-- order and skips the others, rather than keep an index on status, which every
-- payment would have to move.
CREATE INDEX orders_merchant_created ON orders (merchant_id, created_at, id);
