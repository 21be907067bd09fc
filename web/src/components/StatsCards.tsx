import type { ReactNode } from 'react';
import { errorMessage } from '../api';
import { useStats } from '../hooks/queries';
import { Money } from './Money';

function Card({ label, children }: { label: string; children: ReactNode }) {
  return (
    <div className="rounded-lg border border-border bg-surface p-4">
      <div className="text-xs uppercase tracking-wide text-muted">{label}</div>
      <div className="mt-1 text-2xl font-semibold">{children}</div>
    </div>
  );
}

function Count({ value, className = '' }: { value: number; className?: string }) {
  return <span className={`font-mono tabular-nums ${className}`}>{value}</span>;
}

/** Headline numbers from GET /api/stats. */
export function StatsCards() {
  const stats = useStats();
  if (stats.isPending) return <p className="text-sm text-muted">Loading stats…</p>;
  if (stats.isError) {
    return <p className="text-sm text-loss">Could not load stats: {errorMessage(stats.error)}</p>;
  }
  const s = stats.data;
  return (
    <div className="grid grid-cols-2 gap-4 md:grid-cols-3 xl:grid-cols-6">
      <Card label="Running"><Count value={s.bots_running} className="text-running" /></Card>
      <Card label="Paused"><Count value={s.bots_paused} className="text-paused" /></Card>
      <Card label="Stopped"><Count value={s.bots_stopped} className="text-stopped" /></Card>
      <Card label="Open orders"><Count value={s.open_orders} /></Card>
      <Card label="Volume 24h"><Money value={s.volume_24h} testId="stats-volume-24h" /></Card>
      <Card label="Trades 24h"><Count value={s.trades_24h} /></Card>
    </div>
  );
}
