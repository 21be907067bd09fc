-- The venue account each order is sent to: an arbitrage bot across venues trades one pair on
-- two accounts, and a restart must follow every open order on its own. NULL for orders written
-- before this column existed: they went to the bot's own account.
ALTER TABLE orders ADD COLUMN exchange TEXT;
ALTER TABLE simulated_orders ADD COLUMN exchange TEXT;
