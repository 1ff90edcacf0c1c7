/**
 * The storage folder is the local hub's own: it deletes leftovers in it at startup. A marker file
 * makes sure it never adopts a folder that holds something else (a typo in `--dir` must not
 * cost anyone their files).
 */
import { mkdir, readdir } from "node:fs/promises";
import { join } from "node:path";
import { HubmergeError } from "../errors.js";
import { readJsonIfExists, writeJsonAtomic } from "../fs-atomic.js";

const MARKER = "localhub.json";
const FORMAT = 1;

/** Creates the folder (with its marker) or checks that it is a local hub folder of this format. */
export async function claimStorageFolder(dir: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const marker = await readJsonIfExists<{ format?: number }>(join(dir, MARKER));
  if (marker) {
    if (marker.format !== FORMAT) {
      throw new HubmergeError(
        "E_USAGE",
        `${dir} holds local hub data of format ${marker.format}, not ${FORMAT}`,
        {
          hint: "Start the hub with a new, empty --dir.",
        },
      );
    }
    return;
  }
  if ((await readdir(dir)).length > 0) {
    throw new HubmergeError("E_USAGE", `${dir} is not empty and is not a local hub storage folder`, {
      hint: "Give --dir an empty or new folder; the hub creates its files there.",
    });
  }
  await writeJsonAtomic(join(dir, MARKER), { format: FORMAT, createdBy: "hubmerge localhub" });
}
