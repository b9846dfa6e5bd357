import { describe, expect, it } from "vitest";
import { steps } from "./tracker";

const states = (p: Parameters<typeof steps>[0]) => steps(p).map((s) => s.state);

describe("the step tracker", () => {
  it("follows a payment to the end", () => {
    expect(states({ status: "PENDING", providerTxnId: null, errorCode: null })).toEqual(["done", "current", "todo", "todo"]);
    expect(states({ status: "PENDING", providerTxnId: "ptx", errorCode: null })).toEqual(["done", "done", "done", "current"]);
    expect(states({ status: "COMPLETED", providerTxnId: "ptx", errorCode: null })).toEqual(["done", "done", "done", "done"]);
  });

  it("shows where a failed payment stopped", () => {
    expect(states({ status: "FAILED", providerTxnId: null, errorCode: "FRAUD_SUSPECTED" })).toEqual(["done", "failed", "todo", "todo"]);
    expect(states({ status: "FAILED", providerTxnId: "ptx", errorCode: "PROVIDER_DECLINED" })).toEqual(["done", "done", "done", "failed"]);
  });
});
