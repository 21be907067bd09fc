import { useMutation } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { ApiError, api, errorMessage, type BacktestReport, type CandleUpload } from '../api';
import { Section } from '../components/Section';

interface Outcome {
  upload: CandleUpload;
  report: BacktestReport;
}

/** The error of a refused file or request, one line per violation (a file's says which line). */
function problems(err: unknown): string[] {
  if (err instanceof ApiError && err.violations?.length) {
    return err.violations.map((v) => `${v.field}: ${v.description}`);
  }
  return [errorMessage(err)];
}

/** Runs a backtest on a candle file chosen here: the file is uploaded, then named by its id. */
export function BacktestPage() {
  const [file, setFile] = useState<File | null>(null);
  const [strategy, setStrategy] = useState('mean_reversion');
  const [pair, setPair] = useState('BTC/USDT');
  const [fee, setFee] = useState('');
  const run = useMutation({
    mutationFn: async (chosen: File): Promise<Outcome> => {
      const upload = await api.uploadCandles(chosen);
      const report = await api.runBacktest({
        strategy,
        trading_pair: pair,
        data_id: upload.data_id,
        ...(fee.trim() ? { fee: fee.trim() } : {}),
      });
      return { upload, report };
    },
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (file) run.mutate(file);
  };
  const field = 'rounded-md border border-border bg-surface px-2 py-1 text-sm';
  return (
    <Section title="Backtest">
      <form className="flex flex-wrap items-end gap-3" onSubmit={submit}>
        <label className="flex flex-col gap-1 text-sm">
          Candle file (CSV or freqtrade/ccxt JSON)
          <input
            type="file"
            accept=".csv,.json,text/csv,application/json"
            aria-label="Candle file"
            onChange={(e) => setFile(e.target.files?.[0] ?? null)}
          />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Strategy
          <input className={field} aria-label="Strategy" value={strategy} onChange={(e) => setStrategy(e.target.value)} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Pair
          <input className={field} aria-label="Pair" value={pair} onChange={(e) => setPair(e.target.value)} />
        </label>
        <label className="flex flex-col gap-1 text-sm">
          Fee per side
          <input className={field} aria-label="Fee" placeholder="venue's" value={fee} onChange={(e) => setFee(e.target.value)} />
        </label>
        <button
          type="submit"
          className="rounded-md bg-accent px-3 py-1 text-sm text-fg disabled:opacity-50"
          disabled={!file || run.isPending}
        >
          {run.isPending ? 'Running…' : 'Run backtest'}
        </button>
      </form>
      {run.isError && (
        <ul role="alert" className="text-sm text-loss">
          {problems(run.error).map((p) => (
            <li key={p}>{p}</li>
          ))}
        </ul>
      )}
      {run.data && (
        <dl className="grid grid-cols-2 gap-x-4 gap-y-1 text-sm" data-testid="backtest-report">
          <dt className="text-muted">Candles</dt>
          <dd>
            {run.data.report.candles} ({run.data.report.first_candle_at} to {run.data.report.last_candle_at})
          </dd>
          <dt className="text-muted">Trades</dt>
          <dd>{run.data.report.trade_count}</dd>
          <dt className="text-muted">Win rate</dt>
          <dd>{run.data.report.win_rate ?? '—'}</dd>
          <dt className="text-muted">Fees</dt>
          <dd>{run.data.report.fees}</dd>
          <dt className="text-muted">Total P&amp;L</dt>
          <dd data-testid="backtest-total-pnl">{run.data.report.total_pnl}</dd>
          <dt className="text-muted">Final equity</dt>
          <dd>{run.data.report.final_equity}</dd>
          <dt className="text-muted">Max drawdown</dt>
          <dd>{run.data.report.max_drawdown}</dd>
          <dt className="text-muted">File id</dt>
          <dd className="font-mono text-xs">{run.data.upload.data_id}</dd>
        </dl>
      )}
    </Section>
  );
}
