// The typed client of the Ops service's API, generated from openapi.json (`npm run gen-api`).
// Same origin: the Ops service serves the console and its API. Every call carries the operator's
// token; a 401 on any call but login ends the session (the console asks to log in again).
import createClient, { type Middleware } from "openapi-fetch";
import type { components, paths } from "./schema";
import { ApiProblem, toProblem } from "./problem";
import { session } from "../auth/session";

export type Schemas = components["schemas"];

const auth: Middleware = {
  onRequest({ request }) {
    const token = session.token();
    if (token) request.headers.set("Authorization", `Bearer ${token}`);
    return request;
  },
  onResponse({ request, response }) {
    if (response.status === 401 && !new URL(request.url).pathname.endsWith("/auth/login")) session.expire();
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
