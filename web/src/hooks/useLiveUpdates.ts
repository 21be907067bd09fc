import { useEffect } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { queryKeys } from './queries';

const MIN_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;

/** WebSocket URL of the gateway's `/ws`, matching the page's protocol. */
export function liveUrl(loc: Location = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

/**
 * Keeps React Query caches fresh: any message on `/ws` invalidates bots,
 * stats and P&L. Reconnects with exponential backoff when the socket closes.
 */
export function useLiveUpdates(): void {
  const queryClient = useQueryClient();

  useEffect(() => {
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let delay = MIN_DELAY_MS;
    let disposed = false;

    const connect = () => {
      socket = new WebSocket(liveUrl());
      socket.onopen = () => {
        delay = MIN_DELAY_MS;
      };
      socket.onmessage = () => {
        void queryClient.invalidateQueries({ queryKey: queryKeys.bots });
        void queryClient.invalidateQueries({ queryKey: queryKeys.stats });
        void queryClient.invalidateQueries({ queryKey: queryKeys.pnl });
      };
      socket.onclose = () => {
        if (disposed) return;
        timer = setTimeout(connect, delay);
        delay = Math.min(delay * 2, MAX_DELAY_MS);
      };
    };

    connect();
    return () => {
      disposed = true;
      clearTimeout(timer);
      socket?.close();
    };
  }, [queryClient]);
}
