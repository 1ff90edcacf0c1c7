import { describe, expect, it } from "vitest";
import { HubmergeError } from "../../src/errors.js";
import type { ModelRef } from "../../src/model-ref.js";
import type { RunRecord } from "../../src/run-record.js";
import type { SourceResolver } from "../../src/source/resolve.js";
import { recordPinnedResolver } from "../../src/verify/index.js";

const SHA = "b".repeat(40);
const record = { sources: [{ ref: "org/ft", revision: SHA }] } as unknown as RunRecord;
const ref: ModelRef = { raw: "org/ft", kind: "hub", repo: "org/ft" };
const failing =
  (error: unknown): SourceResolver =>
  async () => {
    throw error;
  };

describe("recordPinnedResolver (verify's wording of the shared pinned resolver)", () => {
  it("refuses a Hub source the record does not pin as E_VERIFY", async () => {
    const pinned = recordPinnedResolver(record, failing(new Error("not called")));
    await expect(pinned({ raw: "org/other", kind: "hub", repo: "org/other" })).rejects.toMatchObject({
      code: "E_VERIFY",
      message: "the record pins no revision for org/other",
      where: { model: "org/other" },
    });
  });

  it("turns a pinned commit that is not found into E_VERIFY, keeping the cause", async () => {
    const cause = new HubmergeError("E_HUB_NOT_FOUND", "no such revision");
    await expect(recordPinnedResolver(record, failing(cause))(ref)).rejects.toMatchObject({
      code: "E_VERIFY",
      message: `source org/ft at revision ${SHA} is no longer reachable`,
      cause,
    });
  });

  it("passes any other failure on as it is", async () => {
    const cause = new HubmergeError("E_NETWORK", "connection reset");
    await expect(recordPinnedResolver(record, failing(cause))(ref)).rejects.toBe(cause);
  });
});
