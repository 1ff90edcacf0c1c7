/**
 * What `POST /api/validate-yaml` checks in a README's front matter. The Hub's own validator is
 * not public; this one refuses what would make the card's metadata unusable (YAML that does not
 * parse, front matter that is not a mapping, well-known keys of the wrong type) and warns where
 * the Hub warns (no metadata at all). Python's huggingface_hub calls it before any commit that
 * contains a README.md, and raises on a 400.
 */
import { parseDocument } from "yaml";

export interface MetadataIssue {
  message: string;
}

export interface MetadataReport {
  errors: MetadataIssue[];
  warnings: MetadataIssue[];
}

/** Leading blank lines allowed, as the Hub and huggingface_hub's REGEX_YAML_BLOCK allow them. */
const FRONT_MATTER = /^\uFEFF?\s*---[ \t]*\r?\n([\s\S]*?)\r?\n---[ \t]*(?:\r?\n|$)/;

const NO_METADATA =
  "empty or missing yaml metadata in repo card (https://huggingface.co/docs/hub/model-cards#model-card-metadata)";

type Check = (value: unknown) => boolean;
const isString: Check = (value) => typeof value === "string";
const isStringOrList: Check = (value) =>
  typeof value === "string" || (Array.isArray(value) && value.every((item) => typeof item === "string"));
const isList: Check = (value) => Array.isArray(value);
const isObject: Check = (value) => typeof value === "object" && value !== null && !Array.isArray(value);

/** Well-known keys and what their values must be. */
const KEY_RULES: Record<string, [Check, string]> = {
  license: [isString, "a string"],
  license_name: [isString, "a string"],
  license_link: [isString, "a string"],
  library_name: [isString, "a string"],
  pipeline_tag: [isString, "a string"],
  base_model_relation: [
    (value) => typeof value === "string" && ["adapter", "merge", "quantized", "finetune"].includes(value),
    'one of "adapter", "merge", "quantized", "finetune"',
  ],
  new_version: [isString, "a string"],
  thumbnail: [isString, "a string"],
  language: [isStringOrList, "a string or a list of strings"],
  tags: [isStringOrList, "a string or a list of strings"],
  datasets: [isStringOrList, "a string or a list of strings"],
  metrics: [isStringOrList, "a string or a list of strings"],
  base_model: [isStringOrList, "a string or a list of strings"],
  widget: [isList, "an array"],
  "model-index": [
    (value) => Array.isArray(value) && value.every((item) => isObject(item) && isString(item.name)),
    "an array of objects with a name",
  ],
  inference: [(value) => typeof value === "boolean" || isObject(value), "a boolean or an object"],
};

export function checkCardMetadata(readme: string): MetadataReport {
  const match = FRONT_MATTER.exec(readme);
  if (!match) return { errors: [], warnings: [{ message: NO_METADATA }] };
  const doc = parseDocument(match[1] ?? "", { uniqueKeys: true, prettyErrors: false });
  if (doc.errors.length > 0) {
    return {
      errors: doc.errors.slice(0, 5).map((e) => ({ message: `Invalid YAML: ${e.message}` })),
      warnings: [],
    };
  }
  let data: unknown;
  try {
    data = doc.toJS({ maxAliasCount: 100 });
  } catch (error) {
    return { errors: [{ message: `Invalid YAML: ${(error as Error).message}` }], warnings: [] };
  }
  if (data === null || data === undefined) return { errors: [], warnings: [{ message: NO_METADATA }] };
  if (!isObject(data))
    return { errors: [{ message: "YAML metadata must be a mapping of keys to values" }], warnings: [] };
  const errors: MetadataIssue[] = [];
  for (const [key, [check, expected]] of Object.entries(KEY_RULES)) {
    if (!Object.hasOwn(data, key)) continue;
    const value = (data as Record<string, unknown>)[key];
    if (!check(value)) errors.push({ message: `"${key}" must be ${expected}` });
  }
  const warnings = Object.keys(data).length === 0 ? [{ message: NO_METADATA }] : [];
  return { errors, warnings };
}
