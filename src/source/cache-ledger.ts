/**
 * The Hub cache's record of what it holds: for every cached block or range, the sha256 of the
 * bytes as they came from the Hub, and for every object whose whole content was checked
 * against its Hub hash, a mark. Records live beside the data (`records/…`), never inside it,
 * and each carries an HMAC under a key kept outside the cache folder: someone who can write
 * the cache (a restored CI cache, another job) can change data and records, but cannot make
 * them agree again, so a changed byte is noticed and fetched again. Without the key (a fresh
 * machine, a cache copied from elsewhere) no record verifies, and everything is fetched anew.
 */
import { createHash, createHmac, randomBytes } from "node:crypto";
import { mkdir, readFile, rm, writeFile } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { writeFileAtomic } from "../fs-atomic.js";

/** What a record covers: `blocks/<key>/<blockBytes>-<i>`, `ranges/<key>/<offset>-<length>` or `objects/<key>`. */
export type RecordName = string;

export type RecordCheck = "ok" | "missing" | "tampered" | "changed";

interface StoredRecord {
  sha256: string;
  mac: string;
}

const KEY_BYTES = 32;

/** The key file's default place: beside the cache folder (`~/.cache/hubmerge` → `~/.cache/.hubmerge.key`). */
export function defaultKeyFile(cacheDir: string): string {
  const dir = resolve(cacheDir);
  return join(dirname(dir), `.${basename(dir)}.key`);
}

export class CacheLedger {
  private secret: Promise<Buffer> | undefined;

  constructor(
    private readonly recordsDir: string,
    private readonly keyFile: string,
  ) {}

  static sha256(bytes: Uint8Array): string {
    return createHash("sha256").update(bytes).digest("hex");
  }

  /** Records `bytes` as the content of `name`. */
  async record(name: RecordName, bytes: Uint8Array): Promise<void> {
    const sha256 = CacheLedger.sha256(bytes);
    const stored: StoredRecord = { sha256, mac: await this.mac(name, sha256) };
    await writeFileAtomic(this.path(name), JSON.stringify(stored));
  }

  /** Whether `bytes` are what was recorded for `name`, with a record that is really ours. */
  async check(name: RecordName, bytes: Uint8Array): Promise<RecordCheck> {
    const stored = await this.read(name);
    if (stored === undefined) return "missing";
    if (stored.mac !== (await this.mac(name, stored.sha256))) return "tampered";
    return stored.sha256 === CacheLedger.sha256(bytes) ? "ok" : "changed";
  }

  /** Marks a whole object as checked against its Hub hash. */
  async markObject(key: string): Promise<void> {
    await this.record(`objects/${key}`, new Uint8Array());
  }

  async objectVerified(key: string): Promise<boolean> {
    return (await this.check(`objects/${key}`, new Uint8Array())) === "ok";
  }

  /** Forgets every record of an object (its data is dropped by the caller). */
  async forget(key: string): Promise<void> {
    await Promise.all(
      ["blocks", "ranges", "objects"].map((kind) =>
        rm(join(this.recordsDir, kind, key), { recursive: true, force: true }),
      ),
    );
  }

  private path(name: RecordName): string {
    return join(this.recordsDir, `${name}.json`);
  }

  private async read(name: RecordName): Promise<StoredRecord | undefined> {
    try {
      const value = JSON.parse(await readFile(this.path(name), "utf8")) as Partial<StoredRecord>;
      return typeof value.sha256 === "string" && typeof value.mac === "string"
        ? { sha256: value.sha256, mac: value.mac }
        : undefined;
    } catch {
      return undefined;
    }
  }

  private async mac(name: RecordName, sha256: string): Promise<string> {
    const secret = await (this.secret ??= loadOrCreateKey(this.keyFile));
    return createHmac("sha256", secret).update(`hubmerge-cache-record-v1\n${name}\n${sha256}`).digest("hex");
  }
}

/**
 * The HMAC key: read from `file`, or created there (owner-only) on first use. When it can be
 * neither read nor written, a key for this process alone: nothing recorded earlier verifies,
 * which costs downloads, never correctness.
 */
async function loadOrCreateKey(file: string): Promise<Buffer> {
  const existing = await readKey(file);
  if (existing !== undefined) return existing;
  const fresh = randomBytes(KEY_BYTES);
  try {
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, fresh.toString("hex"), { flag: "wx", mode: 0o600 });
    return fresh;
  } catch {
    // Another process may have created it first: use theirs, so that both agree.
    return (await readKey(file)) ?? fresh;
  }
}

async function readKey(file: string): Promise<Buffer | undefined> {
  try {
    const text = (await readFile(file, "utf8")).trim();
    return /^[0-9a-f]{64}$/.test(text) ? Buffer.from(text, "hex") : undefined;
  } catch {
    return undefined;
  }
}
