-- A fill is one side of a venue trade: two of the owner's bots trading with each other share the
-- venue's trade id, one on each order, and both must be kept. Fills are therefore keyed by
-- (account, venue trade id, order). SQLite cannot change a constraint in place, so the table is
-- rebuilt with every row kept.
CREATE TABLE fills_keyed (
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
    cost_basis      TEXT,
    realized_pnl    TEXT,
    filled_at       INTEGER NOT NULL,
    UNIQUE (exchange, venue_trade_id, order_id)
);
INSERT INTO fills_keyed SELECT id, bot_id, order_id, exchange, venue_trade_id, side, trading_pair, price,
    quantity, quote_quantity, fee, fee_asset, cost_basis, realized_pnl, filled_at FROM fills;
DROP TABLE fills;
ALTER TABLE fills_keyed RENAME TO fills;
CREATE INDEX fills_bot ON fills (bot_id, filled_at);
CREATE INDEX fills_time ON fills (filled_at);

-- This database's own prefix of client order ids, drawn once when the database is created. A
-- fresh database (after a reset, say) names its orders differently from every earlier one, so
-- its ids can never match orders an earlier database left on the venue.
CREATE TABLE instance (
    id            INTEGER PRIMARY KEY CHECK (id = 1),
    order_prefix  TEXT    NOT NULL
);
INSERT INTO instance (id, order_prefix) VALUES (1, 'tb' || lower(hex(randomblob(4))));
