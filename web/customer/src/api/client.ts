// The typed client of the BFF, generated from openapi.json (`npm run gen-api`): paths, bodies and
// answers are checked against the API's own document at compile time.
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Payment = Schemas["PaymentResponse"];
export type Wallet = Schemas["WalletResponse"];
export type PaymentStatus = Payment["status"];

const TOKEN_KEY = "paysaga.token";

// The access token lives for the tab's session only (sessionStorage), never in a cookie.
export const session = {
  token: (): string | null => sessionStorage.getItem(TOKEN_KEY),
  start: (token: string): void => sessionStorage.setItem(TOKEN_KEY, token),
  end: (): void => sessionStorage.removeItem(TOKEN_KEY),
};

const withToken: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
};

// Same origin as the app: the BFF serves both.
export const api = createClient<paths>({ baseUrl: "" });
api.use(withToken);

/** A request that got no answer (network down, server gone): retrying it is safe with its key. */
export class NoAnswer extends Error {}

/** An RFC 9457 problem the API answered. */
export class ApiProblem extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    readonly detail?: string,
  ) {
    super(`${status} ${type}`);
  }
}

export function problemOf(status: number, body: unknown): ApiProblem {
  const b = (body ?? {}) as { type?: unknown; detail?: unknown };
  return new ApiProblem(status, typeof b.type === "string" ? b.type : "", typeof b.detail === "string" ? b.detail : undefined);
}

/** Runs a client call; a fetch that failed without an answer becomes NoAnswer. */
export async function call<T>(run: () => Promise<T>): Promise<T> {
  try {
    return await run();
  } catch (error) {
    if (error instanceof TypeError) throw new NoAnswer(error.message);
    throw error;
  }
}
