import { HubmergeError } from "../errors.js";
import type { ModelRef } from "../model-ref.js";
import { LocalSource } from "./local-source.js";
import type { ModelSource } from "./model-source.js";
import { Workspace } from "./workspace.js";

/** Turns a manifest's model reference into a readable source pinned to one state. */
export type SourceResolver = (ref: ModelRef) => Promise<ModelSource>;

/**
 * Opens a local model; with `workspace`, the folder and every file read from it must resolve
 * inside that folder (what a run on someone else's manifest needs: the Action, `--workspace`).
 */
export function localSourceOpener(
  workspace?: string,
): (ref: ModelRef & { path: string }) => Promise<LocalSource> {
  let confined: Promise<Workspace> | undefined;
  return async (ref) => {
    if (workspace === undefined) return LocalSource.open(ref.raw, ref.path);
    confined ??= Workspace.open(workspace);
    return LocalSource.open(ref.raw, ref.path, { workspace: await confined });
  };
}

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
