import { describe, expect, it } from "vitest";
import { refreshEvery } from "./saga";

describe("refreshEvery", () => {
  it("follows a payment in flight closely", () => {
    expect(refreshEvery({ final: false, waiting: "waiting for the provider's callback" })).toBe(3000);
    expect(refreshEvery({ final: false, waiting: null })).toBe(3000);
  });
  it("keeps reading a final payment while something is still pending or unseen", () => {
    const ended = "2026-12-03T01:00:00Z";
    expect(refreshEvery({ final: true, endedAt: ended, waiting: "waiting for DWH to apply PaymentCompleted" })).toBe(10000);
    expect(refreshEvery({ final: true, endedAt: ended, notes: ["the DWH holds no record of this payment yet"] })).toBe(10000);
    expect(refreshEvery({ final: true, endedAt: ended, unavailable: { wallet: "timed out" } })).toBe(10000);
    expect(refreshEvery({ final: true, endedAt: null })).toBe(10000); // final in Payment, its event not stored yet
  });
  it("stops once nothing more will change", () => {
    expect(refreshEvery({ final: true, endedAt: "2026-12-03T01:00:00Z", waiting: null, notes: [], unavailable: {} })).toBe(false);
  });
});
