/**
 * The numbers behind the delta probe's verdicts, and how much it reads. Documented in
 * docs/compat.md; every one can be overridden (runCheck options, `hubmerge check --threshold`).
 */
import { HubmergeError } from "../errors.js";

export interface CompatThresholds {
  /**
   * Blocking below this median cos(θ, θ₀). Independently initialised models give ≈ 0; true
   * fine-tunes ≈ 0.99+; 0.5 is where ‖δ‖ equals ‖θ₀‖ for tensors of equal norm.
   */
  unrelatedCosine: number;
  /** Blocking above this median ‖δ‖/‖θ₀‖ (unrelated models of equal norm give ≈ √2). */
  unrelatedRelativeDelta: number;
  /** Warning below this median cosine: the model moved far from the base. */
  distantCosine: number;
  /**
   * Warning at or above this median p99 |δ|: the DARE paper (arXiv 2311.03099) sees SFT deltas
   * within about 0.002–0.005 and continued pre-training at about 0.03, where DARE with high drop
   * rates fails.
   */
  continuedPretrainingDelta: number;
}

export const DEFAULT_THRESHOLDS: Readonly<CompatThresholds> = {
  unrelatedCosine: 0.5,
  unrelatedRelativeDelta: 1.0,
  distantCosine: 0.9,
  continuedPretrainingDelta: 0.015,
};

export interface ProbeOptions {
  /** Most weight bytes read from each model, header prefixes included. */
  maxBytesPerModel: number;
  /** Layers sampled, spread evenly from the first to the last. */
  layers: number;
  /** Places sampled in each tensor, spread evenly over its rows. */
  blocksPerTensor: number;
}

export const DEFAULT_PROBE_OPTIONS: Readonly<ProbeOptions> = {
  maxBytesPerModel: 4 * 1024 * 1024,
  layers: 4,
  blocksPerTensor: 4,
};

/** Below this the samples are too small to say anything. */
const MIN_PROBE_BYTES = 4096;

export function resolveThresholds(overrides: Partial<CompatThresholds> = {}): CompatThresholds {
  const merged = { ...DEFAULT_THRESHOLDS, ...definedOnly(overrides) };
  const check = (name: keyof CompatThresholds, ok: (v: number) => boolean, range: string) => {
    if (!(Number.isFinite(merged[name]) && ok(merged[name]))) {
      throw usageError(`threshold ${name} = ${merged[name]} is outside ${range}`);
    }
  };
  check("unrelatedCosine", (v) => v >= -1 && v <= 1, "[-1, 1]");
  check("distantCosine", (v) => v >= -1 && v <= 1, "[-1, 1]");
  check("unrelatedRelativeDelta", (v) => v > 0, "(0, ∞)");
  check("continuedPretrainingDelta", (v) => v > 0, "(0, ∞)");
  return merged;
}

export function resolveProbeOptions(overrides: Partial<ProbeOptions> = {}): ProbeOptions {
  const merged = { ...DEFAULT_PROBE_OPTIONS, ...definedOnly(overrides) };
  if (!Number.isSafeInteger(merged.maxBytesPerModel) || merged.maxBytesPerModel < MIN_PROBE_BYTES) {
    throw usageError(`the probe needs at least ${MIN_PROBE_BYTES} bytes per model`);
  }
  for (const name of ["layers", "blocksPerTensor"] as const) {
    if (!Number.isSafeInteger(merged[name]) || merged[name] < 1) {
      throw usageError(`probe option ${name} must be a positive integer, got ${merged[name]}`);
    }
  }
  return merged;
}

/** Parses `name=value` overrides as given on the command line. */
export function parseThresholdOverrides(pairs: readonly string[]): Partial<CompatThresholds> {
  const result: Partial<CompatThresholds> = {};
  for (const pair of pairs) {
    const [name, text] = pair.split("=", 2);
    if (!name || text === undefined || !(name in DEFAULT_THRESHOLDS)) {
      throw usageError(
        `--threshold ${pair}: expected name=value with a name among ${Object.keys(DEFAULT_THRESHOLDS).join(", ")}`,
      );
    }
    const value = Number(text);
    if (text.trim() === "" || !Number.isFinite(value)) {
      throw usageError(`--threshold ${pair}: ${JSON.stringify(text)} is not a number`);
    }
    result[name as keyof CompatThresholds] = value;
  }
  resolveThresholds(result); // range checks
  return result;
}

function definedOnly<T extends object>(values: Partial<T>): Partial<T> {
  return Object.fromEntries(Object.entries(values).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function usageError(message: string): HubmergeError {
  return new HubmergeError("E_USAGE", message, {
    hint: "see docs/compat.md for the thresholds and their meaning",
  });
}
