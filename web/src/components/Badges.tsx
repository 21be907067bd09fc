import type { Bot, BotStatus } from '../api';

const STATUS_CLASS: Record<BotStatus, string> = {
  created: 'border-muted/40 bg-muted/10 text-muted',
  running: 'border-running/40 bg-running/15 text-running',
  paused: 'border-paused/40 bg-paused/15 text-paused',
  stopped: 'border-stopped/40 bg-stopped/15 text-stopped',
};

const BASE = 'inline-block rounded-full border px-2 py-0.5 text-xs font-medium';

export function StatusBadge({ bot }: { bot: Bot }) {
  return (
    <span data-testid={`bot-status-${bot.id}`} className={`${BASE} ${STATUS_CLASS[bot.status]}`}>
      {bot.status}
    </span>
  );
}

export function KilledBadge() {
  return <span className={`${BASE} border-loss/40 bg-loss/15 text-loss`}>killed</span>;
}

export function ModeBadge({ dryRun }: { dryRun: boolean }) {
  return dryRun ? (
    <span className={`${BASE} border-muted/40 text-muted`}>dry-run</span>
  ) : (
    <span className={`${BASE} border-accent/50 bg-accent/15 text-accent`}>live</span>
  );
}
