import { useQuery } from '@tanstack/react-query';
import { api } from '../api';

export const queryKeys = {
  bots: ['bots'] as const,
  stats: ['stats'] as const,
  pnl: ['pnl'] as const,
};

export function useBots() {
  return useQuery({ queryKey: queryKeys.bots, queryFn: api.listBots });
}

export function useStats() {
  return useQuery({ queryKey: queryKeys.stats, queryFn: api.stats });
}

export function usePnl() {
  return useQuery({ queryKey: queryKeys.pnl, queryFn: api.pnl });
}
