#!/usr/bin/env python3
"""Scripted automation against the tradingd gRPC API.

Walks one dry-run bot through its lifecycle: health check, create, start, list,
pause, global stats, a deliberately invalid request, and stop.

    pip install -r requirements.txt
    python tradingbot_client.py --addr 127.0.0.1:50051

A daemon started with a token (TRADINGD_TOKEN or --token-file) wants it with every call:
this script sends the token of TRADINGD_TOKEN, or of the file given with --token-file.
"""
import argparse
import collections
import importlib
import os
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


class _CallDetails(collections.namedtuple(
        "_CallDetails", ("method", "timeout", "metadata", "credentials", "wait_for_ready", "compression")),
        grpc.ClientCallDetails):
    pass


class BearerToken(grpc.UnaryUnaryClientInterceptor, grpc.UnaryStreamClientInterceptor):
    """Adds `authorization: Bearer <token>` to every call."""

    def __init__(self, token: str):
        self._header = ("authorization", f"Bearer {token}")

    def _with_token(self, details):
        metadata = list(details.metadata or []) + [self._header]
        return _CallDetails(details.method, details.timeout, metadata, details.credentials,
                            details.wait_for_ready, details.compression)

    def intercept_unary_unary(self, continuation, details, request):
        return continuation(self._with_token(details), request)

    def intercept_unary_stream(self, continuation, details, request):
        return continuation(self._with_token(details), request)


def read_token(token_file):
    """The token of --token-file, else of TRADINGD_TOKEN, else none."""
    if token_file is not None:
        try:
            return token_file.read_text().strip()
        except OSError as err:
            sys.exit(f"error: cannot read the token file {token_file}: {err.strerror}")
    return os.environ.get("TRADINGD_TOKEN", "").strip() or None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--addr", default="127.0.0.1:50051", help="tradingd gRPC address")
    parser.add_argument("--proto-dir", type=pathlib.Path, default=DEFAULT_PROTO_DIR,
                        help="proto root containing tradingbot/v1/*.proto")
    parser.add_argument("--token-file", type=pathlib.Path,
                        help="file holding the daemon's token (default: TRADINGD_TOKEN)")
    args = parser.parse_args()
    token = read_token(args.token_file)

    with tempfile.TemporaryDirectory() as gen_dir:
        bots_pb2, bots_grpc, reports_pb2, reports_grpc = load_protos(args.proto_dir, gen_dir)
        channel = grpc.insecure_channel(args.addr)
        if token is not None:
            channel = grpc.intercept_channel(channel, BearerToken(token))

        # 1. Health: wait briefly for the channel, then ask for the overall status ("").
        try:
            grpc.channel_ready_future(channel).result(timeout=5)
            health = health_pb2_grpc.HealthStub(channel).Check(
                health_pb2.HealthCheckRequest(service=""), timeout=5)
        except grpc.RpcError as err:
            if err.code() == grpc.StatusCode.UNAUTHENTICATED:
                print(f"error: tradingd wants its token ({err.details()}); set TRADINGD_TOKEN or pass "
                      "--token-file", file=sys.stderr)
                return 2
            print(f"error: tradingd at {args.addr} did not answer the health check ({err.details()})",
                  file=sys.stderr)
            return 2
        except grpc.FutureTimeoutError:
            print(f"error: tradingd is not reachable at {args.addr} (no connection within 5 s); is it running?",
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
