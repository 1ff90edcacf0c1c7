import { describe, expect, it } from "vitest";
import { parseCardData } from "../../src/source/card-data.js";

describe("parseCardData", () => {
  it("reads the YAML front matter of a model card", () => {
    const card =
      "---\nlicense: mit\nbase_model:\n  - a/b\n  - c/d\nbase_model_relation: merge\n---\n# Title\n";
    expect(parseCardData(card)).toEqual({
      license: "mit",
      base_model: ["a/b", "c/d"],
      base_model_relation: "merge",
    });
  });

  it("accepts CRLF line ends and an empty body after the front matter", () => {
    expect(parseCardData("---\r\ntags: [x]\r\n---")).toEqual({ tags: ["x"] });
  });

  it("returns undefined without front matter, or when it is not a mapping or not YAML", () => {
    expect(parseCardData("# just markdown\n")).toBeUndefined();
    expect(parseCardData("---\n- a\n- b\n---\n")).toBeUndefined();
    expect(parseCardData("---\nkey: [unclosed\n---\n")).toBeUndefined();
  });
});
