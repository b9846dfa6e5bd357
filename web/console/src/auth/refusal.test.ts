import { describe, expect, it } from "vitest";
import { NOT_AN_OPERATOR, SESSION_ENDED, sessionEndFor } from "./refusal";

describe("sessionEndFor", () => {
  it("ends the session on a 401 or a 403 of any call but the login", () => {
    expect(sessionEndFor(401, "/ops/v1/me")).toBe(SESSION_ENDED);
    expect(sessionEndFor(403, "/ops/v1/reconciliation/cases")).toBe(NOT_AN_OPERATOR);
    expect(sessionEndFor(401, "/ops/v1/auth/login")).toBeNull();
    expect(sessionEndFor(403, "/ops/v1/auth/login")).toBeNull();
  });
  it("goes on after any other answer", () => {
    for (const status of [200, 400, 404, 409, 422, 500, 503]) expect(sessionEndFor(status, "/ops/v1/payments")).toBeNull();
  });
});
