import { screen, within } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { makeBot, makeStats, renderApp, stubFetch } from '../test/utils';

describe('Dashboard', () => {
  it('shows stats cards, the bot list and an empty P&L state', async () => {
    stubFetch({
      'GET /api/bots': { body: [makeBot({ id: 7, status: 'running' })] },
      'GET /api/stats': {
        body: makeStats({ bots_running: 1, bots_paused: 2, bots_stopped: 3, open_orders: 4, trades_24h: 5, volume_24h: '1234.50' }),
      },
      'GET /api/pnl': { body: [] },
    });
    renderApp('/');

    expect(await screen.findByText('No P&L history yet.')).toBeTruthy();
    expect((await screen.findByTestId('stats-volume-24h')).textContent).toBe('1234.50');
    expect(within(screen.getByText('Paused').parentElement!).getByText('2')).toBeTruthy();
    expect(within(screen.getByText('Open orders').parentElement!).getByText('4')).toBeTruthy();
    expect(await screen.findByTestId('bot-row-7')).toBeTruthy();
  });

  it('renders the chart when there is P&L history', async () => {
    stubFetch({
      'GET /api/bots': { body: [] },
      'GET /api/stats': { body: makeStats() },
      'GET /api/pnl': { body: [{ at: '2026-11-27T13:00:00Z', total_pnl: '1.5' }] },
    });
    renderApp('/');

    expect(await screen.findByTestId('pnl-chart')).toBeTruthy();
  });
});
