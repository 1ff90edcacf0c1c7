/**
 * One parameter value in mergekit's three forms — a scalar, a gradient (list of numbers), or a
 * list of `{filter, value}` entries — checked for shape only; the method decides ranges later.
 * A lone `{filter, value}` mapping (which mergekit accepts) becomes a one-entry list.
 */
import * as z from "zod";
import type { FilteredSetting, GradientSetting, ParamSetting, ScalarSetting } from "./types.js";

const FORMS_HINT =
  "Write a number (`0.5`), a gradient over the layers (`[0.2, 0.5, 0.8]`) or a list of `{filter, value}` entries (`[{filter: mlp, value: 0.3}, {value: 0.5}]`).";

type IssueSink = (message: string, path: (string | number)[], hint?: string) => void;

function isScalar(value: unknown): value is ScalarSetting {
  return typeof value === "number" || typeof value === "boolean" || typeof value === "string";
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return "nothing";
  if (Array.isArray(value)) return "a list";
  if (value instanceof Date) return "a date";
  if (typeof value === "object") return "a mapping";
  return `${typeof value} ${JSON.stringify(value)}`;
}

function checkGradient(list: unknown[], report: IssueSink): GradientSetting | undefined {
  if (list.length === 0) {
    report("is an empty gradient: it needs at least one number", [], FORMS_HINT);
    return undefined;
  }
  const bad = list.findIndex((anchor) => typeof anchor !== "number");
  if (bad >= 0) {
    report(
      `has a gradient anchor that is ${describe(list[bad])}, not a number`,
      [bad],
      "A gradient is a list of numbers only; to vary a value by tensor name, use a list of `{filter, value}` entries instead.",
    );
    return undefined;
  }
  return list as number[];
}

function checkFilterEntry(entry: unknown, report: IssueSink): FilteredSetting | undefined {
  if (!isPlainObject(entry)) {
    report(`has a filter entry that is ${describe(entry)}`, [], FORMS_HINT);
    return undefined;
  }
  if (!("value" in entry) || entry.value === null || entry.value === undefined) {
    report(
      "has a filter entry without a `value`",
      [],
      "Give every entry a `value:` (and optionally a `filter:`).",
    );
    return undefined;
  }
  const filter = entry.filter;
  if (filter !== undefined && filter !== null && typeof filter !== "string") {
    report(
      `has a \`filter\` that is ${describe(filter)}`,
      ["filter"],
      "A filter is a substring of tensor names, e.g. `mlp` or `self_attn`.",
    );
    return undefined;
  }
  const value = entry.value;
  let checked: ScalarSetting | GradientSetting | undefined;
  if (Array.isArray(value)) checked = checkGradient(value, (m, p, h) => report(m, ["value", ...p], h));
  else if (isScalar(value)) checked = value;
  else
    report(
      `has a filter \`value\` that is ${describe(value)}`,
      ["value"],
      "A filter's value is a number, a string, a boolean or a gradient (list of numbers).",
    );
  if (checked === undefined) return undefined;
  return typeof filter === "string" ? { filter, value: checked } : { value: checked };
}

function checkFilterList(list: unknown[], report: IssueSink): FilteredSetting[] | undefined {
  const out: FilteredSetting[] = [];
  for (const [index, entry] of list.entries()) {
    const checked = checkFilterEntry(entry, (m, p, h) => report(m, [index, ...p], h));
    if (checked === undefined) return undefined;
    out.push(checked);
  }
  return out;
}

/** Checks one parameter's value; `report` receives paths relative to the value. */
export function checkParamSetting(value: unknown, report: IssueSink): ParamSetting | undefined {
  if (isScalar(value)) return value;
  if (value === null || value === undefined) {
    report("has no value", [], FORMS_HINT);
    return undefined;
  }
  if (isPlainObject(value)) return checkFilterList([value], (m, p, h) => report(m, p.slice(1), h));
  if (!Array.isArray(value)) {
    report(`is ${describe(value)}, not a parameter value`, [], FORMS_HINT);
    return undefined;
  }
  const looksFiltered = value.length > 0 && value.every(isPlainObject);
  return looksFiltered ? checkFilterList(value, report) : checkGradient(value, report);
}

/**
 * zod schema for one parameter value. Issues carry `params.subject`: how many trailing path
 * segments lie inside the value, so the message can name the parameter ("`weight` has …").
 */
export const paramSettingSchema = z.unknown().transform((value, ctx): ParamSetting => {
  const checked = checkParamSetting(value, (message, path, hint) => {
    ctx.addIssue({ code: "custom", message, path, params: { hint, subject: path.length } });
  });
  return checked ?? z.NEVER;
});

/** A `parameters:` mapping (absent or empty means none). */
export const paramSettingsSchema = z
  .record(z.string(), paramSettingSchema)
  .nullish()
  .transform((settings) => settings ?? {});
