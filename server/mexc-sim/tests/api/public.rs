use reqwest::StatusCode;
use rust_decimal::Decimal;
use serde_json::Value;

use crate::helpers::{assert_code, config, dec, spawn};

#[tokio::test]
async fn market_data_endpoints_answer_in_mexc_shape() {
    let sim = spawn(config()).await;
    assert_eq!(sim.get("/api/v3/ping").await, (StatusCode::OK, serde_json::json!({})));
    let (_, time) = sim.get("/api/v3/time").await;
    assert!((time["serverTime"].as_i64().unwrap() - crate::helpers::now_ms()).abs() < 5000);

    let (_, info) = sim.get("/api/v3/exchangeInfo?symbol=BTCUSDT").await;
    let btc = &info["symbols"][0];
    assert_eq!(info["symbols"].as_array().unwrap().len(), 1);
    assert_eq!((btc["status"].as_str(), btc["baseAssetPrecision"].as_u64()), (Some("1"), Some(6)));
    assert_eq!((btc["quotePrecision"].as_u64(), btc["baseSizePrecision"].as_str()), (Some(2), Some("0.000001")));
    assert_eq!((btc["quoteAmountPrecision"].as_str(), btc["isSpotTradingAllowed"].as_bool()), (Some("1"), Some(true)));
    assert_eq!(btc["orderTypes"], serde_json::json!(["LIMIT", "MARKET", "LIMIT_MAKER"]));
    assert!(btc["makerCommission"].is_string() && btc["takerCommission"].is_string());
    let (_, all) = sim.get("/api/v3/exchangeInfo").await;
    assert_eq!(all["symbols"].as_array().unwrap().len(), 2);
    assert_code(&sim.get("/api/v3/exchangeInfo?symbol=DOGEUSDT").await, 10007);

    let (_, book) = sim.get("/api/v3/depth?symbol=BTCUSDT&limit=5").await;
    let (bids, asks) = (book["bids"].as_array().unwrap(), book["asks"].as_array().unwrap());
    assert_eq!((bids.len(), asks.len()), (5, 5));
    assert!(dec(&bids[0][0]) < dec(&asks[0][0]));
    assert!(book["lastUpdateId"].is_i64());

    let (_, trades) = sim.get("/api/v3/trades?symbol=BTCUSDT&limit=10").await;
    let trades = trades.as_array().unwrap();
    assert_eq!(trades.len(), 10);
    // The simulator sends trade ids where the real venue sends null (see rest.rs).
    assert!(trades[0]["id"].is_string() && trades[0]["isBuyerMaker"].is_boolean() && trades[0]["quoteQty"].is_string());
    let (_, agg) = sim.get("/api/v3/aggTrades?symbol=BTCUSDT&limit=3").await;
    assert_eq!(agg.as_array().unwrap().len(), 3);
    assert!(agg[0]["p"].is_string() && agg[0]["T"].is_i64() && agg[0]["a"].is_null());

    let (_, price) = sim.get("/api/v3/ticker/price?symbol=BTCUSDT").await;
    assert_eq!(dec(&price["price"]), dec(&trades[9]["price"]), "the last price is the last trade");
    let (_, prices) = sim.get("/api/v3/ticker/price").await;
    assert_eq!(prices.as_array().unwrap().len(), 2);
    let (_, top) = sim.get("/api/v3/ticker/bookTicker?symbol=BTCUSDT").await;
    assert_eq!((dec(&top["bidPrice"]), dec(&top["askPrice"])), (dec(&bids[0][0]), dec(&asks[0][0])));
    let (_, ticker) = sim.get("/api/v3/ticker/24hr?symbol=BTCUSDT").await;
    assert!(dec(&ticker["highPrice"]) >= dec(&ticker["lowPrice"]) && dec(&ticker["volume"]) > Decimal::ZERO);
    assert!(ticker["priceChangePercent"].as_str().unwrap().parse::<Decimal>().unwrap().abs() < Decimal::ONE);
    let (_, avg) = sim.get("/api/v3/avgPrice?symbol=BTCUSDT").await;
    assert_eq!(avg["mins"], 5);
    let (_, defaults) = sim.get("/api/v3/defaultSymbols").await;
    assert_eq!(defaults["data"], serde_json::json!(["BTCUSDT", "ETHBTC"]));
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn klines_have_eight_fields_every_interval_and_the_venue_limits() {
    let sim = spawn(config()).await;
    for (interval, ms) in [
        ("1m", 60_000),
        ("5m", 300_000),
        ("15m", 900_000),
        ("30m", 1_800_000),
        ("60m", 3_600_000),
        ("4h", 14_400_000),
        ("1d", 86_400_000),
    ] {
        let (status, rows) = sim.get(&format!("/api/v3/klines?symbol=BTCUSDT&interval={interval}&limit=3")).await;
        assert_eq!(status, StatusCode::OK);
        let rows = rows.as_array().unwrap();
        assert_eq!(rows.len(), 3, "{interval}");
        for row in rows {
            assert_eq!(row.as_array().unwrap().len(), 8);
            assert_eq!(row[6].as_i64().unwrap() - row[0].as_i64().unwrap(), ms);
            assert_eq!(row[0].as_i64().unwrap() % ms, 0);
            assert!(dec(&row[2]) >= dec(&row[3]) && row[7].is_string());
        }
    }
    let (_, many) = sim.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=1000").await;
    assert_eq!(many.as_array().unwrap().len(), 500, "the effective maximum is 500");
    let first = many[0][0].as_i64().unwrap();
    let (_, window) = sim
        .get(&format!("/api/v3/klines?symbol=BTCUSDT&interval=1m&startTime={first}&endTime={}", first + 120_000))
        .await;
    let opens: Vec<i64> = window.as_array().unwrap().iter().map(|r| r[0].as_i64().unwrap()).collect();
    assert_eq!(opens, vec![first, first + 60_000, first + 120_000]);
    assert_code(&sim.get("/api/v3/klines?symbol=BTCUSDT&interval=1h").await, 33333);
    assert_code(&sim.get("/api/v3/klines?symbol=NOPE&interval=1m").await, 10007);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_market_moves_with_the_clock_and_klines_agree_with_the_tape() {
    let sim = spawn(config()).await;
    let (_, before) = sim.get("/api/v3/trades?symbol=BTCUSDT&limit=1").await;
    sim.handle.advance(10 * 60_000);
    let (_, after) = sim.get("/api/v3/trades?symbol=BTCUSDT&limit=1000").await;
    let after = after.as_array().unwrap();
    assert!(after.last().unwrap()["time"].as_i64() > before[0]["time"].as_i64());
    // The last completed minute's candle is the aggregate of its trades.
    let (_, rows) = sim.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=2").await;
    let row = &rows[0];
    let open = row[0].as_i64().unwrap();
    let minute: Vec<&Value> =
        after.iter().filter(|t| (open..open + 60_000).contains(&t["time"].as_i64().unwrap())).collect();
    assert_eq!(dec(&minute[0]["price"]), dec(&row[1]));
    assert_eq!(dec(&minute.last().unwrap()["price"]), dec(&row[4]));
    assert_eq!(minute.iter().map(|t| dec(&t["qty"])).sum::<Decimal>(), dec(&row[5]));
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn the_same_seed_replays_the_same_trades_and_another_seed_does_not() {
    let tape = |seed: u64| async move {
        let mut c = config();
        c.seed = seed;
        let sim = spawn(c).await;
        sim.handle.advance(5 * 60_000);
        let (_, trades) = sim.get("/api/v3/trades?symbol=BTCUSDT&limit=1000").await;
        sim.handle.shutdown().await;
        trades
            .as_array()
            .unwrap()
            .iter()
            .map(|t| (t["price"].clone(), t["qty"].clone(), t["isBuyerMaker"].clone()))
            .collect::<Vec<_>>()
    };
    let (a, b, c) = (tape(7).await, tape(7).await, tape(8).await);
    assert!(a.len() > 50);
    assert_eq!(a, b);
    assert_ne!(a, c);
}

#[tokio::test]
async fn a_random_walk_market_serves_the_same_api() {
    let mut c = config();
    c.market = mexc_sim::MarketSource::RandomWalk {
        symbols: vec![("BTCUSDT".into(), Decimal::from(100)), ("SOLUSDT".into(), Decimal::from(100))],
    };
    let sim = spawn(c).await;
    sim.handle.advance(120_000);
    let (_, price) = sim.get("/api/v3/ticker/price?symbol=SOLUSDT").await;
    let price = dec(&price["price"]);
    assert!(price > Decimal::from(50) && price < Decimal::from(200), "{price}");
    let (_, rows) = sim.get("/api/v3/klines?symbol=BTCUSDT&interval=1m&limit=5").await;
    assert_eq!(rows.as_array().unwrap().len(), 5);
    sim.handle.shutdown().await;
}

#[tokio::test]
async fn synthetic_pairs_trade_beside_the_replayed_ones() {
    let mut config = config();
    config.synthetic = vec!["SYNAUSDT".into(), "SYNBUSDT".into()];
    let sim = spawn(config).await;
    let (_, all) = sim.get("/api/v3/exchangeInfo").await;
    assert_eq!(all["symbols"].as_array().unwrap().len(), 4, "two replayed, two synthetic");
    let (status, ticker) = sim.get("/api/v3/ticker/price?symbol=SYNBUSDT").await;
    assert_eq!(status, StatusCode::OK);
    assert!(dec(&ticker["price"]) > Decimal::ZERO, "{ticker}");
}
