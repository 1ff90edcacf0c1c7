import type { Command } from "commander";
import { formatBytes } from "../format.js";
import { DTYPE_SIZE, openLocalModel } from "../pipeline/index.js";

const CONFIG_KEYS = [
  "model_type",
  "architectures",
  "hidden_size",
  "num_hidden_layers",
  "num_attention_heads",
  "num_key_value_heads",
  "intermediate_size",
  "vocab_size",
  "torch_dtype",
];

export function registerInspect(program: Command): void {
  program
    .command("inspect")
    .description("show a model's config and tensor table (reads headers only)")
    .argument("<model>", "model folder")
    .option("--json", "print as JSON")
    .action(async (modelPath: string, flags: { json?: boolean }) => {
      const model = await openLocalModel(modelPath);
      const tensors = model.tensors.tensorNames().map((name) => {
        const info = model.tensors.info(name);
        const bytes = info.shape.reduce((a, b) => a * b, 1) * DTYPE_SIZE[info.dtype];
        return { name, dtype: info.dtype, shape: info.shape, bytes, file: info.file };
      });
      await model.tensors.close();
      if (flags.json) {
        process.stdout.write(JSON.stringify({ config: model.config ?? null, tensors }, null, 2) + "\n");
        return;
      }
      const out: string[] = [`model ${modelPath}`];
      for (const key of CONFIG_KEYS) {
        if (model.config?.[key] !== undefined) out.push(`  ${key}: ${JSON.stringify(model.config[key])}`);
      }
      const total = tensors.reduce((sum, t) => sum + t.bytes, 0);
      out.push(`${tensors.length} tensors, ${formatBytes(total)} in ${model.tensors.files.length} file(s)`);
      const width = Math.max(4, ...tensors.map((t) => t.name.length));
      out.push(`  ${"name".padEnd(width)}  dtype  ${"shape".padEnd(16)}  size`);
      for (const t of tensors) {
        out.push(
          `  ${t.name.padEnd(width)}  ${t.dtype.padEnd(5)}  ${`[${t.shape.join(", ")}]`.padEnd(16)}  ${formatBytes(t.bytes)}`,
        );
      }
      process.stdout.write(out.join("\n") + "\n");
    });
}
