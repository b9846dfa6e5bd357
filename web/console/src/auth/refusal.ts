// When an answer of the API ends the session, and what the login form then says. Pure:
// unit-tested in refusal.test.ts.

export const SESSION_ENDED = "Your session has ended. Log in again to go on.";
export const NOT_AN_OPERATOR =
  "That token is not an operator's (a customer's account, say): the Ops API refused it (HTTP 403). Log in with an operator account.";

/** Why the session ends after an answer of `status` to `pathname`, or null when it goes on: a 401
 * (the token expired or was revoked) or a 403 (a valid token, but not an operator's) on any call
 * but the login itself, whose refusal the login form shows. */
export function sessionEndFor(status: number, pathname: string): string | null {
  if (pathname.endsWith("/auth/login")) return null;
  if (status === 401) return SESSION_ENDED;
  if (status === 403) return NOT_AN_OPERATOR;
  return null;
}
