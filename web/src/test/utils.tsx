import { render } from '@testing-library/react';
import { QueryClient, QueryClientProvider } from '@tanstack/react-query';
import { MemoryRouter } from 'react-router-dom';
import { vi } from 'vitest';
import type { Bot, Stats } from '../api';
import { App } from '../App';
import { ToastProvider } from '../components/ToastProvider';
import { routerFuture } from '../routerFuture';

export function makeBot(overrides: Partial<Bot> = {}): Bot {
  return {
    id: 1,
    name: 'btc dca',
    trading_pair: 'BTC/USDT',
    exchange: 'sim',
    strategy: 'dca_accumulator',
    strategy_params: { quote_amount: '10', interval_minutes: 60 },
    budget: '100',
    compound_enabled: false,
    running_time_hours: null,
    stop_loss_percent: null,
    stop_loss_absolute: null,
    drawdown_limit_percent: null,
    drawdown_limit_absolute: null,
    daily_loss_limit: null,
    weekly_loss_limit: null,
    max_strategy_rotations: 3,
    consecutive_loss_limit: 3,
    is_dry_run: true,
    status: 'created',
    killed: false,
    current_balance: '100',
    total_pnl: '0',
    created_at: '2026-11-27T13:27:53.123Z',
    updated_at: '2026-11-27T13:27:53.123Z',
    started_at: null,
    paused_at: null,
    stopped_at: null,
    killed_at: null,
    ...overrides,
  };
}

export function makeStats(overrides: Partial<Stats> = {}): Stats {
  return {
    total_pnl: '0',
    bots_total: 0,
    bots_created: 0,
    bots_running: 0,
    bots_paused: 0,
    bots_stopped: 0,
    open_orders: 0,
    trades_24h: 0,
    volume_24h: '0',
    ...overrides,
  };
}

interface Reply {
  status?: number;
  body?: unknown;
}

/** Routes keyed by "METHOD /path"; a function gets the request init. */
export type Routes = Record<string, Reply | ((init: RequestInit) => Reply)>;

/** Replaces global fetch with a vi.fn answering from `routes` (404 otherwise). */
export function stubFetch(routes: Routes) {
  const fetchMock = vi.fn(async (input: RequestInfo | URL, init: RequestInit = {}) => {
    const key = `${init.method ?? 'GET'} ${String(input)}`;
    const route = routes[key];
    const reply: Reply = route
      ? typeof route === 'function'
        ? route(init)
        : route
      : { status: 404, body: { error: { code: 'not_found', message: `no stub for ${key}` } } };
    const text = reply.body === undefined ? '' : JSON.stringify(reply.body);
    return new Response(text, { status: reply.status ?? 200, headers: { 'Content-Type': 'application/json' } });
  });
  vi.stubGlobal('fetch', fetchMock);
  return fetchMock;
}

/** Calls made to `fetch` for a given "METHOD /path". */
export function callsTo(fetchMock: ReturnType<typeof stubFetch>, key: string) {
  return fetchMock.mock.calls.filter(([input, init]) => `${init?.method ?? 'GET'} ${String(input)}` === key);
}

export function newQueryClient() {
  return new QueryClient({ defaultOptions: { queries: { retry: false }, mutations: { retry: false } } });
}

/** Renders the whole app (shell + routes) at `route`. */
export function renderApp(route = '/') {
  const queryClient = newQueryClient();
  return render(
    <QueryClientProvider client={queryClient}>
      <ToastProvider>
        <MemoryRouter initialEntries={[route]} future={routerFuture}>
          <App />
        </MemoryRouter>
      </ToastProvider>
    </QueryClientProvider>,
  );
}
