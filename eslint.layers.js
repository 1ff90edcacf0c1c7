/**
 * Import rules that keep the layers pointing down (docs/architecture.md). ESLint gives each file
 * one set of options per rule, so this builds one `no-restricted-imports` block per folder of src/,
 * with that folder's prefix to src/ (`../`, `../../`) written into each pattern. Patterns name the
 * forbidden target relative to src/; new folders are covered by the rules of the folder above them.
 */
import { readdirSync } from "node:fs";
import { join, relative } from "node:path";

/** What no module of the engine imports: the faces, and the pipeline and session that serve them. */
const ABOVE_THE_ENGINE = ["cli/", "action/", "bot/", "pipeline/", "session\\.js$"];

/** Shared leaves any module may import. */
const LEAVES = ["errors", "version", "format", "fs-atomic", "model-ref", "dispatch-event"];

/**
 * The faces reach the engine through the pipeline's entry and the session only (plus the leaves);
 * each exception below says why it is one. The pipeline's other modules are its inside: a face that
 * imported one directly would bypass what the entry chooses to offer.
 */
const FACE_ALLOWED = ["pipeline/index\\.js$", "session\\.js$", ...LEAVES.map((leaf) => `${leaf}\\.js$`)];
const FACE_EXCEPTIONS = {
  cli: [
    // `hubmerge bot` starts the bot: the CLI is the bot's process, not a way into the engine.
    "bot/",
    // `hubmerge hub` serves the local Hub (demo, tests); it is a server, not a pipeline stage.
    "localhub/",
    // The Hub URL and token come from the CLI's flags and environment, which only the CLI reads.
    "hub/client/config\\.js$",
  ],
  action: [
    // The Action owns the lockfile: it reads it, decides what changed and commits it back.
    "lock/",
    // `only:` selection reads manifests for the models they name, without validating them.
    "manifest/parse\\.js$",
    "manifest/referenced-models\\.js$",
  ],
  bot: [
    // The bot indexes which models manifests name; it must not load the engine to do so.
    "manifest/parse\\.js$",
    "manifest/referenced-models\\.js$",
  ],
};

/** Per stage: what it must not import (besides ABOVE_THE_ENGINE). `only` lists what it may import instead. */
const STAGES = {
  "hub/client": { only: ["errors\\.js$"] },
  "hub/publish": { forbid: ["compat/", "lock/", "localhub/"] },
  source: {
    forbid: [
      "hub/publish/",
      "card/",
      "manifest/",
      "merge/",
      "compat/",
      "safetensors/",
      "lock/",
      "localhub/",
      "run-record\\.js$",
    ],
  },
  // The format library reads through the ByteSource / ModelSource interfaces and nothing else.
  safetensors: {
    only: [...LEAVES.map((leaf) => `${leaf}\\.js$`), "source/byte-source\\.js$", "source/model-source\\.js$"],
  },
  // Validation asks the method registry about methods; merge internals stay out of reach.
  manifest: {
    forbid: [
      "merge/(?!types\\.js$|methods/registry\\.js$)",
      "source/",
      "safetensors/",
      "card/",
      "compat/",
      "hub/",
      "lock/",
      "localhub/",
      "run-record\\.js$",
    ],
  },
  merge: { forbid: ["hub/", "card/", "compat/", "lock/", "localhub/"] },
  compat: { forbid: ["hub/", "card/", "lock/", "localhub/", "run-record\\.js$"] },
  card: { forbid: ["hub/", "compat/", "lock/", "localhub/"] },
  lock: { only: LEAVES.map((leaf) => `${leaf}\\.js$`) },
  // verify re-creates merges (merge/, safetensors/, source/) and reads records; it never publishes.
  verify: { forbid: ["hub/", "card/", "compat/", "lock/", "localhub/"] },
  localhub: { forbid: [] },
  synth: { forbid: [] },
};

const escape = (text) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
const alternatives = (targets) => `(?:${targets.join("|")})`;
const depthOf = (folder) => (folder === "" ? 0 : folder.split("/").length);
/** How a file in `folder` writes the way up to `ancestor` (a folder that contains it). */
const upTo = (folder, ancestor) => {
  const steps = depthOf(folder) - depthOf(ancestor);
  return steps === 0 ? "\\./" : escape("../".repeat(steps));
};
const ancestorsOf = (folder) => {
  const parts = folder.split("/");
  return parts.map((_, i) => parts.slice(0, i).join("/"));
};

/**
 * A target (relative to src/) as every spelling a file in `folder` may use: from src/ itself
 * (`../../card/`), or from a shared ancestor folder (`../publish/` for hub/client → hub/publish).
 */
function spellings(folder, target) {
  return ancestorsOf(folder)
    .filter((ancestor) => ancestor === "" || target.startsWith(`${ancestor}/`))
    .map(
      (ancestor) => upTo(folder, ancestor) + (ancestor === "" ? target : target.slice(ancestor.length + 1)),
    );
}

const message = (why) => `${why} (docs/architecture.md)`;
/** A pattern as a person reads it in a message: `errors\\.js$` → `errors.js`. */
const readable = (targets) =>
  targets.map((target) => target.replace(/\\/g, "").replace(/\$$/, "")).join(", ");

function facePatterns(folder, face) {
  const allowed = [...FACE_ALLOWED, ...FACE_EXCEPTIONS[face], `${face}/`];
  return [
    {
      regex: `^${upTo(folder, "")}(?!${alternatives(allowed)})`,
      message: message(`src/${face}/ enters the engine through pipeline/index.ts (or a named exception)`),
    },
  ];
}

function stagePatterns(folder, stage) {
  const rule = STAGES[stage];
  if (rule.only) {
    const patterns = [
      {
        regex: `^${upTo(folder, "")}(?!${alternatives([...rule.only, `${escape(stage)}/`])})`,
        message: message(`src/${stage}/ is a low layer: it imports only ${readable(rule.only)}`),
      },
    ];
    // Leaving the stage's folder without climbing to src/ (hub/client → ../publish/) is leaving it too.
    const least = depthOf(folder) - depthOf(stage) + 1;
    const most = depthOf(folder) - 1;
    if (least <= most) {
      patterns.push({
        regex: `^(?:\\.\\./){${least},${most}}(?!\\.\\./)`,
        message: message(`src/${stage}/ is a low layer: it imports only ${readable(rule.only)}`),
      });
    }
    return patterns;
  }
  if (rule.forbid.length === 0) return [];
  return [
    {
      regex: `^${alternatives(rule.forbid.flatMap((target) => spellings(folder, target)))}`,
      message: message(`src/${stage}/ must not import a stage above it`),
    },
  ];
}

/**
 * The pipeline runs the stages, so it may import any of them, but never the faces; its modules do
 * not import its entry (the entry re-exports them: that import would be a cycle).
 */
function pipelinePatterns(folder) {
  return [
    {
      regex: `^${upTo(folder, "")}(?:cli|action|bot)/`,
      message: message("the pipeline must not import the faces"),
    },
    {
      regex: `^${upTo(folder, "pipeline")}index\\.js$`,
      message: message("a module of src/pipeline/ imports its siblings, not the entry that re-exports them"),
    },
  ];
}

function patternsFor(folder) {
  const top = folder.split("/")[0];
  if (FACE_EXCEPTIONS[top] !== undefined) return facePatterns(folder, top);
  if (top === "pipeline") return pipelinePatterns(folder);
  const patterns = [
    {
      regex: `^${upTo(folder, "")}${alternatives(ABOVE_THE_ENGINE)}`,
      message: message("the engine must not import the faces, the pipeline or the session"),
    },
  ];
  const stage = Object.keys(STAGES)
    .filter((name) => folder === name || folder.startsWith(`${name}/`))
    .sort((a, b) => b.length - a.length)[0];
  return stage === undefined ? patterns : [...patterns, ...stagePatterns(folder, stage)];
}

/** Leaf files at src/ import nothing but other leaves; the session imports stages. */
function rootBlocks() {
  const leaves = LEAVES.map((leaf) => `src/${leaf}.ts`);
  return [
    {
      files: ["src/*.ts"],
      ignores: [...leaves, "src/session.ts"],
      rules: { "no-restricted-imports": ["error", { patterns: patternsFor("") }] },
    },
    {
      files: leaves,
      rules: {
        "no-restricted-imports": [
          "error",
          {
            patterns: [
              {
                regex: `^\\./(?!${alternatives(LEAVES.map((leaf) => `${leaf}\\.js$`))})`,
                message: "a shared leaf imports only other leaves (docs/architecture.md)",
              },
            ],
          },
        ],
      },
    },
    {
      files: ["src/session.ts"],
      rules: {
        "no-restricted-imports": [
          "error",
          {
            patterns: [
              { regex: "^\\./(?:cli|action|bot)/", message: "the engine must not import the faces" },
            ],
          },
        ],
      },
    },
  ];
}

export function layerRules(root = "src") {
  const folders = readdirSync(root, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => relative(root, join(entry.parentPath, entry.name)).split("\\").join("/"));
  return [
    ...rootBlocks(),
    ...folders.map((folder) => ({
      files: [`${root}/${folder}/*.ts`, `${root}/${folder}/*.js`],
      rules: { "no-restricted-imports": ["error", { patterns: patternsFor(folder) }] },
    })),
  ];
}
