/** In-memory WebSocket stand-in so tests never open real sockets. */
export class FakeWebSocket {
  static instances: FakeWebSocket[] = [];

  onopen: (() => void) | null = null;
  onmessage: ((ev: { data: string }) => void) | null = null;
  onclose: (() => void) | null = null;
  closed = false;

  constructor(readonly url: string) {
    FakeWebSocket.instances.push(this);
  }

  close() {
    this.closed = true;
  }

  /** Simulates the server sending a JSON message. */
  emit(message: unknown) {
    this.onmessage?.({ data: JSON.stringify(message) });
  }

  /** Simulates the server dropping the connection. */
  drop() {
    this.closed = true;
    this.onclose?.();
  }
}
