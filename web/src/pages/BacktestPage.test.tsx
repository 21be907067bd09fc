import { fireEvent, screen, waitFor } from '@testing-library/react';
import { describe, expect, it } from 'vitest';
import { callsTo, renderApp, stubFetch } from '../test/utils';

const CSV = 'open_time_ms,open,high,low,close,volume\n60000,1,2,1,2,5\n';
const ID = 'ab'.repeat(32);

function chooseFile(contents: string) {
  const file = new File([contents], 'candles.csv', { type: 'text/csv' });
  fireEvent.change(screen.getByLabelText('Candle file'), { target: { files: [file] } });
  return file;
}

describe('Backtest page', () => {
  it('uploads the chosen file as bytes and runs the backtest by its id, never by a path', async () => {
    const fetchMock = stubFetch({
      'POST /api/backtests/candles': {
        status: 201,
        body: { data_id: ID, candles: 1, first_candle_at: null, last_candle_at: null, size: 52, already_held: false },
      },
      'POST /api/backtests': {
        body: {
          candles: 1,
          first_candle_at: '1970-01-01T00:01:00.000Z',
          last_candle_at: '1970-01-01T00:01:00.000Z',
          trade_count: 0,
          trades: [],
          fees: '0',
          realized_pnl: '0',
          total_pnl: '12.5',
          final_equity: '1012.5',
          max_drawdown: '0',
          win_rate: null,
        },
      },
    });
    renderApp('/backtest');
    const file = chooseFile(CSV);
    fireEvent.change(screen.getByLabelText('Fee'), { target: { value: '0.001' } });
    fireEvent.click(screen.getByRole('button', { name: 'Run backtest' }));

    expect((await screen.findByTestId('backtest-total-pnl')).textContent).toBe('12.5');
    const [upload] = callsTo(fetchMock, 'POST /api/backtests/candles');
    expect(new Headers(upload[1]?.headers).get('Content-Type')).toBe('application/octet-stream');
    expect(upload[1]?.body).toBe(file);
    const [run] = callsTo(fetchMock, 'POST /api/backtests');
    const body = JSON.parse(String(run[1]?.body)) as Record<string, unknown>;
    expect(body).toEqual({ strategy: 'mean_reversion', trading_pair: 'BTC/USDT', data_id: ID, fee: '0.001' });
    expect(JSON.stringify(body)).not.toContain('path');
  });

  it("shows a refused file's line and reason and runs nothing", async () => {
    const fetchMock = stubFetch({
      'POST /api/backtests/candles': {
        status: 400,
        body: {
          error: {
            code: 'invalid_argument',
            message: 'invalid request: data: line 3: open is not a number',
            field: 'data',
            violations: [{ field: 'data', description: 'line 3: open is not a number' }],
          },
        },
      },
    });
    renderApp('/backtest');
    chooseFile(CSV);
    fireEvent.click(screen.getByRole('button', { name: 'Run backtest' }));

    expect((await screen.findByRole('alert')).textContent).toBe('data: line 3: open is not a number');
    await waitFor(() => expect(callsTo(fetchMock, 'POST /api/backtests')).toHaveLength(0));
  });
});
