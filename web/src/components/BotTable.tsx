import type { Bot } from '../api';
import { BotActions } from './BotActions';
import { KilledBadge, ModeBadge, StatusBadge } from './Badges';
import { Money } from './Money';

const TH = 'px-3 py-2 text-left text-xs font-medium uppercase tracking-wide text-muted';
const TD = 'px-3 py-2';

/** Table of bots with their status and per-row controls. */
export function BotTable({ bots }: { bots: Bot[] }) {
  if (bots.length === 0) {
    return <p className="text-sm text-muted">No bots yet.</p>;
  }
  return (
    <div className="overflow-x-auto rounded-lg border border-border bg-surface">
      <table className="min-w-full text-sm">
        <thead className="border-b border-border">
          <tr>
            <th className={TH}>Name</th>
            <th className={TH}>Pair</th>
            <th className={TH}>Strategy</th>
            <th className={TH}>Status</th>
            <th className={TH}>Mode</th>
            <th className={`${TH} text-right`}>Budget</th>
            <th className={`${TH} text-right`}>Total P&amp;L</th>
            <th className={TH}>Actions</th>
          </tr>
        </thead>
        <tbody>
          {bots.map((bot) => (
            <tr key={bot.id} data-testid={`bot-row-${bot.id}`} className="border-b border-border last:border-0">
              <td className={`${TD} font-medium`}>{bot.name}</td>
              <td className={`${TD} font-mono`}>{bot.trading_pair}</td>
              <td className={TD}>{bot.strategy}</td>
              <td className={TD}>
                <span className="flex gap-1">
                  <StatusBadge bot={bot} />
                  {bot.killed && <KilledBadge />}
                </span>
              </td>
              <td className={TD}>
                <ModeBadge dryRun={bot.is_dry_run} />
              </td>
              <td className={`${TD} text-right`}>
                <Money value={bot.budget} testId={`bot-budget-${bot.id}`} />
              </td>
              <td className={`${TD} text-right`}>
                <Money value={bot.total_pnl} signed testId={`bot-pnl-${bot.id}`} />
              </td>
              <td className={TD}>
                <BotActions bot={bot} />
              </td>
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
