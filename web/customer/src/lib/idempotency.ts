// One Idempotency-Key per confirmation. The key is made when the customer confirms a request and
// kept, with the exact body it was made for, until the server has answered it: a second click
// while the first is in flight, or a retry after a network error or a 5xx, reuses it, so the
// platform makes one payment whatever reaches it. Only a definite answer (2xx, or a 4xx that
// changed nothing) retires it; a changed body gets a new key.

export type KeyFactory = () => string;

export interface Outcome {
  /** The server answered and the answer is final for this key (2xx or 4xx). */
  settled: boolean;
}

export class ConfirmationKeys {
  private current: { key: string; body: string } | null = null;

  constructor(private readonly newKey: KeyFactory = () => crypto.randomUUID()) {}

  /** The key for sending `body`: the pending one when it is the same body, else a new one. */
  keyFor(body: unknown): string {
    const text = JSON.stringify(body);
    if (this.current === null || this.current.body !== text) {
      this.current = { key: this.newKey(), body: text };
    }
    return this.current.key;
  }

  /** After an answer: a definite one retires the key; an error without an answer keeps it. */
  settle(status: number | undefined): void {
    if (status !== undefined && status < 500) this.current = null;
  }

  /** The customer abandoned this confirmation (edited the form, or left). */
  reset(): void {
    this.current = null;
  }
}

/**
 * Runs `send` once for concurrent calls: a double click gets the first click's promise, not a
 * second request.
 */
export function singleFlight<T>(send: () => Promise<T>): () => Promise<T> {
  let running: Promise<T> | null = null;
  return () => {
    if (running === null) {
      running = send().finally(() => {
        running = null;
      });
    }
    return running;
  };
}
