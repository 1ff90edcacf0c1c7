import { HubmergeError } from "../errors.js";
import type { ModelRef } from "../model-ref.js";
import { LocalSource } from "./local-source.js";
import type { ModelSource } from "./model-source.js";

/** Turns a manifest's model reference into a readable source pinned to one state. */
export type SourceResolver = (ref: ModelRef) => Promise<ModelSource>;

/** Local folders only; the Hub resolver extends this with `org/name[@rev]` references. */
export const resolveLocalSource: SourceResolver = async (ref) => {
  if (ref.kind === "local" && ref.path !== undefined) return LocalSource.open(ref.raw, ref.path);
  throw new HubmergeError(
    "E_HUB_NOT_FOUND",
    `${ref.raw} is a Hub model, and no Hub is configured for this run`,
    {
      where: { model: ref.raw },
      hint: "download it into a folder and reference the folder by path (./models/name), or configure a Hub endpoint",
    },
  );
};
