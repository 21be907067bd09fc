import { useKillAll } from '../hooks/mutations';

/** Emergency stop of every bot, after confirmation. */
export function KillAllButton() {
  const killAll = useKillAll();
  const onClick = () => {
    if (window.confirm('Kill ALL bots now? Every bot stops trading immediately.')) {
      killAll.mutate();
    }
  };
  return (
    <button
      type="button"
      data-testid="kill-all"
      disabled={killAll.isPending}
      onClick={onClick}
      className="rounded-md bg-loss px-3 py-1.5 text-sm font-semibold text-white hover:bg-loss/80 disabled:opacity-50"
    >
      Kill all
    </button>
  );
}
