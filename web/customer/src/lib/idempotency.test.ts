import { describe, expect, it } from "vitest";
import { ConfirmationKeys, singleFlight } from "./idempotency";

function counter() {
  let n = 0;
  return () => `key-${++n}`;
}

const body = { amount: 100, currency: "RUB" };

describe("one Idempotency-Key per confirmation", () => {
  it("keeps the key for a retry after no answer or a 5xx", () => {
    const keys = new ConfirmationKeys(counter());
    const first = keys.keyFor(body);
    keys.settle(undefined); // network error: no answer
    expect(keys.keyFor({ ...body })).toBe(first);
    keys.settle(503);
    expect(keys.keyFor(body)).toBe(first);
  });

  it("retires the key once answered, so the next confirmation is a new payment", () => {
    const keys = new ConfirmationKeys(counter());
    const first = keys.keyFor(body);
    keys.settle(202);
    expect(keys.keyFor(body)).not.toBe(first);
    keys.settle(422); // refused: it changed nothing, the next try is a new confirmation
    expect(keys.keyFor(body)).toBe("key-3");
  });

  it("makes a new key for a changed body or an abandoned confirmation", () => {
    const keys = new ConfirmationKeys(counter());
    const first = keys.keyFor(body);
    expect(keys.keyFor({ ...body, amount: 200 })).not.toBe(first);
    keys.reset();
    expect(keys.keyFor({ ...body, amount: 200 })).toBe("key-3");
  });
});

describe("a double click", () => {
  it("joins the request in flight instead of sending a second one", async () => {
    let sent = 0;
    let release: (value: string) => void = () => {};
    const send = singleFlight(() => {
      sent += 1;
      return new Promise<string>((resolve) => (release = resolve));
    });
    const first = send();
    const second = send();
    release("paid");
    expect(await Promise.all([first, second])).toEqual(["paid", "paid"]);
    expect(sent).toBe(1);
    void send(); // after it ended, a new confirmation sends again
    expect(sent).toBe(2);
  });
});
