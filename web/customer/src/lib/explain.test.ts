import { describe, expect, it } from "vitest";
import { ERROR_CODES, explainErrorCode, explainProblem } from "./explain";
import { LANGS } from "../i18n/messages";

// Every errorCode the Payment service sets (src/paysaga/services/payment/domain.py, ErrorCode).
const PLATFORM_CODES = ["FRAUD_SUSPECTED", "PROVIDER_REJECTED", "PROVIDER_DECLINED", "TIMEOUT"];

describe("errorCode explanations", () => {
  it("explain every code the platform sends, and what happened to the money, in every language", () => {
    expect(Object.keys(ERROR_CODES).sort()).toEqual([...PLATFORM_CODES].sort());
    for (const code of PLATFORM_CODES) {
      for (const lang of LANGS) {
        const { what, money } = explainErrorCode(code, lang);
        expect(what.length).toBeGreaterThan(20);
        expect(money.length).toBeGreaterThan(20);
      }
    }
    expect(explainErrorCode("FRAUD_SUSPECTED", "en").what).toMatch(/security check/);
    expect(explainErrorCode("PROVIDER_DECLINED", "ru").money).toMatch(/вернулась/);
  });

  it("still explain an unknown code honestly", () => {
    expect(explainErrorCode("SOMETHING_NEW", "en").what).toBe("The payment could not be completed.");
    expect(explainErrorCode(null, "ru").money).toMatch(/Деньги не списаны/);
  });
});

describe("refused requests", () => {
  it("say what the problem type means", () => {
    const problem = { type: "/problems/insufficient-funds", status: 422, detail: "short by 5" };
    expect(explainProblem(problem, "en")).toMatch(/Not enough money available/);
    expect(explainProblem(problem, "ru")).toMatch(/недостаточно/);
  });

  it("say a retry is safe when there was no answer or the server failed", () => {
    expect(explainProblem(undefined, "en")).toMatch(/safely try again/);
    expect(explainProblem({ type: "/problems/service-unavailable", status: 503 }, "en")).toMatch(/safely try again/);
  });

  it("fall back on the server's detail for another 4xx", () => {
    expect(explainProblem({ type: "/problems/something", status: 400, detail: "the detail" }, "en")).toBe("the detail");
  });
});
