//! Report queries: dashboard statistics, P&L series and reports, tax and fee exports.
//!
//! SQLite would sum TEXT decimals as floats, so rows are fetched and aggregated here in
//! exact decimals.

use std::collections::BTreeMap;

use domain::{
    bot::{BotId, BotStatus},
    money::{Percent, Qty, Quote},
    pair::Pair,
    strategy::StrategyId,
    time::Timestamp,
};
use rust_decimal::Decimal;
use sqlx::Row;
use time::{Duration, OffsetDateTime};

use crate::{
    Error, Store,
    codec::{parse, parse_opt},
};

/// Dashboard statistics.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Stats {
    /// P&L of live bots.
    pub total_pnl: Quote,
    /// Hypothetical P&L of dry-run bots.
    pub dry_run_pnl: Quote,
    /// Number of bots per status (deleted bots excluded).
    pub bots_by_status: BTreeMap<BotStatus, u32>,
    /// Orders not in a final state, live and simulated.
    pub open_orders: u32,
    /// Live fills in the last 24 hours.
    pub trades_24h: u32,
    /// Their quote volume.
    pub volume_24h: Quote,
}

/// Filters shared by the reports; `None` does not filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ReportFilter {
    /// One bot.
    pub bot: Option<BotId>,
    /// One pair.
    pub pair: Option<Pair>,
    /// One strategy (the strategy that placed the order).
    pub strategy: Option<StrategyId>,
    /// Fills at or after this instant.
    pub from: Option<Timestamp>,
    /// Fills before this instant.
    pub to: Option<Timestamp>,
    /// Report dry-run fills instead of live ones.
    pub simulated: bool,
}

/// How P&L rows are grouped.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum PnlGrouping {
    /// One row per bot.
    #[default]
    Bot,
    /// One row per pair.
    Pair,
    /// One row per strategy.
    Strategy,
    /// One row per UTC day.
    Day,
    /// One row per ISO week (starting Monday, UTC).
    Week,
    /// One row per UTC calendar month.
    Month,
}

/// Realised P&L of a group of closed trades (sell orders).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct PnlRow {
    /// Group key: bot id, pair, strategy id, or period start date (YYYY-MM-DD).
    pub key: String,
    /// Sum of the realised P&L, net of fees.
    pub realized_pnl: Quote,
    /// Fees paid in the quote asset by all fills of the group.
    pub fees: Quote,
    /// Closed trades.
    pub trades: u32,
    /// Trades with a positive result.
    pub wins: u32,
    /// Trades with a negative result.
    pub losses: u32,
    /// `wins / trades` in percent; `None` without trades.
    pub win_rate: Option<Percent>,
    /// Mean result of the winning trades.
    pub average_win: Option<Quote>,
    /// Mean result of the losing trades (negative).
    pub average_loss: Option<Quote>,
}

/// One realised disposal, for the tax export.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaxRow {
    /// When the sale happened.
    pub date: Timestamp,
    /// Asset sold.
    pub token: String,
    /// Quantity sold.
    pub amount: Qty,
    /// Average purchase price of what was sold.
    pub buy_price: Decimal,
    /// Sale price.
    pub sale_price: Decimal,
    /// Realised gain (negative for a loss), net of fees.
    pub gain: Quote,
    /// Bot that sold.
    pub bot: BotId,
}

/// Fees paid in one asset.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FeeRow {
    /// Asset the fees were charged in.
    pub asset: String,
    /// Total fees.
    pub total: Qty,
    /// Fills that paid them.
    pub fills: u32,
}

/// A point of a P&L series.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PnlPoint {
    /// When the snapshot was taken.
    pub at: Timestamp,
    /// Total P&L at that time.
    pub total_pnl: Quote,
}

/// One fill with the facts the reports need.
struct FillFact {
    bot: BotId,
    order_id: i64,
    side_sell: bool,
    pair: Pair,
    price: Decimal,
    quantity: Qty,
    quote_quantity: Quote,
    fee: Qty,
    fee_asset: String,
    cost_basis: Option<Decimal>,
    realized_pnl: Option<Quote>,
    filled_at: Timestamp,
    strategy: String,
}

const DAY_MS: i64 = 86_400_000;

fn period_start(at: Timestamp, grouping: PnlGrouping) -> String {
    let Ok(instant) = OffsetDateTime::from_unix_timestamp_nanos(i128::from(at.millis()) * 1_000_000) else {
        return at.millis().to_string();
    };
    let date = instant.date();
    let start = match grouping {
        PnlGrouping::Week => date - Duration::days(i64::from(date.weekday().number_days_from_monday())),
        PnlGrouping::Month => date.replace_day(1).unwrap_or(date),
        _ => date,
    };
    format!("{:04}-{:02}-{:02}", start.year(), u8::from(start.month()), start.day())
}

fn mean(total: Decimal, count: u32) -> Option<Quote> {
    (count > 0).then(|| Quote::new(total / Decimal::from(count)))
}

/// Closed trades grouped under one key, folded into a [`PnlRow`].
#[derive(Default)]
struct Group {
    realized: Decimal,
    fees: Decimal,
    wins: (u32, Decimal),
    losses: (u32, Decimal),
    trades: u32,
}

impl Group {
    fn into_row(self, key: String) -> PnlRow {
        PnlRow {
            key,
            realized_pnl: Quote::new(self.realized),
            fees: Quote::new(self.fees),
            trades: self.trades,
            wins: self.wins.0,
            losses: self.losses.0,
            win_rate: (self.trades > 0)
                .then(|| Percent::new(Decimal::from(self.wins.0) * Decimal::ONE_HUNDRED / Decimal::from(self.trades))),
            average_win: mean(self.wins.1, self.wins.0),
            average_loss: mean(self.losses.1, self.losses.0),
        }
    }
}

impl Store {
    /// Dashboard statistics at `now`.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn stats(&self, now: Timestamp) -> Result<Stats, Error> {
        let mut stats = Stats::default();
        let rows = sqlx::query("SELECT status, is_dry_run, total_pnl FROM bots WHERE deleted_at IS NULL")
            .fetch_all(&self.pool)
            .await?;
        for row in &rows {
            let status: BotStatus = parse(row, "bots", "status")?;
            *stats.bots_by_status.entry(status).or_default() += 1;
            let pnl: Quote = parse(row, "bots", "total_pnl")?;
            if row.try_get::<bool, _>("is_dry_run")? {
                stats.dry_run_pnl = stats.dry_run_pnl + pnl;
            } else {
                stats.total_pnl = stats.total_pnl + pnl;
            }
        }
        let open: i64 = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM orders WHERE status IN ('pending', 'open', 'partially_filled', 'unknown'))
                  + (SELECT COUNT(*) FROM simulated_orders WHERE status IN ('pending', 'open', 'partially_filled', 'unknown'))
                  AS open",
        )
        .fetch_one(&self.pool)
        .await?
        .try_get("open")?;
        stats.open_orders = u32::try_from(open).unwrap_or(u32::MAX);
        let day = ReportFilter { from: Some(Timestamp::from_millis(now.millis() - DAY_MS)), ..ReportFilter::default() };
        for fill in self.fill_facts(&day).await? {
            stats.trades_24h += 1;
            stats.volume_24h = stats.volume_24h + fill.quote_quantity;
        }
        Ok(stats)
    }

    /// P&L snapshots of one bot, or the global ones with `bot = None`, oldest first.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn pnl_series(
        &self,
        bot: Option<BotId>,
        from: Option<Timestamp>,
        to: Option<Timestamp>,
    ) -> Result<Vec<PnlPoint>, Error> {
        let rows = sqlx::query(
            "SELECT total_pnl, snapshot_at FROM pnl_snapshots
             WHERE bot_id IS ?1 AND (?2 IS NULL OR snapshot_at >= ?2) AND (?3 IS NULL OR snapshot_at < ?3)
             ORDER BY snapshot_at",
        )
        .bind(bot.map(|b| b.0))
        .bind(from.map(Timestamp::millis))
        .bind(to.map(Timestamp::millis))
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| {
                Ok(PnlPoint {
                    at: Timestamp::from_millis(row.try_get("snapshot_at")?),
                    total_pnl: parse(row, "pnl_snapshots", "total_pnl")?,
                })
            })
            .collect()
    }

    /// Realised P&L of closed trades (sell orders), grouped, plus the total over all groups.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn pnl_report(
        &self,
        filter: &ReportFilter,
        grouping: PnlGrouping,
    ) -> Result<(Vec<PnlRow>, PnlRow), Error> {
        let fills = self.fill_facts(filter).await?;
        // Fold fills into trades (one per sell order), keeping each trade's group key.
        let mut trades: BTreeMap<i64, (String, Decimal)> = BTreeMap::new();
        let mut groups: BTreeMap<String, Group> = BTreeMap::new();
        let mut total = Group::default();
        for fill in &fills {
            let key = match grouping {
                PnlGrouping::Bot => fill.bot.to_string(),
                PnlGrouping::Pair => fill.pair.to_string(),
                PnlGrouping::Strategy => fill.strategy.clone(),
                period => period_start(fill.filled_at, period),
            };
            if fill.fee_asset == fill.pair.quote() {
                groups.entry(key.clone()).or_default().fees += fill.fee.value();
                total.fees += fill.fee.value();
            }
            if let (true, Some(pnl)) = (fill.side_sell, fill.realized_pnl) {
                trades.entry(fill.order_id).or_insert_with(|| (key, Decimal::ZERO)).1 += pnl.value();
            }
        }
        for (key, result) in trades.into_values() {
            for group in [groups.entry(key).or_default(), &mut total] {
                group.trades += 1;
                group.realized += result;
                if result > Decimal::ZERO {
                    group.wins.0 += 1;
                    group.wins.1 += result;
                } else if result < Decimal::ZERO {
                    group.losses.0 += 1;
                    group.losses.1 += result;
                }
            }
        }
        let rows = groups.into_iter().map(|(key, group)| group.into_row(key)).collect();
        Ok((rows, total.into_row("total".to_owned())))
    }

    /// Every realised disposal (sell fill) matching the filter, oldest first.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn tax_report(&self, filter: &ReportFilter) -> Result<Vec<TaxRow>, Error> {
        let fills = self.fill_facts(filter).await?;
        Ok(fills
            .into_iter()
            .filter(|f| f.side_sell)
            .map(|f| TaxRow {
                date: f.filled_at,
                token: f.pair.base().to_owned(),
                amount: f.quantity,
                buy_price: f.cost_basis.unwrap_or_default(),
                sale_price: f.price,
                gain: f.realized_pnl.unwrap_or_default(),
                bot: f.bot,
            })
            .collect())
    }

    /// Fee totals per asset over the fills matching the filter.
    ///
    /// # Errors
    /// [`Error::Database`] or [`Error::Corrupt`].
    pub async fn fee_report(&self, filter: &ReportFilter) -> Result<Vec<FeeRow>, Error> {
        let mut totals: BTreeMap<String, (Decimal, u32)> = BTreeMap::new();
        for fill in self.fill_facts(filter).await? {
            let entry = totals.entry(fill.fee_asset).or_default();
            entry.0 += fill.fee.value();
            entry.1 += 1;
        }
        Ok(totals.into_iter().map(|(asset, (total, fills))| FeeRow { asset, total: Qty::new(total), fills }).collect())
    }

    async fn fill_facts(&self, filter: &ReportFilter) -> Result<Vec<FillFact>, Error> {
        let (fills, orders) =
            if filter.simulated { ("simulated_fills", "simulated_orders") } else { ("fills", "orders") };
        let sql = format!(
            "SELECT f.bot_id, f.order_id, f.side, f.trading_pair, f.price, f.quantity, f.quote_quantity, f.fee,
                    f.fee_asset, f.cost_basis, f.realized_pnl, f.filled_at, o.strategy_used
             FROM {fills} f JOIN {orders} o ON o.id = f.order_id
             WHERE (?1 IS NULL OR f.bot_id = ?1) AND (?2 IS NULL OR f.trading_pair = ?2)
               AND (?3 IS NULL OR o.strategy_used = ?3) AND (?4 IS NULL OR f.filled_at >= ?4)
               AND (?5 IS NULL OR f.filled_at < ?5)
             ORDER BY f.filled_at, f.id"
        );
        let rows = sqlx::query(&sql)
            .bind(filter.bot.map(|b| b.0))
            .bind(filter.pair.as_ref().map(ToString::to_string))
            .bind(filter.strategy.map(StrategyId::as_str))
            .bind(filter.from.map(Timestamp::millis))
            .bind(filter.to.map(Timestamp::millis))
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|row| {
                let side: String = row.try_get("side")?;
                Ok(FillFact {
                    bot: BotId(row.try_get("bot_id")?),
                    order_id: row.try_get("order_id")?,
                    side_sell: side == "sell",
                    pair: parse(row, fills, "trading_pair")?,
                    price: parse::<Quote>(row, fills, "price")?.value(),
                    quantity: parse(row, fills, "quantity")?,
                    quote_quantity: parse(row, fills, "quote_quantity")?,
                    fee: parse(row, fills, "fee")?,
                    fee_asset: row.try_get("fee_asset")?,
                    cost_basis: parse_opt::<Quote>(row, fills, "cost_basis")?.map(Quote::value),
                    realized_pnl: parse_opt(row, fills, "realized_pnl")?,
                    filled_at: Timestamp::from_millis(row.try_get("filled_at")?),
                    strategy: row.try_get("strategy_used")?,
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use domain::bot::Bot;

    use super::*;
    use crate::tests::{bot, open};

    /// One fill to write: `(side, price, qty, fee, realized, at)`.
    type FillSpec<'a> = (&'a str, &'a str, &'a str, &'a str, Option<&'a str>, i64);

    /// Writes an order with one fill per [`FillSpec`].
    async fn trade(store: &Store, bot: &Bot, table: (&str, &str), seq: u32, fills: &[FillSpec<'_>]) {
        let (orders, fill_table) = table;
        let sim = i32::from(orders == "simulated_orders");
        let order_id: i64 = sqlx::query(&format!(
            "INSERT INTO {orders} (bot_id, client_order_id, order_type, trading_pair, status, strategy_used, is_simulated, decision, created_at, updated_at)
             VALUES (?, ?, 'market_sell', 'BTC/USDT', 'filled', 'dca_accumulator', ?, '{{}}', 0, 0) RETURNING id"
        ))
        .bind(bot.id.0)
        .bind(format!("tb-{}-{seq}", bot.id))
        .bind(sim)
        .fetch_one(&store.pool)
        .await
        .unwrap()
        .get(0);
        for (i, (side, price, qty, fee, realized, at)) in fills.iter().enumerate() {
            let quote = (price.parse::<Decimal>().unwrap() * qty.parse::<Decimal>().unwrap()).to_string();
            sqlx::query(&format!(
                "INSERT INTO {fill_table} (bot_id, order_id, exchange, venue_trade_id, side, trading_pair, price, quantity, quote_quantity, fee, fee_asset, cost_basis, realized_pnl, filled_at)
                 VALUES (?, ?, 'sim', ?, ?, 'BTC/USDT', ?, ?, ?, ?, 'USDT', '100', ?, ?)"
            ))
            .bind(bot.id.0)
            .bind(order_id)
            .bind(format!("t{seq}-{i}"))
            .bind(side)
            .bind(price)
            .bind(qty)
            .bind(quote)
            .bind(fee)
            .bind(realized)
            .bind(at)
            .execute(&store.pool)
            .await
            .unwrap();
        }
    }

    const LIVE: (&str, &str) = ("orders", "fills");

    #[tokio::test]
    async fn pnl_report_counts_trades_per_sell_order_exactly() {
        let (_dir, store) = open().await;
        let live = bot(&store, false).await;
        trade(&store, &live, LIVE, 1, &[("buy", "100", "1", "0.1", None, DAY_MS)]).await;
        // One sell order filled in two parts: one trade of +10.2.
        trade(
            &store,
            &live,
            LIVE,
            2,
            &[
                ("sell", "110", "0.5", "0.05", Some("4.95"), DAY_MS + 1),
                ("sell", "110.5", "0.5", "0.05", Some("5.25"), DAY_MS + 2),
            ],
        )
        .await;
        trade(&store, &live, LIVE, 3, &[("sell", "90", "0.1", "0.01", Some("-1.01"), 3 * DAY_MS)]).await;

        let (rows, total) = store.pnl_report(&ReportFilter::default(), PnlGrouping::Day).await.unwrap();
        assert_eq!(rows.iter().map(|r| r.key.as_str()).collect::<Vec<_>>(), ["1970-01-02", "1970-01-04"]);
        assert_eq!(total.trades, 2);
        assert_eq!((total.wins, total.losses), (1, 1));
        assert_eq!(total.realized_pnl.to_string(), "9.19");
        assert_eq!(total.fees.to_string(), "0.21");
        assert_eq!(total.win_rate.unwrap().to_string(), "50");
        assert_eq!(total.average_win.unwrap().to_string(), "10.2");
        assert_eq!(total.average_loss.unwrap().to_string(), "-1.01");

        let later = ReportFilter { from: Some(Timestamp::from_millis(2 * DAY_MS)), ..ReportFilter::default() };
        let (_, total) = store.pnl_report(&later, PnlGrouping::Bot).await.unwrap();
        assert_eq!(total.realized_pnl.to_string(), "-1.01");
    }

    #[tokio::test]
    async fn dry_run_trades_stay_out_of_live_reports() {
        let (_dir, store) = open().await;
        let sim = bot(&store, true).await;
        trade(
            &store,
            &sim,
            ("simulated_orders", "simulated_fills"),
            1,
            &[("sell", "120", "1", "0.12", Some("19.88"), 5)],
        )
        .await;
        assert!(store.tax_report(&ReportFilter::default()).await.unwrap().is_empty());
        let simulated = ReportFilter { simulated: true, ..ReportFilter::default() };
        let tax = store.tax_report(&simulated).await.unwrap();
        assert_eq!(tax.len(), 1);
        assert_eq!(
            (tax[0].token.as_str(), tax[0].gain.to_string(), tax[0].sale_price.to_string()),
            ("BTC", "19.88".into(), "120".into())
        );
        let fees = store.fee_report(&simulated).await.unwrap();
        assert_eq!((fees[0].asset.as_str(), fees[0].total.to_string(), fees[0].fills), ("USDT", "0.12".into(), 1));
    }

    #[tokio::test]
    async fn stats_count_bots_and_recent_volume() {
        let (_dir, store) = open().await;
        let live = bot(&store, false).await;
        bot(&store, true).await;
        trade(&store, &live, LIVE, 1, &[("buy", "100", "2", "0.2", None, 10)]).await;
        trade(&store, &live, LIVE, 2, &[("buy", "100", "1", "0.1", None, DAY_MS + 20)]).await;
        let stats = store.stats(Timestamp::from_millis(DAY_MS + 30)).await.unwrap();
        assert_eq!(stats.bots_by_status[&BotStatus::Created], 2);
        assert_eq!((stats.trades_24h, stats.volume_24h.to_string()), (1, "100".into()));
        assert_eq!(stats.open_orders, 0);
    }

    #[test]
    fn periods_start_on_day_monday_and_first_of_month() {
        // 2026-11-27 is a Friday.
        let at = Timestamp::from_millis(1_795_780_800_000);
        assert_eq!(period_start(at, PnlGrouping::Day), "2026-11-27");
        assert_eq!(period_start(at, PnlGrouping::Week), "2026-11-23");
        assert_eq!(period_start(at, PnlGrouping::Month), "2026-11-01");
    }
}
