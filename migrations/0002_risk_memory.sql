-- What a bot's risk stops remember, so a restart cannot reset them: the equity peak the
-- drawdown limit counts from, and the equity at the start of the current UTC day and week
-- (with the day and week numbers since 1970-01-01 / the Monday-based week index).
ALTER TABLE bots ADD COLUMN risk_equity_peak TEXT;
ALTER TABLE bots ADD COLUMN risk_day INTEGER;
ALTER TABLE bots ADD COLUMN risk_day_start TEXT;
ALTER TABLE bots ADD COLUMN risk_week INTEGER;
ALTER TABLE bots ADD COLUMN risk_week_start TEXT;
