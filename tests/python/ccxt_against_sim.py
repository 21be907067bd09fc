"""An unmodified third-party MEXC client (ccxt) trading against the local simulator.

Usage: python3 ccxt_against_sim.py http://127.0.0.1:PORT API_KEY API_SECRET

Loads markets (ccxt also reads the capital-config endpoint for currencies), reads the book,
candles, trades and balances, places, queries and cancels orders and reads its fills. Prints
one line per step and exits non-zero with the failing step on any problem.
"""

import sys

import ccxt


def main() -> int:
    base, key, secret = sys.argv[1], sys.argv[2], sys.argv[3]
    exchange = ccxt.mexc({
        "apiKey": key,
        "secret": secret,
        "enableRateLimit": False,
    })
    # Point the venue's endpoints at the simulator; nothing else about ccxt changes.
    exchange.urls["api"]["spot"] = {"public": base, "private": base}
    exchange.urls["api"]["contract"] = {"public": base + "/api/v1/contract", "private": base + "/api/v1/private"}

    def step(name, value):
        print(f"ok - {name}: {value}")

    markets = exchange.load_markets()
    assert "BTC/USDT" in markets, sorted(markets)[:10]
    step("load_markets", f"{len(markets)} markets, BTC/USDT precision {markets['BTC/USDT']['precision']}")
    book = exchange.fetch_order_book("BTC/USDT", limit=5)
    assert book["bids"] and book["asks"] and book["bids"][0][0] < book["asks"][0][0]
    step("fetch_order_book", f"best bid {book['bids'][0][0]} ask {book['asks'][0][0]}")
    candles = exchange.fetch_ohlcv("BTC/USDT", "1m", limit=5)
    assert candles and all(c[3] <= c[2] for c in candles)
    step("fetch_ohlcv", f"{len(candles)} candles")
    trades = exchange.fetch_trades("BTC/USDT", limit=10)
    assert trades
    step("fetch_trades", f"{len(trades)} trades")
    balance = exchange.fetch_balance()
    assert balance["USDT"]["free"] > 0
    step("fetch_balance", f"USDT free {balance['USDT']['free']}")

    price = round(book["bids"][0][0] * 0.9, 2)
    resting = exchange.create_order("BTC/USDT", "limit", "buy", 0.001, price)
    step("create_order limit", resting["id"])
    fetched = exchange.fetch_order(resting["id"], "BTC/USDT")
    assert fetched["status"] == "open", fetched["status"]
    step("fetch_order", fetched["status"])
    open_orders = exchange.fetch_open_orders("BTC/USDT")
    assert any(o["id"] == resting["id"] for o in open_orders)
    step("fetch_open_orders", f"{len(open_orders)} open")
    exchange.cancel_order(resting["id"], "BTC/USDT")
    assert exchange.fetch_order(resting["id"], "BTC/USDT")["status"] == "canceled"
    step("cancel_order", "canceled")

    market = exchange.create_order("BTC/USDT", "market", "buy", 0.001)
    step("create_order market", market["id"])
    fills = exchange.fetch_my_trades("BTC/USDT")
    assert any(t["order"] == market["id"] for t in fills), fills
    step("fetch_my_trades", f"{len(fills)} fills")
    print("ccxt: all steps passed")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception as error:  # report the failing step clearly, then fail
        print(f"FAIL: {type(error).__name__}: {error}")
        sys.exit(1)
