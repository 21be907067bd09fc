import { CartesianGrid, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from 'recharts';
import { errorMessage, type PnlPoint } from '../api';
import { usePnl } from '../hooks/queries';

interface ChartPoint {
  at: string;
  /** Numeric copy used only for plotting; labels show the original string. */
  y: number;
  total_pnl: string;
}

const toChartPoint = (p: PnlPoint): ChartPoint => ({ at: p.at, y: Number(p.total_pnl), total_pnl: p.total_pnl });
const timeLabel = (at: string) => new Date(at).toLocaleString();

/** Total P&L over time from GET /api/pnl. */
export function PnlChart() {
  const pnl = usePnl();
  if (pnl.isPending) return <p className="text-sm text-muted">Loading P&amp;L…</p>;
  if (pnl.isError) {
    return <p className="text-sm text-loss">Could not load P&amp;L: {errorMessage(pnl.error)}</p>;
  }
  if (pnl.data.length === 0) {
    return <p className="text-sm text-muted">No P&amp;L history yet.</p>;
  }
  return (
    <div className="h-64 w-full" data-testid="pnl-chart">
      <ResponsiveContainer width="100%" height="100%">
        <LineChart data={pnl.data.map(toChartPoint)}>
          <CartesianGrid stroke="rgb(var(--color-border))" strokeDasharray="3 3" />
          <XAxis dataKey="at" tickFormatter={timeLabel} stroke="rgb(var(--color-muted))" fontSize={12} />
          <YAxis stroke="rgb(var(--color-muted))" fontSize={12} />
          <Tooltip
            labelFormatter={(at) => timeLabel(String(at))}
            formatter={(_y, _name, item) => [(item.payload as ChartPoint).total_pnl, 'Total P&L']}
            contentStyle={{ background: 'rgb(var(--color-surface))', border: '1px solid rgb(var(--color-border))' }}
          />
          <Line type="monotone" dataKey="y" stroke="rgb(var(--color-accent))" dot={false} strokeWidth={2} />
        </LineChart>
      </ResponsiveContainer>
    </div>
  );
}
