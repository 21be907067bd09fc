import type { ReactNode } from 'react';
import type { Bot } from '../api';
import { useBotCommand } from '../hooks/mutations';

interface ActionButtonProps {
  onClick: () => void;
  disabled: boolean;
  danger?: boolean;
  children: ReactNode;
}

function ActionButton({ onClick, disabled, danger = false, children }: ActionButtonProps) {
  return (
    <button
      type="button"
      onClick={onClick}
      disabled={disabled}
      className={`rounded border px-2 py-1 text-xs hover:bg-border disabled:cursor-not-allowed disabled:opacity-40 ${
        danger ? 'border-loss/50 text-loss' : 'border-border'
      }`}
    >
      {children}
    </button>
  );
}

/** Start / Pause / Stop / Kill buttons for one bot; the backend has the final say on transitions. */
export function BotActions({ bot }: { bot: Bot }) {
  const command = useBotCommand();
  const busy = command.isPending;
  const id = bot.id;

  const stop = () => {
    const cancelPending = window.confirm(`Stop "${bot.name}". Also cancel its pending orders?`);
    command.mutate({ id, action: 'stop', cancelPending });
  };

  return (
    <div className="flex gap-1">
      <ActionButton disabled={busy || bot.status === 'running'} onClick={() => command.mutate({ id, action: 'start' })}>
        Start
      </ActionButton>
      <ActionButton disabled={busy || bot.status !== 'running'} onClick={() => command.mutate({ id, action: 'pause' })}>
        Pause
      </ActionButton>
      <ActionButton disabled={busy || bot.status === 'stopped'} onClick={stop}>
        Stop
      </ActionButton>
      <ActionButton danger disabled={busy || bot.killed} onClick={() => command.mutate({ id, action: 'kill' })}>
        Kill
      </ActionButton>
    </div>
  );
}
