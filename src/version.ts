import pkg from "../package.json" with { type: "json" };

/** The tool's name and version (recorded in run records, cards and locks); bundled into dist/. */
export const TOOL = { name: pkg.name, version: pkg.version };
