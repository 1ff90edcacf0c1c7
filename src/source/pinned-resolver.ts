/**
 * Reading every Hub model at a commit chosen earlier, whatever revision the manifest names: the
 * parts of a split merge read their pins, `hubmerge verify` reads its record's sources. One
 * implementation; the caller says how a missing or unreachable pin is worded.
 */
import type { ModelRef } from "../model-ref.js";
import type { SourceResolver } from "./resolve.js";

/** A source as a pin file or a run record lists it. */
export interface SourcePin {
  /** The reference as the manifest writes it. */
  ref: string;
  /** The commit it resolved to; null for a local folder. */
  revision: string | null;
}

/** How the pinned resolver fails, for callers whose errors say more than the resolver's. */
export interface PinFailures {
  /**
   * The error for a Hub reference the pins give no revision. Without it, such a reference is
   * opened as the manifest writes it (the parts check their pins before they resolve anything).
   */
  unpinned?: (ref: ModelRef) => Error;
  /** What to throw instead of `error` when the pinned commit cannot be opened. */
  unreachable?: (ref: ModelRef, revision: string, error: unknown) => unknown;
}

/**
 * A resolver that opens each Hub reference at its pinned commit (the reference text is kept, so
 * DARE streams and records name it as the manifest does); local folders pass through unchanged.
 */
export function pinnedResolver(
  resolver: SourceResolver,
  pins: readonly SourcePin[],
  failures: PinFailures = {},
): SourceResolver {
  return async (ref) => {
    if (ref.kind !== "hub") return resolver(ref);
    const revision = pins.find((s) => s.ref === ref.raw)?.revision;
    if (!revision) {
      if (failures.unpinned) throw failures.unpinned(ref);
      return resolver(ref);
    }
    try {
      return await resolver({ ...ref, revision });
    } catch (error) {
      throw failures.unreachable ? failures.unreachable(ref, revision, error) : error;
    }
  };
}
