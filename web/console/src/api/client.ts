// The typed client of the Ops service's API, generated from openapi.json (`npm run gen-api`).
// Same origin: the Ops service serves the console and its API. Every call carries the operator's
// token; a 401 (expired, revoked) or a 403 (a customer's token) on any call but login ends the
// session, and the login form says why (auth/refusal.ts).
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { ApiProblem, toProblem } from "./problem";
import { sessionEndFor } from "../auth/refusal";
import { session } from "../auth/session";

export type Schemas = components["schemas"];

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    const ended = sessionEndFor(response.status, new URL(request.url).pathname);
    if (ended) session.expire(ended);
    return response;
  },
};

export const api = createClient<paths>({ baseUrl: globalThis.location?.origin ?? "" });
api.use(auth);

/** The data of an answer, or an ApiProblem carrying the RFC 9457 problem the API sent. */
export function unwrap<T>(answer: { data?: T; error?: unknown; response: Response }): T {
  if (answer.error !== undefined || answer.data === undefined) {
    throw new ApiProblem(toProblem(answer.error, answer.response));
  }
  return answer.data;
}

/** A fresh Idempotency-Key for one operator action (a retry of the same action reuses it). */
export function newIdempotencyKey(): string {
  return crypto.randomUUID();
}
