import { expect, it } from "vitest";
import { DeliveryGuard } from "../../src/bot/delivery-guard.js";

const body = (text: string) => new TextEncoder().encode(text);

it("admits a delivery once, by id or by body, and forgets the oldest past its capacity", () => {
  const guard = new DeliveryGuard(2);
  expect(guard.admit("id-1", body("a"))).toBe(true);
  expect(guard.admit("id-1", body("a"))).toBe(false); // the same delivery again
  expect(guard.admit("id-2", body("a"))).toBe(false); // the same body under a fresh id
  expect(guard.admit("id-1", body("b"))).toBe(false); // a known id with another body
  expect(guard.admit(undefined, body("c"))).toBe(true); // no id: the body decides
  expect(guard.admit(undefined, body("c"))).toBe(false);
  expect(guard.admit("id-3", body("d"))).toBe(true);
  expect(guard.admit("id-4", body("e"))).toBe(true);
  expect(guard.admit("id-5", body("a"))).toBe(true); // "a" was forgotten: only recent ones are kept
});
