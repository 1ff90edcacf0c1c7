/**
 * The engine's one entry for the faces (cli/, action/, bot/): the pipeline's runs, and what the
 * faces need from the stages, re-exported here so that eslint's no-restricted-imports can keep
 * this file their only way in (docs/architecture.md).
 */
export { readManifest, readMergeGraph, manifestWarnings } from "./read.js";
export type { GraphStep, ManifestInput, ReadGraph, ReadManifest } from "./read.js";
export type {
  LoadedRun,
  LoadRunOptions,
  MergeRunOptions,
  MergeRunResult,
  PlannedRun,
  PlanRunOptions,
  PublishRunOptions,
} from "./types.js";
export { checkRun, closeModels, loadRun, openLocalModel, planRun, type CheckRunOptions } from "./load.js";
export { runMerge } from "./merge.js";
export { mergeAndPublish, publishMerge, type MergeAndPublishResult } from "./publish.js";
export { verifyMerge, type VerifyRunOptions } from "./verify.js";
export { pinsOf, runPart, type PartRunOptions } from "./part.js";
export { assembleParts, type AssembleRunOptions } from "./assemble.js";
export { planGraph, runGraph, type GraphMergeOptions, type MergedStep, type PlannedStep } from "./graph.js";

// From the stages, for the faces.
export { assertCompatible } from "../compat/check.js";
export { renderJson, renderMarkdown, renderText } from "../compat/render.js";
export type { CompatReport } from "../compat/report.js";
export { parseThresholdOverrides } from "../compat/thresholds.js";
export type { MergeGraph, MergeStep } from "../manifest/multi-doc.js";
export { referencedModels } from "../manifest/referenced-models.js";
export type { Manifest } from "../manifest/types.js";
export type { MergeEvent, MergeEventListener } from "../merge/events.js";
export { BACKEND_NAMES, type BackendName } from "../merge/kernels/index.js";
export { gpuReadiness, WEBGPU_PATH_ENV, type GpuReadiness } from "../merge/kernels/webgpu/webgpu-module.js";
export type { LoadedModel } from "../merge/loaded-model.js";
export type { RunRecord } from "../run-record.js";
export { DTYPE_SIZE } from "../safetensors/dtype.js";
export { renderVerifyReport, verifyFailure, type VerifyReport } from "../verify/index.js";
export type { UploadStats } from "../hub/publish/upload-shards.js";
export { PINS_FORMAT, readPins, writePins, type Pins } from "../parts/pins.js";
export { AUTO_PART_BYTES, partCount } from "../parts/count.js";
export { parsePartSpec, type PartSpec } from "../parts/split.js";
export { receiptFileName, type PartReceipt } from "../parts/receipt.js";
