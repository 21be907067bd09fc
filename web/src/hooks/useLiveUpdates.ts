import { useContext, useEffect } from 'react';
import { useQueryClient } from '@tanstack/react-query';
import { queryKeys } from './queries';
import { ToastContext } from './useToast';

/** The text of a toast for an alert event, or null for any other message. */
export function alertToast(data: unknown): string | null {
  if (typeof data !== 'string') return null;
  try {
    const event = JSON.parse(data) as { type?: string; alert?: { alert_type?: string; message?: string } };
    if (event.type !== 'alert' || !event.alert) return null;
    return `${(event.alert.alert_type ?? 'alert').replace(/_/g, ' ')}: ${event.alert.message ?? ''}`;
  } catch {
    return null;
  }
}

const MIN_DELAY_MS = 1_000;
const MAX_DELAY_MS = 30_000;
/** Refreshes at most this often; a burst of events (fills, P&L marks) becomes one refresh. */
export const REFRESH_EVERY_MS = 1_000;

/** WebSocket URL of the gateway's `/ws`, matching the page's protocol. */
export function liveUrl(loc: Location = window.location): string {
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

/**
 * Keeps React Query caches fresh: a message on `/ws` invalidates bots, stats
 * and P&L at once, and further messages within REFRESH_EVERY_MS are coalesced
 * into one refresh at the end of that window. Alerts (kill switches, loss
 * limits, errors) also show as toasts. Reconnects with exponential backoff
 * when the socket closes.
 */
export function useLiveUpdates(): void {
  const queryClient = useQueryClient();
  const toast = useContext(ToastContext);

  useEffect(() => {
    let socket: WebSocket | null = null;
    let timer: ReturnType<typeof setTimeout> | undefined;
    let refreshTimer: ReturnType<typeof setTimeout> | undefined;
    let pending = false;
    let delay = MIN_DELAY_MS;
    let disposed = false;

    const refresh = () => {
      void queryClient.invalidateQueries({ queryKey: queryKeys.bots });
      void queryClient.invalidateQueries({ queryKey: queryKeys.stats });
      void queryClient.invalidateQueries({ queryKey: queryKeys.pnl });
    };
    const onEvent = () => {
      if (refreshTimer !== undefined) {
        pending = true;
        return;
      }
      refresh();
      const windowEnd = () => {
        if (pending && !disposed) {
          pending = false;
          refresh();
          refreshTimer = setTimeout(windowEnd, REFRESH_EVERY_MS);
        } else {
          refreshTimer = undefined;
        }
      };
      refreshTimer = setTimeout(windowEnd, REFRESH_EVERY_MS);
    };

    const connect = () => {
      socket = new WebSocket(liveUrl());
      socket.onopen = () => {
        delay = MIN_DELAY_MS;
      };
      socket.onmessage = (message: MessageEvent) => {
        const text = alertToast(message.data);
        if (text && toast) toast.error(text);
        onEvent();
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
      clearTimeout(refreshTimer);
      socket?.close();
    };
  }, [queryClient, toast]);
}
