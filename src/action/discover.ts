import * as glob from "@actions/glob";
import { relative, sep } from "node:path";

/** Manifest files matching the input glob, relative to the workspace, `/`-separated and sorted. */
export async function discoverManifests(workspace: string, pattern: string): Promise<string[]> {
  const patterns = pattern
    .split("\n")
    .map((line) => line.trim())
    .filter(Boolean)
    .map((line) => (line.startsWith("!") ? `!${workspace}/${line.slice(1)}` : `${workspace}/${line}`))
    .join("\n");
  const globber = await glob.create(patterns, { matchDirectories: false });
  const files = await globber.glob();
  return files.map((file) => relative(workspace, file).split(sep).join("/")).sort();
}
