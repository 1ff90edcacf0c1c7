/**
 * Confinement of local models to a workspace. A manifest from a pull request names local folders,
 * and a folder or a file in it may be a symlink (git stores them) to anything on the runner; text
 * checks on the path cannot see that. So every folder and every file a LocalSource reads is
 * resolved with realpath, following every symlink, and must land inside the workspace's own
 * real path. The error names the file as the model writes it, never where the link points.
 */
import { realpath } from "node:fs/promises";
import { sep } from "node:path";
import { HubmergeError, type ErrorLocation } from "../errors.js";

const CONFINEMENT_HINT =
  "Keep manifests, local models and every file in them inside the workspace: replace the symlink with the " +
  "file itself, or reference the model by its Hub repo id (`org/name`).";

/** A workspace folder, by its real path (so a workspace that is itself reached by a link works). */
export class Workspace {
  private constructor(readonly root: string) {}

  static async open(dir: string): Promise<Workspace> {
    try {
      return new Workspace(await realpath(dir));
    } catch (error) {
      throw new HubmergeError("E_USAGE", `the workspace ${dir} does not exist`, {
        hint: "pass an existing folder as the workspace",
        cause: error,
      });
    }
  }

  contains(realPath: string): boolean {
    return (
      realPath === this.root || realPath.startsWith(this.root.endsWith(sep) ? this.root : this.root + sep)
    );
  }

  /**
   * The real path of `path`, which must lie inside the workspace; undefined when nothing exists
   * there (the caller decides whether a missing file matters). `subject` names it in the error
   * as the manifest writes it (`config.json in ./m`), never by where a link points.
   */
  async confine(path: string, subject: string, where: ErrorLocation = {}): Promise<string | undefined> {
    let real: string;
    try {
      real = await realpath(path);
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
      throw error;
    }
    if (this.contains(real)) return real;
    throw new HubmergeError(
      "E_IO",
      `${subject} resolves outside the workspace (through a symlink or \`..\`)`,
      {
        where,
        hint: CONFINEMENT_HINT,
      },
    );
  }
}

/**
 * Refuses a manifest that is a symlink out of `workspace` (when one is set): its text would be
 * parsed and quoted in errors, in a pull request's plan comment. Missing files are left to the
 * manifest loader, which says so with its usual message.
 */
export async function confineManifest(workspace: string | undefined, file: string): Promise<void> {
  if (workspace === undefined) return;
  await (await Workspace.open(workspace)).confine(file, `the manifest ${file}`, { file });
}
