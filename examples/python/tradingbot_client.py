#!/usr/bin/env python3
"""Scripted automation against the tradingd gRPC API.

Walks one dry-run bot through its lifecycle: health check, create, start, list,
pause, global stats, a deliberately invalid request, and stop.

    pip install -r requirements.txt
    python tradingbot_client.py --addr 127.0.0.1:50051
"""
import argparse
import importlib
import pathlib
import sys
import tempfile

import grpc
from google.protobuf import struct_pb2
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_tools import protoc

# The repo layout is <repo>/examples/python/this_file.py, protos live in <repo>/proto.
DEFAULT_PROTO_DIR = pathlib.Path(__file__).resolve().parents[2] / "proto"


def load_protos(proto_dir: pathlib.Path, out_dir: str):
    """Compile the tradingbot protos into out_dir and import the generated modules."""
    files = sorted(str(p.relative_to(proto_dir)) for p in proto_dir.glob("tradingbot/v1/*.proto"))
    if not files:
        sys.exit(f"error: no tradingbot/v1/*.proto under {proto_dir} (use --proto-dir)")
    # grpc_tools bundles the well-known types (google/protobuf/struct.proto).
    well_known = pathlib.Path(protoc.__file__).parent / "_proto"
    args = ["protoc", f"-I{proto_dir}", f"-I{well_known}",
            f"--python_out={out_dir}", f"--grpc_python_out={out_dir}", *files]
    if protoc.main(args) != 0:
        sys.exit("error: protoc failed to compile the protos")
    sys.path.insert(0, out_dir)  # generated code imports "tradingbot.v1.common_pb2" etc.
    mod = lambda name: importlib.import_module(f"tradingbot.v1.{name}")
    return mod("bots_pb2"), mod("bots_pb2_grpc"), mod("reports_pb2"), mod("reports_pb2_grpc")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:50051", help="tradingd gRPC address")
    parser.add_argument("--proto-dir", type=pathlib.Path, default=DEFAULT_PROTO_DIR,
                        help="proto root containing tradingbot/v1/*.proto")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as gen_dir:
        bots_pb2, bots_grpc, reports_pb2, reports_grpc = load_protos(args.proto_dir, gen_dir)
        channel = grpc.insecure_channel(args.addr)

        # 1. Health: wait briefly for the channel, then ask for the overall status ("").
        try:
            grpc.channel_ready_future(channel).result(timeout=5)
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=5)
        except (grpc.FutureTimeoutError, grpc.RpcError) as err:
            why = err.details() if isinstance(err, grpc.RpcError) else "no connection within 5 s"
            print(f"error: tradingd is not reachable at {args.addr} ({why}); is it running?",
                  file=sys.stderr)
            return 2
        status = health_pb2.HealthCheckResponse.ServingStatus.Name(health.status)
        print(f"health: {status}")
        if health.status != health_pb2.HealthCheckResponse.SERVING:
            return 3

        bots = bots_grpc.BotServiceStub(channel)
        reports = reports_grpc.ReportServiceStub(channel)
        # BOT_STATUS_RUNNING -> "running"
        status_name = lambda s: bots_pb2.BotStatus.Name(s).removeprefix("BOT_STATUS_").lower()

        # 2. Create a dry-run bot. Money is always a decimal string, never a float.
        params = struct_pb2.Struct()
        params.update({"quote_amount": "5"})
        config = bots_pb2.BotConfig(name="python example", trading_pair="BTC/USDT",
                                    strategy="dca_accumulator", strategy_params=params,
                                    budget="100", is_dry_run=True)
        bot = bots.CreateBot(bots_pb2.CreateBotRequest(config=config))
        print(f"created bot {bot.id}: {status_name(bot.status)}")

        # 3. Start it, then list all bots as a small table.
        bot = bots.StartBot(bots_pb2.StartBotRequest(id=bot.id))
        print(f"started bot {bot.id}: {status_name(bot.status)}")
        row = "{:>4}  {:<20} {:<10} {:<16} {:<8} {:>8}"
        print(row.format("ID", "NAME", "PAIR", "STRATEGY", "STATUS", "BUDGET"))
        for b in bots.ListBots(bots_pb2.ListBotsRequest()).bots:
            print(row.format(b.id, b.name[:20], b.trading_pair, b.strategy,
                             status_name(b.status), b.budget))

        # 4. Pause it and show the global statistics.
        bot = bots.PauseBot(bots_pb2.PauseBotRequest(id=bot.id))
        print(f"paused bot {bot.id}: {status_name(bot.status)}")
        stats = reports.GetStats(reports_pb2.GetStatsRequest())
        print(f"stats: bots_total={stats.bots_total} running={stats.bots_running} "
              f"paused={stats.bots_paused} open_orders={stats.open_orders} "
              f"dry_run_pnl={stats.dry_run_pnl}")

        # 5. What a validation error looks like: INVALID_ARGUMENT with a readable message.
        bad = bots_pb2.BotConfig(trading_pair="BTC/USDT", strategy="dca_accumulator", budget="-1")
        try:
            bots.CreateBot(bots_pb2.CreateBotRequest(config=bad))
            print("error: a negative budget was accepted", file=sys.stderr)
            return 1
        except grpc.RpcError as err:
            print(f"rejected as expected: {err.code().name}: {err.details()}")

        # 6. Stop the bot, cancelling anything it still has pending.
        bot = bots.StopBot(bots_pb2.StopBotRequest(id=bot.id, cancel_pending=True))
        print(f"stopped bot {bot.id}: {status_name(bot.status)}")
        channel.close()
        print(f"OK bot {bot.id} created, started, paused, stopped")
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except grpc.RpcError as err:  # any unexpected RPC failure: clear message, non-zero exit
        sys.exit(f"error: {err.code().name}: {err.details()}")
