import { GlobalPnl } from './GlobalPnl';
import { KillAllButton } from './KillAllButton';

export function Header() {
  return (
    <header className="flex items-center justify-between border-b border-border bg-surface px-6 py-3">
      <h1 className="text-lg font-semibold tracking-tight">tradingbot</h1>
      <div className="flex items-center gap-6">
        <GlobalPnl />
        <KillAllButton />
      </div>
    </header>
  );
}
