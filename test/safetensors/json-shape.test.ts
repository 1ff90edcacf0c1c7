import { describe, expect, it } from "vitest";
import { checkJsonShape } from "../../src/safetensors/json-shape.js";

const LIMITS = { maxDepth: 3, maxArrayItems: 4, maxRootEntries: 3, maxObjectEntries: 2 };

function check(json: string): string | undefined {
  return checkJsonShape(new TextEncoder().encode(json), LIMITS);
}

describe("checkJsonShape", () => {
  it("accepts a header-shaped document within the limits", () => {
    expect(check('{"a":{"shape":[1,2,3,4],"x":1},"b":{},"__metadata__":{"k":"v"}}')).toBeUndefined();
    expect(check("")).toBeUndefined();
  });

  it("counts nesting depth", () => {
    expect(check('{"a":{"b":[1]}}')).toBeUndefined();
    expect(check('{"a":{"b":[[1]]}}')).toMatch(/more than 3 levels/);
    expect(check("[".repeat(1000))).toMatch(/more than 3 levels/);
  });

  it("limits arrays, the root object and nested objects separately", () => {
    expect(check('{"s":[1,2,3,4,5]}')).toMatch(/array has more than 4 items/);
    expect(check('{"a":1,"b":2,"c":3,"d":4}')).toMatch(/top-level object has more than 3 entries/);
    expect(check('{"m":{"a":"1","b":"2","c":"3"}}')).toMatch(/nested JSON object has more than 2 entries/);
  });

  it("ignores brackets and commas inside strings, escaped quotes included", () => {
    expect(check('{"a,b,c,d,e":"[[[[,,,,,\\"]]]]{{{{,,,,"}')).toBeUndefined();
    expect(check('{"k":"\\\\","l":[1,2,3,4,5]}')).toMatch(/more than 4 items/);
  });
});
