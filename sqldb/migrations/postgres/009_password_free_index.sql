-- Only password-free payments are counted per customer and day: index those alone,
-- so that every other payment's update of its order maintains one index fewer.
DROP INDEX orders_customer_paid;
CREATE INDEX orders_password_free ON orders (customer_id, paid_at) WHERE method = 'password_free';
