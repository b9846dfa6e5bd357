import { describe, expect, it } from "vitest";
import { accountMatchesBic, checksum } from "./banking";
import { parseAmount } from "./money";
import { validatePayout } from "./validation";

// Made with the platform's own `with_control_key` (src/paysaga/contracts/banking.py).
const BIC = "044525225";
const GOOD = "40817810899910004312";
const wallet = { currency: "RUB", available: 1_000_000 };
const form = { amount: "1500.50", currency: "RUB", accountNumber: GOOD, bankBic: BIC, name: "  Пётр   Сидоров " };

function withKey(account: string, bic: string): string {
  for (const key of "0123456789") {
    const candidate = account.slice(0, 8) + key + account.slice(9);
    if (checksum(bic, candidate) === 0) return candidate;
  }
  throw new Error("no key");
}

describe("the account's control key against the BIC", () => {
  it("accepts the accounts the platform accepts", () => {
    expect(accountMatchesBic(GOOD, BIC)).toBe(true);
    // A Bank of Russia settlement centre's BIC (ends 000-002): "0" + its 5th and 6th digits.
    const rkc = "044525000";
    expect(accountMatchesBic(withKey("40817810000000000001", rkc), rkc)).toBe(true);
  });

  it("refuses any other control digit, and malformed numbers", () => {
    for (const key of "0123456789") {
      const other = GOOD.slice(0, 8) + key + GOOD.slice(9);
      expect(accountMatchesBic(other, BIC)).toBe(other === GOOD);
    }
    expect(accountMatchesBic(GOOD.slice(1), BIC)).toBe(false);
    expect(accountMatchesBic(GOOD, "123456789")).toBe(false);
    expect(accountMatchesBic("４０817810099910004312", BIC)).toBe(false); // non-ASCII digits
  });
});

describe("amounts", () => {
  it("reads major units into minor units", () => {
    expect(parseAmount("1500")).toBe(150_000);
    expect(parseAmount("1 500,5")).toBe(150_050);
    expect(parseAmount("0.07")).toBe(7);
    expect(parseAmount("1.005")).toBeNull();
    expect(parseAmount("-5")).toBeNull();
    expect(parseAmount("abc")).toBeNull();
  });
});

describe("the pay-out form", () => {
  it("makes the request the API takes from a valid form", () => {
    expect(validatePayout(form, wallet)).toEqual({
      ok: true,
      request: { amount: 150_050, currency: "RUB", recipient: { accountNumber: GOOD, bankBic: BIC, name: "Пётр Сидоров" } },
    });
  });

  it("names each wrong field", () => {
    const wrongKey = GOOD.slice(0, 8) + ((Number(GOOD[8]) + 1) % 10) + GOOD.slice(9);
    const result = validatePayout({ ...form, amount: "0", accountNumber: wrongKey, name: " " }, wallet);
    expect(result).toEqual({ ok: false, errors: { amount: "amount.positive", accountNumber: "account.controlKey", name: "name.required" } });
    expect(validatePayout({ ...form, bankBic: "12345" }, wallet)).toEqual({ ok: false, errors: { bankBic: "bic.format" } });
    expect(validatePayout({ ...form, amount: "" }, wallet)).toEqual({ ok: false, errors: { amount: "required" } });
  });

  it("refuses more than the wallet has available, and another currency", () => {
    expect(validatePayout({ ...form, amount: "10000.01" }, wallet)).toEqual({ ok: false, errors: { amount: "amount.moreThanAvailable" } });
    expect(validatePayout({ ...form, currency: "USD" }, wallet)).toEqual({
      ok: false,
      errors: { currency: "currency.wallet", accountNumber: "account.currency" },
    });
    const usdWallet = { currency: "USD", available: 1_000_000 };
    expect(validatePayout({ ...form, currency: "USD" }, usdWallet)).toEqual({ ok: false, errors: { accountNumber: "account.currency" } });
  });
});
