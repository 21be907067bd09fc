import { fireEvent, screen, waitFor, within } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { callsTo, makeBot, makeStats, renderApp, stubFetch, type Routes } from '../test/utils';

const bots = [
  makeBot({ id: 1, name: 'btc dca', status: 'running', budget: '100.10', total_pnl: '12.30' }),
  makeBot({ id: 2, name: 'eth grid', trading_pair: 'ETH/USDT', status: 'paused', total_pnl: '-5.50', is_dry_run: false }),
  makeBot({ id: 3, name: 'sol', trading_pair: 'SOL/USDT', status: 'stopped', total_pnl: '0.00' }),
];

const baseRoutes: Routes = {
  'GET /api/bots': { body: bots },
  'GET /api/stats': { body: makeStats() },
};

describe('Bots page', () => {
  it('renders one row per bot with status badges coloured by status', async () => {
    stubFetch(baseRoutes);
    renderApp('/bots');

    expect(await screen.findByTestId('bot-row-1')).toBeTruthy();
    const row2 = screen.getByTestId('bot-row-2');
    expect(within(row2).getByText('eth grid')).toBeTruthy();
    expect(within(row2).getByText('ETH/USDT')).toBeTruthy();
    expect(within(row2).getByText('live')).toBeTruthy();
    expect(within(screen.getByTestId('bot-row-1')).getByText('dry-run')).toBeTruthy();

    const expected = { 1: ['running', 'text-running'], 2: ['paused', 'text-paused'], 3: ['stopped', 'text-stopped'] };
    for (const [id, [text, colour]] of Object.entries(expected)) {
      const badge = screen.getByTestId(`bot-status-${id}`);
      expect(badge.textContent).toBe(text);
      expect(badge.className).toContain(colour);
    }
  });

  it('shows money strings exactly as given, coloured by sign', async () => {
    stubFetch(baseRoutes);
    renderApp('/bots');

    const budget = await screen.findByTestId('bot-budget-1');
    expect(budget.textContent).toBe('100.10');
    expect(screen.getByTestId('bot-pnl-1').textContent).toBe('12.30');
    expect(screen.getByTestId('bot-pnl-1').className).toContain('text-profit');
    expect(screen.getByTestId('bot-pnl-2').textContent).toBe('-5.50');
    expect(screen.getByTestId('bot-pnl-2').className).toContain('text-loss');
    expect(screen.getByTestId('bot-pnl-3').textContent).toBe('0.00');
  });

  it('Pause posts to /api/bots/{id}/pause with a JSON body', async () => {
    const fetchMock = stubFetch({ ...baseRoutes, 'POST /api/bots/1/pause': { body: { ...bots[0], status: 'paused' } } });
    renderApp('/bots');

    fireEvent.click(within(await screen.findByTestId('bot-row-1')).getByRole('button', { name: 'Pause' }));

    await waitFor(() => expect(callsTo(fetchMock, 'POST /api/bots/1/pause')).toHaveLength(1));
    const [, init] = callsTo(fetchMock, 'POST /api/bots/1/pause')[0];
    expect(new Headers(init?.headers).get('Content-Type')).toBe('application/json');
    expect(init?.body).toBe('{}');
  });

  it.each([true, false])('Stop sends cancel_pending=%s from the confirmation', async (answer) => {
    const fetchMock = stubFetch({ ...baseRoutes, 'POST /api/bots/2/stop': { body: { ...bots[1], status: 'stopped' } } });
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(answer);
    renderApp('/bots');

    fireEvent.click(within(await screen.findByTestId('bot-row-2')).getByRole('button', { name: 'Stop' }));

    await waitFor(() => expect(callsTo(fetchMock, 'POST /api/bots/2/stop')).toHaveLength(1));
    expect(confirm).toHaveBeenCalledOnce();
    const [, init] = callsTo(fetchMock, 'POST /api/bots/2/stop')[0];
    expect(JSON.parse(String(init?.body))).toEqual({ cancel_pending: answer });
    expect(new Headers(init?.headers).get('Content-Type')).toBe('application/json');
  });

  it("shows the API error body's message in a toast", async () => {
    stubFetch({
      ...baseRoutes,
      'POST /api/bots/3/start': {
        status: 409,
        body: { error: { code: 'failed_precondition', message: 'bot 3 is stopped and cannot be restarted' } },
      },
    });
    renderApp('/bots');

    fireEvent.click(within(await screen.findByTestId('bot-row-3')).getByRole('button', { name: 'Start' }));

    const toast = await screen.findByRole('alert');
    expect(toast.textContent).toContain('bot 3 is stopped and cannot be restarted');
  });

  it('shows a load error instead of the table', async () => {
    stubFetch({
      ...baseRoutes,
      'GET /api/bots': { status: 500, body: { error: { code: 'internal', message: 'database unavailable' } } },
    });
    renderApp('/bots');

    expect(await screen.findByText(/database unavailable/)).toBeTruthy();
  });
});
