import { stringify } from "yaml";
import type { ParamSettings, Slice } from "../manifest/types.js";
import type { CardInput, CardSource } from "./card-input.js";
import { buildFrontMatter } from "./front-matter.js";

/** Marks a card (and so a repo) as written by hubmerge; publish only overwrites such repos. */
export const CARD_MARKER = "<!-- hubmerge:card v1 -->";

const PUBLIC_HUB = "https://huggingface.co";

/** The model card: README.md with front matter the Hub understands and a body a person reads. */
export function renderCard(input: CardInput): { text: string; warnings: string[] } {
  const warnings: string[] = [];
  const front = buildFrontMatter(input, (message) => warnings.push(message));
  const sections = [
    `---\n${stringify(front, { lineWidth: 0 })}---`,
    CARD_MARKER,
    intro(input),
    sourcesTable(input),
    parametersSection(input),
    input.compatibilityMarkdown ? `## Compatibility check\n\n${input.compatibilityMarkdown.trim()}` : "",
    manifestSection(input),
    reproducibility(input),
    usage(input),
  ];
  return { text: sections.filter(Boolean).join("\n\n") + "\n", warnings };
}

function intro(input: CardInput): string {
  const { method, manifest, repo } = input;
  const title = manifest.hubmerge.card.title ?? repo?.split("/").pop() ?? "Merged model";
  const paper = method.reference ? ` ([paper](${method.reference}))` : "";
  const lines = [
    `# ${title}`,
    manifest.hubmerge.card.description ?? "",
    `This model is a merge of ${input.sources.length} models made with hubmerge.`,
    `**Method: ${method.prettyName}** (\`${method.name}\`)${paper}: ${method.summary}`,
  ];
  return lines.filter(Boolean).join("\n\n");
}

function sourcesTable(input: CardInput): string {
  const rows = input.sources.map((s) => `| ${modelLink(input, s)} | ${s.role} | ${revisionLink(input, s)} |`);
  return ["## Sources", "", "| model | role | revision |", "|---|---|---|", ...rows].join("\n");
}

function parametersSection(input: CardInput): string {
  const { manifest, record } = input;
  const lines = ["## Parameters", ""];
  for (const entry of manifest.models ?? [])
    lines.push(`- \`${entry.ref.raw}\`: ${formatSettings(entry.parameters)}`);
  manifest.slices?.forEach((slice, i) => lines.push(`- slice ${i + 1}: ${sliceSources(slice)}`));
  lines.push(...moduleLines(input));
  if (Object.keys(manifest.parameters).length > 0)
    lines.push(`- global: ${formatSettings(manifest.parameters)}`);
  lines.push(
    `- seed: \`${record.seed}\`; DARE rescale: \`${record.dareRescale}\`` +
      (record.dareRescale === "paper"
        ? " (survivors × 1/density, as in the DARE paper)"
        : " (L1-norm matching, as mergekit)"),
    `- output dtype: \`${record.dtype}\`; arithmetic in f32 with one round-to-nearest-even at the end`,
    "- random masks: Philox4x32-10, key = seed, counter = (element index / 4, SHA-256(model ⟨NUL⟩ tensor)[0..8])," +
      " model as written without @revision;" +
      " an element is kept iff its 24-bit uniform < round(p · 2²⁴). Anyone can recompute them.",
  );
  return lines.join("\n");
}

function manifestSection(input: CardInput): string {
  if (!input.manifest.hubmerge.card.includeManifest) return "";
  return `## Manifest\n\n\`\`\`yaml\n${input.manifest.text.trimEnd()}\n\`\`\``;
}

function reproducibility(input: CardInput): string {
  const { record } = input;
  const files = record.files.map((f) => `| \`${f.path}\` | ${f.size} | \`${f.sha256}\` |`);
  return [
    "## Reproducibility",
    "",
    `Made by ${record.tool.name} ${record.tool.version} from a manifest with sha256 \`${record.manifest.sha256}\`.`,
    "The same manifest, source revisions, seed and tool version give these bytes exactly:",
    "",
    "| file | bytes | sha256 |",
    "|---|---|---|",
    ...files,
    "",
    "To re-create it, save the manifest above as `merge.yaml` (pin each source to the revision listed) and run:",
    "",
    "```sh",
    `npx ${record.tool.name}@${record.tool.version} merge merge.yaml --out ./merged`,
    "```",
    "",
    "To check it without re-creating everything (a seeded sample of the tensors, read by range):",
    "",
    "```sh",
    `npx ${record.tool.name}@${record.tool.version} verify ${input.repo ?? "path/to/merged"}`,
    "```",
    ...(input.provenanceUrl
      ? [
          "",
          `Build provenance: the workflow run that made these files attested them ([attestations](${input.provenanceUrl}); check with \`gh attestation verify\`).`,
        ]
      : []),
  ].join("\n");
}

function usage(input: CardInput): string {
  const id = input.repo ?? "path/to/merged";
  return [
    "## Usage",
    "",
    "```python",
    "from transformers import AutoModelForCausalLM, AutoTokenizer",
    "",
    `tokenizer = AutoTokenizer.from_pretrained("${id}")`,
    `model = AutoModelForCausalLM.from_pretrained("${id}", torch_dtype="auto")`,
    "```",
  ].join("\n");
}

function modelLink(input: CardInput, source: CardSource): string {
  return source.repo ? `[${source.repo}](${hub(input)}/${source.repo})` : `\`${source.ref}\``;
}

function revisionLink(input: CardInput, source: CardSource): string {
  if (!source.revision) return "local folder";
  const short = source.revision.slice(0, 12);
  return source.repo
    ? `[\`${short}\`](${hub(input)}/${source.repo}/tree/${source.revision})`
    : `\`${short}\``;
}

function hub(input: CardInput): string {
  return input.hubUrl ?? PUBLIC_HUB;
}

function sliceSources(slice: Slice): string {
  return slice.sources
    .map((s) => `\`${s.ref.raw}\` layers ${s.layerRange[0]}–${s.layerRange[1] - 1}`)
    .join(", ");
}

/** `modules:` merges: a line per module (its layer count from the plan), then its inputs. */
function moduleLines({ manifest, modules }: CardInput): string[] {
  const lines: string[] = [];
  for (const module of manifest.modules ?? []) {
    const layers = modules?.find((m) => m.name === module.name)?.layers;
    const count = layers === undefined ? "" : ` (${layers} layer${layers === 1 ? "" : "s"})`;
    const params = Object.keys(module.parameters).length > 0 ? `: ${formatSettings(module.parameters)}` : "";
    lines.push(`- module \`${module.name}\`${count}${params}`);
    for (const entry of module.models ?? [])
      lines.push(`  - \`${entry.ref.raw}\`: ${formatSettings(entry.parameters)}`);
    module.slices?.forEach((slice, i) => lines.push(`  - slice ${i + 1}: ${sliceSources(slice)}`));
  }
  return lines;
}

function formatSettings(settings: ParamSettings): string {
  const parts = Object.entries(settings).map(([key, value]) => `${key} = \`${JSON.stringify(value)}\``);
  return parts.length > 0 ? parts.join(", ") : "defaults";
}
