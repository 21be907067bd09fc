// Typed client for the gateway's REST API (same origin). Money and other
// decimals are strings and must stay strings.

export type BotStatus = 'created' | 'running' | 'paused' | 'stopped';

/** The user-editable part of a bot (body of POST/PUT /api/bots). */
export interface BotConfig {
  name: string;
  trading_pair: string;
  exchange: string;
  strategy: string;
  strategy_params: Record<string, unknown>;
  budget: string;
  compound_enabled: boolean;
  running_time_hours: number | null;
  stop_loss_percent: string | null;
  stop_loss_absolute: string | null;
  drawdown_limit_percent: string | null;
  drawdown_limit_absolute: string | null;
  daily_loss_limit: string | null;
  weekly_loss_limit: string | null;
  max_strategy_rotations: number;
  consecutive_loss_limit: number;
  is_dry_run: boolean;
}

export interface Bot extends BotConfig {
  id: number;
  status: BotStatus;
  killed: boolean;
  current_balance: string;
  total_pnl: string;
  created_at: string;
  updated_at: string;
  started_at: string | null;
  paused_at: string | null;
  stopped_at: string | null;
  killed_at: string | null;
}

export interface Stats {
  total_pnl: string;
  bots_total: number;
  bots_created: number;
  bots_running: number;
  bots_paused: number;
  bots_stopped: number;
  open_orders: number;
  trades_24h: number;
  volume_24h: string;
}

export interface PnlPoint {
  at: string;
  total_pnl: string;
}

export interface KillAllResult {
  killed: number;
}

/** What the daemon made of an uploaded candle file (POST /api/backtests/candles). */
export interface CandleUpload {
  /** The file's id: the lowercase hex SHA-256 of its bytes. */
  data_id: string;
  candles: number;
  first_candle_at: string | null;
  last_candle_at: string | null;
  size: number;
  /** The daemon already held this content. */
  already_held: boolean;
}

/** Body of POST /api/backtests: candles are named by an upload's `data_id`, never by a path. */
export interface BacktestRequest {
  strategy: string;
  trading_pair: string;
  data_id: string;
  strategy_params?: Record<string, unknown>;
  budget?: string;
  fee?: string;
  from?: string;
  to?: string;
}

export interface BacktestTrade {
  at: string;
  side: string;
  price: string;
  amount: string;
  fee: string;
  realized_pnl: string | null;
  reason: string;
}

export interface BacktestReport {
  candles: number;
  first_candle_at: string;
  last_candle_at: string;
  trade_count: number;
  trades: BacktestTrade[];
  fees: string;
  realized_pnl: string;
  total_pnl: string;
  final_equity: string;
  max_drawdown: string;
  win_rate: string | null;
}

export interface Violation {
  field: string;
  description: string;
}

/** Error returned by the API: {"error": {code, message, field?, violations?}}. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field?: string,
    readonly violations?: Violation[],
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'DELETE';

async function request<T>(method: Method, path: string, body?: unknown): Promise<T> {
  const init: RequestInit = { method, headers: { Accept: 'application/json' } };
  if (method !== 'GET') {
    // Mutations always carry a JSON body, `{}` when there is nothing to send.
    init.headers = { ...init.headers, 'Content-Type': 'application/json' };
    init.body = JSON.stringify(body ?? {});
  }
  return answer<T>(await fetch(path, init));
}

async function answer<T>(res: Response): Promise<T> {
  const text = await res.text();
  const json: unknown = text ? parseJson(text) : undefined;
  if (!res.ok) throw toApiError(res, json);
  return json as T;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

interface ErrorBody {
  error?: { code?: string; message?: string; field?: string; violations?: Violation[] };
}

function toApiError(res: Response, json: unknown): ApiError {
  const err = (json as ErrorBody | undefined)?.error;
  if (err && typeof err.message === 'string') {
    return new ApiError(res.status, err.code ?? 'unknown', err.message, err.field, err.violations);
  }
  return new ApiError(res.status, 'http_error', `HTTP ${res.status} ${res.statusText}`.trim());
}

/** Human-readable message for any error thrown by the client. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/**
 * Sends a candle file's bytes as the body (the daemon never opens a path, so the file itself
 * goes); the gateway relays them to the daemon, which checks and keeps them by content hash.
 */
async function uploadCandles(file: Blob): Promise<CandleUpload> {
  const res = await fetch('/api/backtests/candles', {
    method: 'POST',
    headers: { Accept: 'application/json', 'Content-Type': 'application/octet-stream' },
    body: file,
  });
  return answer<CandleUpload>(res);
}

export type BotAction = 'start' | 'pause' | 'kill' | 'go-live' | 'copy';

export const api = {
  listBots: () => request<Bot[]>('GET', '/api/bots'),
  getBot: (id: number) => request<Bot>('GET', `/api/bots/${id}`),
  createBot: (config: BotConfig) => request<Bot>('POST', '/api/bots', config),
  updateBot: (id: number, config: BotConfig) => request<Bot>('PUT', `/api/bots/${id}`, config),
  deleteBot: (id: number) => request<void>('DELETE', `/api/bots/${id}`),
  botAction: (id: number, action: BotAction) => request<Bot>('POST', `/api/bots/${id}/${action}`),
  stopBot: (id: number, cancelPending: boolean) =>
    request<Bot>('POST', `/api/bots/${id}/stop`, { cancel_pending: cancelPending }),
  killAll: () => request<KillAllResult>('POST', '/api/kill-all'),
  stats: () => request<Stats>('GET', '/api/stats'),
  pnl: () => request<PnlPoint[]>('GET', '/api/pnl'),
  uploadCandles,
  runBacktest: (req: BacktestRequest) => request<BacktestReport>('POST', '/api/backtests', req),
};
