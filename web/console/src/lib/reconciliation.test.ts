import { describe, expect, it } from "vitest";
import { describeEvidence, describeFunds, describePayment, evidenceFacts, runSummary } from "./reconciliation";

describe("describeFunds", () => {
  it("says which side holds more, in the currency's minor unit", () => {
    expect(describeFunds({ currency: "RUB", wallets: 100001, customerFunds: 100000, difference: 1 })).toBe(
      "Wallets 1000.01 RUB, Customer funds 1000.00 RUB: the wallets hold 0.01 RUB more",
    );
    expect(describeFunds({ currency: "JPY", wallets: 90, customerFunds: 100, difference: -10 })).toBe(
      "Wallets 90 JPY, Customer funds 100 JPY: the wallets hold 10 JPY less",
    );
    expect(describeFunds({ currency: "EUR", wallets: 5, customerFunds: 5, difference: 0 })).toMatch(/no difference$/);
  });
});

describe("describePayment", () => {
  it("names each side, and a side that has nothing", () => {
    expect(describePayment({ paymentStatus: "COMPLETED", walletStatus: "RELEASED" })).toBe("Payment: COMPLETED, Wallet: RELEASED");
    expect(describePayment({ paymentStatus: "FAILED", walletStatus: null })).toBe("Payment: FAILED, Wallet: not settled");
    expect(describePayment({ paymentStatus: null, walletStatus: "COMMITTED" })).toBe("Payment: not final, Wallet: COMMITTED");
  });
});

describe("evidenceFacts", () => {
  it("labels a funds difference and writes its money, in a fixed order (PostgreSQL's JSON keeps none)", () => {
    expect(evidenceFacts({ wallets: 100001, currency: "RUB", difference: 1, customerFunds: 100000 })).toEqual([
      { label: "Currency", value: "RUB" },
      { label: "Sum of the wallets", value: "1000.01 RUB" },
      { label: "Customer funds (Core Banking 2100)", value: "1000.00 RUB" },
      { label: "Difference (wallets − Customer funds)", value: "0.01 RUB" },
    ]);
  });
  it("labels a payment difference, says what a missing side means, keeps unknown fields", () => {
    expect(evidenceFacts({ extra: { a: 1 }, kind: "MISSING_IN_WALLET", paymentId: "p-1", gone: null, walletStatus: null, paymentStatus: "COMPLETED" })).toEqual([
      { label: "Payment", value: "p-1" },
      { label: "Kind", value: "MISSING_IN_WALLET" },
      { label: "In Payment", value: "COMPLETED" },
      { label: "In Wallet", value: "not settled" },
      { label: "extra", value: '{"a":1}' },
      { label: "gone", value: "—" },
    ]);
  });
  it("leaves an amount without a currency as a number", () => {
    expect(evidenceFacts({ difference: 3 })).toEqual([{ label: "Difference (wallets − Customer funds)", value: "3" }]);
  });
});

describe("runSummary", () => {
  const run = { status: "differences", funds: [] as unknown[], payments: [] as unknown[], error: null as string | null };
  it("counts the differences by side", () => {
    expect(runSummary({ ...run, funds: [{}] })).toBe("1 difference (1 currency)");
    expect(runSummary({ ...run, funds: [{}, {}], payments: [{}] })).toBe("3 differences (2 currencies, 1 payment)");
    expect(runSummary({ ...run, payments: [{}, {}] })).toBe("2 differences (2 payments)");
  });
  it("says clean, running, and why a run failed", () => {
    expect(runSummary({ ...run, status: "clean" })).toBe("clean: nothing differs");
    expect(runSummary({ ...run, status: "running" })).toBe("running");
    expect(runSummary({ ...run, status: "failed", error: "wallet did not answer" })).toBe("failed: wallet did not answer");
    expect(runSummary({ ...run, status: "failed" })).toBe("failed: no reason given");
  });
});

describe("describeEvidence", () => {
  it("words each kind's evidence in one line", () => {
    expect(describeEvidence("FUNDS_MISMATCH", { currency: "RUB", wallets: 101, customerFunds: 100, difference: 1 })).toBe(
      "Wallets 1.01 RUB, Customer funds 1.00 RUB: the wallets hold 0.01 RUB more",
    );
    expect(describeEvidence("MISSING_IN_WALLET", { paymentId: "p", paymentStatus: "FAILED", walletStatus: null })).toBe(
      "Payment: FAILED, Wallet: not settled",
    );
  });
  it("falls back to the facts when the evidence is not the kind's shape", () => {
    expect(describeEvidence("FUNDS_MISMATCH", { currency: "RUB" })).toBe("Currency: RUB");
    expect(describeEvidence("SOMETHING_NEW", { note: "x" })).toBe("note: x");
  });
});
