// The operator's session: the access token in sessionStorage (this tab only, gone when it closes),
// and why it ended when the API refused it, so the login form can say so.
import { useSyncExternalStore } from "react";
import { SESSION_ENDED } from "./refusal";

const KEY = "paysaga.console.token";
type State = { token: string | null; ended: string | null };

let state: State = { token: read(), ended: null };
const listeners = new Set<() => void>();

function read(): string | null {
  try {
    return globalThis.sessionStorage?.getItem(KEY) ?? null;
  } catch {
    return null;
  }
}

function set(next: State): void {
  state = next;
  try {
    if (next.token) sessionStorage.setItem(KEY, next.token);
    else sessionStorage.removeItem(KEY);
  } catch {
    // storage refused (private mode): the session lives in memory only
  }
  listeners.forEach((l) => l());
}

export const session = {
  token: (): string | null => state.token,
  start(token: string): void {
    set({ token, ended: null });
  },
  logout(): void {
    set({ token: null, ended: null });
  },
  /** The API refused the token (see refusal.ts): `why` is what the login form says. */
  expire(why: string = SESSION_ENDED): void {
    if (state.token) set({ token: null, ended: why });
  },
  subscribe(listener: () => void): () => void {
    listeners.add(listener);
    return () => listeners.delete(listener);
  },
};

export function useSession(): State {
  return useSyncExternalStore(session.subscribe, () => state);
}
