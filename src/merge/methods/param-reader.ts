/**
 * The one way a method reads its resolved parameters. The planner fills in defaults and the
 * manifest check has already refused bad values, but a method re-checks what it relies on (from
 * the same ParamSpec: default, type, range) so that a planner bug or a direct caller gets a clear
 * error instead of silently wrong bytes. Kernel plans use the non-throwing `valid*` forms and
 * leave the error to the reference.
 */
import { HubmergeError } from "../../errors.js";
import { formatRange, inRange } from "../../manifest/param-range.js";
import type { ParamSpec, ParamValue, ResolvedParams, TensorMergeContext } from "../types.js";

/** Where a parameter is read, for the error: the method, the tensor, and the model if per-model. */
export interface ParamSite {
  method: string;
  tensor: string;
  model?: string;
}

export function siteOf(
  method: string,
  ctx: Pick<TensorMergeContext, "tensorName">,
  model?: string,
): ParamSite {
  return model === undefined ? { method, tensor: ctx.tensorName } : { method, tensor: ctx.tensorName, model };
}

function fail(site: ParamSite, message: string, hint: string): never {
  const where =
    site.model === undefined ? { tensor: site.tensor } : { model: site.model, tensor: site.tensor };
  throw new HubmergeError("E_MERGE", `${site.method}: ${message}`, { hint, where });
}

/** The setting, or the spec's default; a parameter with neither is an error. */
function settingOf(spec: ParamSpec, params: ResolvedParams, site: ParamSite): ParamValue {
  const value = params[spec.name] ?? spec.default;
  if (value !== undefined) return value;
  const hint =
    site.model === undefined
      ? `Set ${spec.name} in the global parameters.`
      : `Give ${spec.name} in this model's parameters (or in the global parameters).`;
  return fail(site, `the parameter ${spec.name} is required`, hint);
}

/** A finite number in the spec's range. */
export function readNumber(spec: ParamSpec, params: ResolvedParams, site: ParamSite): number {
  const value = settingOf(spec, params, site);
  if (typeof value !== "number" || !Number.isFinite(value)) {
    return fail(
      site,
      `the parameter ${spec.name} must be a finite number, got ${String(value)}`,
      `Set ${spec.name} to a number.`,
    );
  }
  if (spec.range !== undefined && !inRange(spec.range, value)) {
    const bounds = formatRange(spec.range);
    fail(
      site,
      `${spec.name} ${value} is outside ${bounds}`,
      spec.hint ?? `Give ${spec.name} a value in ${bounds}.`,
    );
  }
  return value;
}

export function readBoolean(spec: ParamSpec, params: ResolvedParams, site: ParamSite): boolean {
  const value = settingOf(spec, params, site);
  if (typeof value !== "boolean") {
    fail(
      site,
      `the parameter ${spec.name} must be true or false, got ${String(value)}`,
      `Set ${spec.name} to true or false.`,
    );
  }
  return value;
}

/** `value` if it is a finite number in the spec's range, else undefined (for kernel plans). */
export function validNumber(spec: ParamSpec, value: ParamValue | undefined): number | undefined {
  if (typeof value !== "number" || !Number.isFinite(value)) return undefined;
  return inRange(spec.range, value) ? value : undefined;
}

/** `value` if it is a boolean, else undefined (for kernel plans). */
export function validBoolean(value: ParamValue | undefined): boolean | undefined {
  return typeof value === "boolean" ? value : undefined;
}
