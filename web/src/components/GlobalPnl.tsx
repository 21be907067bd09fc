import { useStats } from '../hooks/queries';
import { Money } from './Money';

/** Total P&L across all bots, coloured by sign. */
export function GlobalPnl() {
  const stats = useStats();
  return (
    <div className="flex items-baseline gap-2 text-sm">
      <span className="text-muted">P&amp;L</span>
      {stats.data ? (
        <Money value={stats.data.total_pnl} signed testId="global-pnl" />
      ) : (
        <span data-testid="global-pnl" className="font-mono text-muted">—</span>
      )}
    </div>
  );
}
