import { HubmergeError } from "../errors.js";

const DEFAULT_HINT =
  "the file is damaged or was not written by a safetensors writer: download it again or re-save it with safetensors";

/**
 * An E_SAFETENSORS error. Messages name the file (and tensor) themselves, since these errors
 * are about a data file rather than a manifest position.
 */
export function safetensorsError(message: string, hint: string = DEFAULT_HINT): HubmergeError {
  return new HubmergeError("E_SAFETENSORS", message, { hint });
}

/** A short, shallow rendering of an untrusted JSON value for messages (never recursive). */
export function describeValue(value: unknown): string {
  if (value === undefined) return "nothing";
  if (Array.isArray(value)) {
    const shown = value
      .slice(0, 8)
      .map((item) => (typeof item === "object" && item !== null ? "…" : describeValue(item)));
    return `[${shown.join(", ")}${value.length > 8 ? `, … (${value.length} items)` : ""}]`;
  }
  if (typeof value === "object" && value !== null) return "an object";
  if (typeof value === "string") return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  return String(value);
}
