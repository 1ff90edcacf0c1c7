/**
 * Pins: the source revisions every part of a split merge must read. `hubmerge plan --pins FILE`
 * resolves each Hub model to a commit once; the part runs read exactly those commits, so a source
 * updated in the middle of a fan-out cannot mix revisions into one model.
 */
import { readFile, writeFile } from "node:fs/promises";
import { HubmergeError } from "../errors.js";
import type { ModelRef } from "../model-ref.js";
import type { SourcePin } from "../source/pinned-resolver.js";

export type { SourcePin } from "../source/pinned-resolver.js";

export const PINS_FORMAT = "hubmerge-pins/1";

export interface Pins {
  format: typeof PINS_FORMAT;
  manifest: { file: string; sha256: string };
  sources: SourcePin[];
}

export async function writePins(path: string, pins: Pins): Promise<void> {
  await writeFile(path, JSON.stringify(pins, null, 2) + "\n");
}

export async function readPins(path: string): Promise<Pins> {
  let value: unknown;
  try {
    value = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new HubmergeError("E_USAGE", `cannot read the pins file ${path}: ${(error as Error).message}`, {
      hint: "write it with hubmerge plan MANIFEST --pins FILE",
      cause: error,
    });
  }
  const pins = value as Partial<Pins> | null;
  const valid =
    pins?.format === PINS_FORMAT &&
    typeof pins.manifest?.sha256 === "string" &&
    Array.isArray(pins.sources) &&
    pins.sources.every(
      (s) => typeof s?.ref === "string" && (s.revision === null || typeof s.revision === "string"),
    );
  if (!valid) {
    throw new HubmergeError("E_USAGE", `${path} is not a hubmerge pins file (${PINS_FORMAT})`, {
      hint: "write it with hubmerge plan MANIFEST --pins FILE",
    });
  }
  return pins as Pins;
}

/** The pins must be of this manifest's text, and pin every Hub model it names. */
export function checkPins(pins: Pins, manifest: { file: string; sha256: string }, refs: ModelRef[]): void {
  if (pins.manifest.sha256 !== manifest.sha256) {
    throw new HubmergeError(
      "E_USAGE",
      `the pins were written for another version of ${manifest.file} (sha256 ${pins.manifest.sha256.slice(0, 12)}, the manifest is ${manifest.sha256.slice(0, 12)})`,
      {
        where: { file: manifest.file },
        hint: "write the pins again with hubmerge plan MANIFEST --pins FILE",
      },
    );
  }
  for (const ref of refs) {
    const pin = pins.sources.find((s) => s.ref === ref.raw);
    if (ref.kind === "hub" && !pin?.revision) {
      throw new HubmergeError("E_USAGE", `the pins do not pin ${ref.raw} to a revision`, {
        where: { file: manifest.file, model: ref.raw },
        hint: "write the pins again with hubmerge plan MANIFEST --pins FILE",
      });
    }
  }
}
