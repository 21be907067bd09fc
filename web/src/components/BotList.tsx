import { errorMessage } from '../api';
import { useBots } from '../hooks/queries';
import { BotTable } from './BotTable';

/** All bots from GET /api/bots, with loading and error states. */
export function BotList() {
  const bots = useBots();
  if (bots.isPending) return <p className="text-sm text-muted">Loading bots…</p>;
  if (bots.isError) {
    return <p className="text-sm text-loss">Could not load bots: {errorMessage(bots.error)}</p>;
  }
  return <BotTable bots={bots.data} />;
}
