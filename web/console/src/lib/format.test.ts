import { describe, expect, it } from "vitest";
import { formatCount, formatDelta, formatDuration, formatMoney, formatTime, localInputToIso, shortId } from "./format";

describe("formatDuration", () => {
  it("picks the unit a human reads", () => {
    expect(formatDuration(0)).toBe("0 ms");
    expect(formatDuration(0.0425)).toBe("43 ms");
    expect(formatDuration(2.4)).toBe("2.4 s");
    expect(formatDuration(3)).toBe("3 s");
    expect(formatDuration(42.6)).toBe("43 s");
    expect(formatDuration(65)).toBe("1 min 05 s");
    expect(formatDuration(2 * 3600 + 3 * 60 + 9)).toBe("2 h 03 min");
    expect(formatDuration(3 * 86400 + 4 * 3600)).toBe("3 d 4 h");
    expect(formatDuration(-1.5)).toBe("-1.5 s");
  });
  it("shows a dash for nothing", () => {
    expect(formatDuration(null)).toBe("—");
    expect(formatDuration(undefined)).toBe("—");
    expect(formatDuration(Number.NaN)).toBe("—");
  });
});

describe("formatDelta", () => {
  it("signs the time since the step before", () => {
    expect(formatDelta(1.25)).toBe("+1.3 s");
    expect(formatDelta(0)).toBe("+0 ms");
    expect(formatDelta(-0.2)).toBe("-200 ms");
    expect(formatDelta(null)).toBe("");
  });
});

describe("formatTime", () => {
  it("writes the instant in UTC to the millisecond", () => {
    expect(formatTime("2026-12-03T03:53:03.123+03:00")).toBe("2026-12-03 00:53:03.123");
    expect(formatTime(null)).toBe("—");
    expect(formatTime("not a time")).toBe("not a time");
  });
});

describe("formatMoney", () => {
  it("uses the currency's minor unit", () => {
    expect(formatMoney(15000, "RUB")).toBe("150.00 RUB");
    expect(formatMoney(5, "EUR")).toBe("0.05 EUR");
    expect(formatMoney(-123457, "USD")).toBe("-1234.57 USD");
    expect(formatMoney(1500, "JPY")).toBe("1500 JPY");
    expect(formatMoney(1234, "KWD")).toBe("1.234 KWD");
  });
});

describe("small helpers", () => {
  it("groups digits, shortens ids, reads local inputs", () => {
    expect(formatCount(1234567)).toBe("1\u2009234\u2009567");
    expect(formatCount(12)).toBe("12");
    expect(shortId("0123456789abcdef")).toBe("01234567…");
    expect(shortId("short")).toBe("short");
    expect(localInputToIso("")).toBeUndefined();
    expect(localInputToIso("garbage")).toBeUndefined();
    expect(localInputToIso("2026-12-03T10:00")).toMatch(/^2026-12-0[23]T\d\d:00:00\.000Z$/);
  });
});
