-- tradingbot initial schema.
-- Conventions: money and quantities are TEXT holding exact decimals (never REAL);
-- timestamps are INTEGER milliseconds since the Unix epoch, UTC.

-- Bots and their configuration (the spec's `bots` table plus what the design needs).
CREATE TABLE bots (
    id                      INTEGER PRIMARY KEY AUTOINCREMENT,
    name                    TEXT    NOT NULL,
    trading_pair            TEXT    NOT NULL,            -- unified form, BTC/USDT
    exchange                TEXT    NOT NULL,            -- account name in exchanges.yaml
    strategy                TEXT    NOT NULL,
    strategy_params         TEXT    NOT NULL,            -- JSON object, decimals as strings
    budget                  TEXT    NOT NULL,
    compound_enabled        INTEGER NOT NULL CHECK (compound_enabled IN (0, 1)),
    running_time_hours      INTEGER,                     -- NULL = until stopped
    stop_loss_percent       TEXT,
    stop_loss_absolute      TEXT,
    drawdown_limit_percent  TEXT,
    drawdown_limit_absolute TEXT,
    daily_loss_limit        TEXT,
    weekly_loss_limit       TEXT,
    max_strategy_rotations  INTEGER NOT NULL,
    consecutive_loss_limit  INTEGER NOT NULL,
    is_dry_run              INTEGER NOT NULL CHECK (is_dry_run IN (0, 1)),
    status                  TEXT    NOT NULL CHECK (status IN ('created', 'running', 'paused', 'stopped')),
    killed_at               INTEGER,                     -- set by a kill switch until a person restarts
    current_balance         TEXT    NOT NULL,
    total_pnl               TEXT    NOT NULL,
    next_order_seq          INTEGER NOT NULL DEFAULT 1,  -- source of deterministic client order ids
    created_at              INTEGER NOT NULL,
    updated_at              INTEGER NOT NULL,
    started_at              INTEGER,
    paused_at               INTEGER,
    stopped_at              INTEGER,
    deleted_at              INTEGER                      -- deleted bots keep their audit trail
);
CREATE INDEX bots_status ON bots (status) WHERE deleted_at IS NULL;

-- Every lifecycle change of a bot, for the audit trail.
CREATE TABLE bot_status_history (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id      INTEGER NOT NULL REFERENCES bots (id),
    from_status TEXT    NOT NULL,
    to_status   TEXT    NOT NULL,
    reason      TEXT    NOT NULL,
    created_at  INTEGER NOT NULL
);
CREATE INDEX bot_status_history_bot ON bot_status_history (bot_id, created_at);

-- Live orders. A row is written (status pending, client order id) before the request is sent.
CREATE TABLE orders (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id                INTEGER NOT NULL REFERENCES bots (id),
    client_order_id       TEXT    NOT NULL UNIQUE,
    exchange_order_id     TEXT,
    order_type            TEXT    NOT NULL CHECK (order_type IN ('market_buy', 'market_sell', 'limit_buy', 'limit_sell')),
    trading_pair          TEXT    NOT NULL,
    amount                TEXT,                          -- base quantity; NULL for a market buy by quote
    price                 TEXT,                          -- limit price
    quote_amount          TEXT,                          -- quote amount of a market buy
    filled_amount         TEXT    NOT NULL DEFAULT '0',
    average_price         TEXT,
    fees                  TEXT    NOT NULL DEFAULT '0',
    fee_asset             TEXT,
    status                TEXT    NOT NULL CHECK (status IN ('pending', 'open', 'partially_filled', 'filled', 'cancelled', 'failed', 'unknown', 'expired')),
    strategy_used         TEXT    NOT NULL,
    running_balance_after TEXT,
    is_simulated          INTEGER NOT NULL DEFAULT 0 CHECK (is_simulated = 0),
    decision              TEXT    NOT NULL,              -- JSON decision record
    error                 TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    filled_at             INTEGER
);
CREATE INDEX orders_bot ON orders (bot_id, created_at);
CREATE INDEX orders_open ON orders (status) WHERE status IN ('pending', 'open', 'partially_filled', 'unknown');

-- Dry-run orders: same columns, kept apart so they can never be mistaken for live ones.
CREATE TABLE simulated_orders (
    id                    INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id                INTEGER NOT NULL REFERENCES bots (id),
    client_order_id       TEXT    NOT NULL UNIQUE,
    exchange_order_id     TEXT,
    order_type            TEXT    NOT NULL CHECK (order_type IN ('market_buy', 'market_sell', 'limit_buy', 'limit_sell')),
    trading_pair          TEXT    NOT NULL,
    amount                TEXT,
    price                 TEXT,
    quote_amount          TEXT,
    filled_amount         TEXT    NOT NULL DEFAULT '0',
    average_price         TEXT,
    fees                  TEXT    NOT NULL DEFAULT '0',
    fee_asset             TEXT,
    status                TEXT    NOT NULL CHECK (status IN ('pending', 'open', 'partially_filled', 'filled', 'cancelled', 'failed', 'unknown', 'expired')),
    strategy_used         TEXT    NOT NULL,
    running_balance_after TEXT,
    is_simulated          INTEGER NOT NULL DEFAULT 1 CHECK (is_simulated = 1),
    decision              TEXT    NOT NULL,
    error                 TEXT,
    created_at            INTEGER NOT NULL,
    updated_at            INTEGER NOT NULL,
    filled_at             INTEGER
);
CREATE INDEX simulated_orders_bot ON simulated_orders (bot_id, created_at);

-- Live fills: one row per venue trade id, so replaying any event stream is harmless.
-- Sells carry the realised result against the bot's average cost.
CREATE TABLE fills (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id          INTEGER NOT NULL REFERENCES bots (id),
    order_id        INTEGER NOT NULL REFERENCES orders (id),
    exchange        TEXT    NOT NULL,
    venue_trade_id  TEXT    NOT NULL,
    side            TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    trading_pair    TEXT    NOT NULL,
    price           TEXT    NOT NULL,
    quantity        TEXT    NOT NULL,
    quote_quantity  TEXT    NOT NULL,
    fee             TEXT    NOT NULL,
    fee_asset       TEXT    NOT NULL,
    cost_basis      TEXT,                                -- sells: average buy price of what was sold
    realized_pnl    TEXT,                                -- sells: (price - cost_basis) * qty - fees
    filled_at       INTEGER NOT NULL,
    UNIQUE (exchange, venue_trade_id)
);
CREATE INDEX fills_bot ON fills (bot_id, filled_at);
CREATE INDEX fills_time ON fills (filled_at);

-- Dry-run fills, produced by the paper-fill model; synthetic trade ids are unique per bot.
CREATE TABLE simulated_fills (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id          INTEGER NOT NULL REFERENCES bots (id),
    order_id        INTEGER NOT NULL REFERENCES simulated_orders (id),
    exchange        TEXT    NOT NULL,
    venue_trade_id  TEXT    NOT NULL,
    side            TEXT    NOT NULL CHECK (side IN ('buy', 'sell')),
    trading_pair    TEXT    NOT NULL,
    price           TEXT    NOT NULL,
    quantity        TEXT    NOT NULL,
    quote_quantity  TEXT    NOT NULL,
    fee             TEXT    NOT NULL,
    fee_asset       TEXT    NOT NULL,
    cost_basis      TEXT,
    realized_pnl    TEXT,
    filled_at       INTEGER NOT NULL,
    UNIQUE (bot_id, venue_trade_id)
);
CREATE INDEX simulated_fills_bot ON simulated_fills (bot_id, filled_at);

-- Current holding per bot and pair (spot: long only), derived from the bot's own fills.
CREATE TABLE positions (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id         INTEGER NOT NULL REFERENCES bots (id),
    trading_pair   TEXT    NOT NULL,
    side           TEXT    NOT NULL DEFAULT 'long' CHECK (side IN ('long', 'short')),
    entry_price    TEXT    NOT NULL,
    current_price  TEXT    NOT NULL,
    amount         TEXT    NOT NULL,
    unrealized_pnl TEXT    NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    UNIQUE (bot_id, trading_pair)
);

CREATE TABLE strategy_rotations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id        INTEGER NOT NULL REFERENCES bots (id),
    from_strategy TEXT    NOT NULL,
    to_strategy   TEXT    NOT NULL,
    reason        TEXT    NOT NULL,
    created_at    INTEGER NOT NULL
);
CREATE INDEX strategy_rotations_bot ON strategy_rotations (bot_id, created_at);

CREATE TABLE alerts_log (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id     INTEGER REFERENCES bots (id),             -- NULL for global alerts
    alert_type TEXT    NOT NULL,
    message    TEXT    NOT NULL,
    email_sent INTEGER NOT NULL DEFAULT 0 CHECK (email_sent IN (0, 1)),
    created_at INTEGER NOT NULL
);
CREATE INDEX alerts_log_time ON alerts_log (created_at);

CREATE TABLE market_data_cache (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    source       TEXT    NOT NULL,
    data_type    TEXT    NOT NULL,
    trading_pair TEXT,
    value        TEXT    NOT NULL,                       -- decimal or JSON document
    fetched_at   INTEGER NOT NULL
);
CREATE INDEX market_data_cache_lookup ON market_data_cache (source, data_type, trading_pair, fetched_at);

CREATE TABLE pnl_snapshots (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    bot_id      INTEGER REFERENCES bots (id),            -- NULL for the global total
    total_pnl   TEXT    NOT NULL,
    snapshot_at INTEGER NOT NULL
);
CREATE INDEX pnl_snapshots_series ON pnl_snapshots (bot_id, snapshot_at);
