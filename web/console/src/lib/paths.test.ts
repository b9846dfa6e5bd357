import { describe, expect, it } from "vitest";
import { match, queryString } from "./paths";

describe("match", () => {
  it("reads a route's parameters", () => {
    expect(match("/payments/:paymentId", "/payments/abc-1")).toEqual({ paymentId: "abc-1" });
    expect(match("/cases/:caseId", "/cases/42/")).toEqual({ caseId: "42" });
    expect(match("/payments/:paymentId", "/payments/a%20b")).toEqual({ paymentId: "a b" });
  });
  it("refuses another route", () => {
    expect(match("/payments/:paymentId", "/payments")).toBeNull();
    expect(match("/payments/:paymentId", "/cases/1")).toBeNull();
    expect(match("/payments/:paymentId", "/payments/1/more")).toBeNull();
    expect(match("/payments/:paymentId", "/payments/%E0%A4%A")).toBeNull();
  });
});

describe("queryString", () => {
  it("keeps the filled filters only", () => {
    expect(queryString({ status: "FAILED", userId: "", errorCode: undefined, key: null })).toBe("?status=FAILED");
    expect(queryString({ topic: "payment-events", key: "a b&c" })).toBe("?topic=payment-events&key=a+b%26c");
    expect(queryString({})).toBe("");
  });
});
