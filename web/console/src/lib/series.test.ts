import { describe, expect, it } from "vitest";
import { appendSample, frameFor, linePath, niceMax, toSeries } from "./series";

describe("appendSample", () => {
  it("keeps the newest samples, each snapshot once", () => {
    let history = appendSample([], { at: 1, values: { a: 1 } }, 3);
    history = appendSample(history, { at: 1, values: { a: 9 } }, 3);
    expect(history).toEqual([{ at: 1, values: { a: 1 } }]);
    for (const at of [2, 3, 4]) history = appendSample(history, { at, values: { a: at } }, 3);
    expect(history.map((s) => s.at)).toEqual([2, 3, 4]);
  });
});

describe("toSeries", () => {
  it("makes one series per name, with gaps where a name was missing", () => {
    const series = toSeries([
      { at: 1, values: { wallet: 0, payment: 2 } },
      { at: 2, values: { payment: 5 } },
    ]);
    expect(series).toEqual([
      { name: "payment", points: [{ t: 1, v: 2 }, { t: 2, v: 5 }] },
      { name: "wallet", points: [{ t: 1, v: 0 }] },
    ]);
  });
});

describe("chart scales", () => {
  it("rounds the top of the axis up", () => {
    expect([0, 1, 3, 10, 11, 180, 501].map(niceMax)).toEqual([1, 1, 5, 10, 20, 200, 1000]);
  });

  it("draws a series across the frame, zero at the bottom", () => {
    const series = [{ name: "g", points: [{ t: 0, v: 0 }, { t: 5, v: 10 }, { t: 10, v: 5 }] }];
    const frame = frameFor(series, 100, 50);
    expect(frame).toEqual({ width: 100, height: 50, t0: 0, t1: 10, vMax: 10 });
    expect(linePath(series[0]!.points, frame)).toBe("M0,50L50,0L100,25");
  });

  it("draws a lone point as a short line at the right edge, and nothing for no points", () => {
    const series = [{ name: "g", points: [{ t: 7, v: 1 }] }];
    const frame = frameFor(series, 100, 50);
    expect(linePath(series[0]!.points, frame)).toBe("M96,0L100,0");
    expect(linePath([], frame)).toBe("");
    expect(frameFor([], 100, 50)).toEqual({ width: 100, height: 50, t0: 0, t1: 1, vMax: 1 });
  });
});
