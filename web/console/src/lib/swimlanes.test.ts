import { describe, expect, it } from "vitest";
import { laneTitle, layoutSwimlanes, type TimelineEntryLike } from "./swimlanes";

function entry(service: string, sinceStart: number, sincePrevious: number, kind = "step"): TimelineEntryLike {
  return { at: new Date(1_700_000_000_000 + sinceStart * 1000).toISOString(), sinceStart, sincePrevious, service, kind, summary: `${service} ${kind}` };
}

describe("layoutSwimlanes", () => {
  const entries = [
    entry("payment", 0, 0, "received"),
    entry("kafka", 0.1, 0.1, "record"),
    entry("wallet", 0.3, 0.2, "reservation"),
    entry("payment", 0.5, 0.2, "checked"),
    entry("anti-fraud", 3.5, 3.0, "fraud-check"),
    entry("payment", 4.0, 0.5, "submission"),
  ];
  const layout = layoutSwimlanes(entries);

  it("makes one lane per service in order of first appearance, Kafka's records first", () => {
    expect(layout.lanes.map((l) => l.name)).toEqual(["kafka", "payment", "wallet", "anti-fraud"]);
    expect(layout.lanes.map((l) => l.entries)).toEqual([1, 3, 1, 1]);
    expect(layout.lanes[1]).toMatchObject({ first: 0, last: 4.0 });
    expect(layout.span).toBe(4.0);
  });

  it("puts each entry in its lane with its durations", () => {
    expect(layout.rows.map((r) => layout.lanes[r.lane]?.name)).toEqual(entries.map((e) => e.service));
    expect(layout.rows.map((r) => r.sincePrevious)).toEqual([0, 0.1, 0.2, 0.2, 3.0, 0.5]);
    expect(layout.rows.map((r) => r.sinceLanePrevious)).toEqual([null, null, null, 0.5, null, 3.5]);
    expect(layout.rows.map((r) => r.position)).toEqual([0, 0.025, 0.075, 0.125, 0.875, 1]);
  });

  it("marks the one longest wait", () => {
    expect(layout.rows.filter((r) => r.longestWait).map((r) => r.entry.kind)).toEqual(["fraud-check"]);
  });

  it("keeps the merged (causal) order even when clocks disagree", () => {
    const skewed = layoutSwimlanes([entry("payment", 1, 0), entry("wallet", 0.9, -0.1)]);
    expect(skewed.rows.map((r) => r.entry.service)).toEqual(["payment", "wallet"]);
    expect(skewed.rows.some((r) => r.longestWait)).toBe(false);
  });

  it("handles an empty or one-entry timeline", () => {
    expect(layoutSwimlanes([])).toEqual({ lanes: [], rows: [], span: 0 });
    const one = layoutSwimlanes([entry("payment", 0, 0)]);
    expect(one.rows[0]).toMatchObject({ position: 0, sinceLanePrevious: null, longestWait: false });
  });
});

describe("laneTitle", () => {
  it("reads as words", () => {
    expect(laneTitle("merchant_callback")).toBe("Merchant callback");
    expect(laneTitle("anti-fraud")).toBe("Anti fraud");
    expect(laneTitle("kafka")).toBe("Kafka records");
  });
});
