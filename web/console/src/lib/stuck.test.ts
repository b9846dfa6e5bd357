import { describe, expect, it } from "vitest";
import { stuckSource } from "./stuck";

describe("stuckSource", () => {
  it("says a Payment group moves by itself and has no dead letters to look in", () => {
    const source = stuckSource({ source: "payment", status: "SUBMITTED" });
    expect(source.label).toBe("Payment");
    expect(source.operatorAction).toBe(false);
    expect(source.deadLetters("p-1")).toBeNull();
  });
  it("points a payment Payment never accepted at Payment's group's dead letters", () => {
    const source = stuckSource({ source: "wallet", status: "NOT_IN_PAYMENT" });
    expect(source.label).toBe("Wallet");
    expect(source.operatorAction).toBe(true);
    expect(source.explanation).toContain("never accepted");
    expect(source.deadLetters()).toBe("/dead-letters?topic=payment-events&group=payment");
    expect(source.deadLetters("p-1")).toBe("/dead-letters?topic=payment-events&group=payment&key=p-1");
  });
  it("points an ended payment Wallet did not settle at Wallet's group's dead letters", () => {
    const source = stuckSource({ source: "wallet", status: "COMPLETED" });
    expect(source.explanation).toContain("ended COMPLETED");
    expect(source.deadLetters("p-2")).toBe("/dead-letters?topic=payment-events&group=wallet&key=p-2");
  });
});
