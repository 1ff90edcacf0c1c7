/** Command-line options of `npm run bench`. */
import { availableParallelism, tmpdir } from "node:os";
import { join } from "node:path";

export interface BenchOptions {
  /** Bytes per model (bf16). */
  size: number;
  /** Second model size for the peak-RSS comparison. */
  rssSize: number;
  quick: boolean;
  threads: number;
  /** Interleaved rounds; each configuration's fastest run counts (the reference runs once). */
  repeats: number;
  dir: string;
  /** Run configurations in this process (no per-configuration RSS); for tests. */
  inProcess: boolean;
  keep: boolean;
  topKElements: number;
}

const USAGE = `usage: npm run bench -- [--size 1GB] [--rss-size 512MB] [--threads N] [--repeat 3] [--quick] [--dir PATH] [--keep] [--in-process]
  --size       bytes per synthetic bf16 model (base + 2 fine-tunes are generated); default 1GB
  --rss-size   second model size for the peak-RSS comparison; default half of --size
  --threads    worker threads of the "wasm N threads" rows; default: the available cores
  --repeat     interleaved rounds, the fastest run of each configuration counts; default 3 (1 with --quick)
  --quick      a configuration that runs in seconds (CI)
  --dir        where models are generated (default: the system temp folder)
  --keep       keep the generated models for the next run
  --in-process run every configuration in this process (no per-configuration RSS)`;

export function parseSize(text: string): number {
  const match = /^(\d+(?:\.\d+)?)\s*(B|KB|MB|GB)?$/i.exec(text.trim());
  if (!match) throw new Error(`bad size "${text}" (e.g. 512MB, 1GB)\n${USAGE}`);
  const unit = { B: 1, KB: 1e3, MB: 1e6, GB: 1e9 }[(match[2] ?? "B").toUpperCase() as "B"];
  return Math.round(Number(match[1]) * unit);
}

/** `--name value` pairs, and the named flags that take no value; anything else is refused with `usage`. */
export function readFlags(argv: string[], usage: string, booleans: string[]): Map<string, string | true> {
  const flags = new Map<string, string | true>();
  for (let i = 0; i < argv.length; i++) {
    const name = argv[i]!;
    if (!name.startsWith("--")) throw new Error(`unexpected argument "${name}"\n${usage}`);
    flags.set(name, booleans.includes(name) ? true : (argv[++i] ?? ""));
  }
  return flags;
}

export function parseOptions(argv: string[]): BenchOptions {
  const flags = readFlags(argv, USAGE, ["--quick", "--keep", "--in-process", "--help"]);
  if (flags.has("--help")) {
    console.log(USAGE);
    process.exit(0);
  }
  const quick = flags.has("--quick");
  const size = parseSize(String(flags.get("--size") ?? (quick ? "8MB" : "1GB")));
  const rssSize = flags.has("--rss-size") ? parseSize(String(flags.get("--rss-size"))) : Math.round(size / 2);
  return {
    size,
    rssSize,
    quick,
    threads: Number(flags.get("--threads") ?? availableParallelism()),
    repeats: Math.max(1, Math.floor(Number(flags.get("--repeat") ?? (quick ? 1 : 3)))),
    dir: String(flags.get("--dir") ?? join(tmpdir(), "hubmerge-bench")),
    inProcess: flags.has("--in-process"),
    keep: flags.has("--keep"),
    topKElements: quick ? 1 << 20 : 1 << 24,
  };
}
