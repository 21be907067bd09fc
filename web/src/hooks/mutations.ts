import { useMutation, useQueryClient } from '@tanstack/react-query';
import { api, errorMessage, type BotAction } from '../api';
import { queryKeys } from './queries';
import { useToast } from './useToast';

export type BotCommand =
  | { id: number; action: Exclude<BotAction, 'go-live' | 'copy'> }
  | { id: number; action: 'stop'; cancelPending: boolean };

/** Start/pause/stop/kill one bot; refreshes bots and stats, toasts errors. */
export function useBotCommand() {
  const queryClient = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: (cmd: BotCommand) =>
      cmd.action === 'stop' ? api.stopBot(cmd.id, cmd.cancelPending) : api.botAction(cmd.id, cmd.action),
    onSuccess: () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.bots });
      void queryClient.invalidateQueries({ queryKey: queryKeys.stats });
    },
    onError: (err) => toast.error(errorMessage(err)),
  });
}

/** Emergency stop of every bot; refreshes everything and reports the count. */
export function useKillAll() {
  const queryClient = useQueryClient();
  const toast = useToast();
  return useMutation({
    mutationFn: api.killAll,
    onSuccess: ({ killed }) => {
      void queryClient.invalidateQueries();
      toast.info(`Killed ${killed} bot${killed === 1 ? '' : 's'}`);
    },
    onError: (err) => toast.error(errorMessage(err)),
  });
}
