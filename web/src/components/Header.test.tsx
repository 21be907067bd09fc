import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it, vi } from 'vitest';
import { callsTo, makeStats, renderApp, stubFetch, type Routes } from '../test/utils';

const routes: Routes = {
  'GET /api/bots': { body: [] },
  'GET /api/stats': { body: makeStats({ total_pnl: '-42.10' }) },
  'GET /api/pnl': { body: [] },
  'POST /api/kill-all': { body: { killed: 2 } },
};

describe('Header', () => {
  it('shows the global P&L exactly, coloured by sign', async () => {
    stubFetch(routes);
    renderApp('/');

    await waitFor(() => expect(screen.getByTestId('global-pnl').textContent).toBe('-42.10'));
    expect(screen.getByTestId('global-pnl').className).toContain('text-loss');
  });

  it('Kill all does nothing when the confirmation is declined', async () => {
    const fetchMock = stubFetch(routes);
    const confirm = vi.spyOn(window, 'confirm').mockReturnValue(false);
    renderApp('/');
    await screen.findByText('No bots yet.');

    fireEvent.click(screen.getByTestId('kill-all'));
    expect(confirm).toHaveBeenCalledOnce();
    // Let a mutation the click might have started reach fetch: the next macrotask runs after
    // every microtask the click queued.
    await new Promise((resolve) => setTimeout(resolve, 0));
    expect(callsTo(fetchMock, 'POST /api/kill-all')).toHaveLength(0);
    expect(screen.queryByRole('status')).toBeNull();

    // The positive control, in the same page: accepted, the same click does post, once; so
    // the declined click above would have been seen had it posted.
    confirm.mockReturnValue(true);
    fireEvent.click(screen.getByTestId('kill-all'));
    expect((await screen.findByRole('status')).textContent).toContain('Killed 2 bots');
    expect(confirm).toHaveBeenCalledTimes(2);
    expect(callsTo(fetchMock, 'POST /api/kill-all')).toHaveLength(1);
  });

  it('Kill all posts after confirmation, refetches and toasts the count', async () => {
    const fetchMock = stubFetch(routes);
    vi.spyOn(window, 'confirm').mockReturnValue(true);
    renderApp('/');
    await screen.findByText('No bots yet.');
    const statsCallsBefore = callsTo(fetchMock, 'GET /api/stats').length;

    fireEvent.click(screen.getByTestId('kill-all'));

    expect((await screen.findByRole('status')).textContent).toContain('Killed 2 bots');
    const [, init] = callsTo(fetchMock, 'POST /api/kill-all')[0];
    expect(new Headers(init?.headers).get('Content-Type')).toBe('application/json');
    await waitFor(() => expect(callsTo(fetchMock, 'GET /api/stats').length).toBeGreaterThan(statsCallsBefore));
  });
});
