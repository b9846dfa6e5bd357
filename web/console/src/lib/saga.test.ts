import { describe, expect, it } from "vitest";
import { refreshEvery } from "./saga";

describe("refreshEvery", () => {
  it("follows a payment in flight closely", () => {
    expect(refreshEvery({ final: false, waiting: "waiting for the provider's callback" })).toBe(3000);
    expect(refreshEvery({ final: false, waiting: null })).toBe(3000);
  });
  it("keeps reading a final payment while something is still pending or unseen", () => {
    expect(refreshEvery({ final: true, waiting: "waiting for DWH to apply PaymentCompleted" })).toBe(10000);
    expect(refreshEvery({ final: true, notes: ["the DWH holds no record of this payment yet"] })).toBe(10000);
    expect(refreshEvery({ final: true, unavailable: { wallet: "timed out" } })).toBe(10000);
  });
  it("stops once nothing more will change", () => {
    expect(refreshEvery({ final: true, waiting: null, notes: [], unavailable: {} })).toBe(false);
  });
});
