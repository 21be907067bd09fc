import { act, renderHook, screen } from '@testing-library/react';
import { QueryClientProvider } from '@tanstack/react-query';
import type { ReactNode } from 'react';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FakeWebSocket } from '../test/fakeWebSocket';
import { newQueryClient } from '../test/utils';
import { queryKeys } from './queries';
import { ToastProvider } from '../components/ToastProvider';
import { REFRESH_EVERY_MS, alertToast, liveUrl, useLiveUpdates } from './useLiveUpdates';

function setup() {
  const client = newQueryClient();
  const invalidate = vi.spyOn(client, 'invalidateQueries');
  const wrapper = ({ children }: { children: ReactNode }) => (
    <QueryClientProvider client={client}>{children}</QueryClientProvider>
  );
  const hook = renderHook(() => useLiveUpdates(), { wrapper });
  return { invalidate, hook };
}

describe('useLiveUpdates', () => {
  afterEach(() => vi.useRealTimers());

  it('builds ws:// or wss:// URLs from the page protocol', () => {
    expect(liveUrl({ protocol: 'http:', host: 'localhost:5173' } as Location)).toBe('ws://localhost:5173/ws');
    expect(liveUrl({ protocol: 'https:', host: 'bot.example' } as Location)).toBe('wss://bot.example/ws');
  });

  it('invalidates bots and stats on any message', () => {
    const { invalidate } = setup();
    expect(FakeWebSocket.instances).toHaveLength(1);
    expect(FakeWebSocket.instances[0].url).toBe(liveUrl());

    act(() => FakeWebSocket.instances[0].emit({ type: 'bot', at: '2026-11-27T13:27:53Z', bot: {} }));

    expect(invalidate).toHaveBeenCalledWith({ queryKey: queryKeys.bots });
    expect(invalidate).toHaveBeenCalledWith({ queryKey: queryKeys.stats });
  });

  it('coalesces a burst of events into one refresh per window', () => {
    vi.useFakeTimers();
    const { invalidate } = setup();
    const bots = () => invalidate.mock.calls.filter(([arg]) => arg?.queryKey === queryKeys.bots).length;
    const event = { type: 'position', at: '2026-11-27T13:27:53Z', position: {} };

    act(() => {
      for (let i = 0; i < 50; i++) FakeWebSocket.instances[0].emit(event);
    });
    expect(bots()).toBe(1);
    act(() => vi.advanceTimersByTime(REFRESH_EVERY_MS));
    expect(bots()).toBe(2);
    act(() => vi.advanceTimersByTime(10 * REFRESH_EVERY_MS));
    expect(bots()).toBe(2);
  });

  it('shows alerts as toasts', async () => {
    const client = newQueryClient();
    const wrapper = ({ children }: { children: ReactNode }) => (
      <QueryClientProvider client={client}>
        <ToastProvider>{children}</ToastProvider>
      </QueryClientProvider>
    );
    renderHook(() => useLiveUpdates(), { wrapper });
    const alert = { alert_type: 'kill_switch', message: 'bot 3 killed: open orders cancelled, holdings kept' };
    act(() => FakeWebSocket.instances[0].emit({ type: 'alert', at: '2026-11-27T13:27:53Z', alert }));
    expect((await screen.findByRole('alert')).textContent).toContain('kill switch: bot 3 killed: open orders cancelled');
    expect(alertToast(JSON.stringify({ type: 'bot', bot: {} }))).toBeNull();
  });

  it('reconnects with growing delays after the socket closes', () => {
    vi.useFakeTimers();
    setup();

    act(() => FakeWebSocket.instances[0].drop());
    act(() => vi.advanceTimersByTime(999));
    expect(FakeWebSocket.instances).toHaveLength(1);
    act(() => vi.advanceTimersByTime(1));
    expect(FakeWebSocket.instances).toHaveLength(2);

    act(() => FakeWebSocket.instances[1].drop());
    act(() => vi.advanceTimersByTime(1_999));
    expect(FakeWebSocket.instances).toHaveLength(2);
    act(() => vi.advanceTimersByTime(1));
    expect(FakeWebSocket.instances).toHaveLength(3);
  });

  it('closes the socket and stops reconnecting on unmount', () => {
    vi.useFakeTimers();
    const { hook } = setup();
    const socket = FakeWebSocket.instances[0];

    hook.unmount();
    socket.drop();
    act(() => vi.advanceTimersByTime(60_000));

    expect(socket.closed).toBe(true);
    expect(FakeWebSocket.instances).toHaveLength(1);
  });
});
