/**
 * Structured logs: one JSON object per line (`time`, `level`, `event`, then fields). Secrets
 * never reach the output: configured secret values are scrubbed from every string, fields
 * with secret-sounding names are dropped to `[redacted]`, and anything shaped like a GitHub
 * or Hugging Face token or a JWT (installation tokens are minted at run time) is masked too.
 */

export type LogLevel = "debug" | "info" | "warn" | "error";
export type LogFields = Record<string, unknown>;

export interface Logger {
  debug(event: string, fields?: LogFields): void;
  info(event: string, fields?: LogFields): void;
  warn(event: string, fields?: LogFields): void;
  error(event: string, fields?: LogFields): void;
}

export interface LoggerOptions {
  /** Receives each line, newline included (default: stdout). */
  write?: (line: string) => void;
  /** Values to scrub wherever they appear. */
  secrets?: readonly string[];
  /** Lowest level written (default info). */
  level?: LogLevel;
  clock?: () => Date;
}

const LEVELS: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };
const REDACTED = "[redacted]";
const SECRET_KEY = /token|secret|password|authorization|private.?key|^auth$|cookie/i;
const TOKEN_SHAPES = [
  /\bgh[opsur]_[A-Za-z0-9]{16,}/g,
  /\bgithub_pat_[A-Za-z0-9_]{20,}/g,
  /\bhf_[A-Za-z0-9]{16,}/g,
  /\beyJ[\w-]{8,}\.[\w-]{8,}\.[\w-]*/g,
];
const MAX_DEPTH = 6;

function scrubString(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  for (const shape of TOKEN_SHAPES) out = out.replace(shape, REDACTED);
  return out;
}

/** Errors keep only what helps: name, message, HTTP status (never request options or headers). */
function describeError(error: Error): LogFields {
  const status = (error as { status?: unknown }).status;
  const code = (error as { code?: unknown }).code;
  return {
    name: error.name,
    message: error.message,
    ...(typeof status === "number" ? { status } : {}),
    ...(typeof code === "string" ? { code } : {}),
  };
}

function scrub(value: unknown, secrets: readonly string[], depth: number): unknown {
  if (typeof value === "string") return scrubString(value, secrets);
  if (typeof value === "bigint") return value.toString();
  if (value === null || typeof value !== "object") return value;
  if (depth >= MAX_DEPTH) return "[…]";
  if (value instanceof Error) return scrub(describeError(value), secrets, depth + 1);
  if (Array.isArray(value)) return value.map((item) => scrub(item, secrets, depth + 1));
  const out: LogFields = {};
  for (const [key, item] of Object.entries(value)) {
    out[key] = SECRET_KEY.test(key) ? REDACTED : scrub(item, secrets, depth + 1);
  }
  return out;
}

export function createLogger(options: LoggerOptions = {}): Logger {
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const secrets = [...(options.secrets ?? [])].sort((a, b) => b.length - a.length);
  const threshold = LEVELS[options.level ?? "info"];
  const clock = options.clock ?? (() => new Date());
  const emit =
    (level: LogLevel) =>
    (event: string, fields: LogFields = {}) => {
      if (LEVELS[level] < threshold) return;
      const record = {
        time: clock().toISOString(),
        level,
        event,
        ...(scrub(fields, secrets, 0) as LogFields),
      };
      write(`${JSON.stringify(record)}\n`);
    };
  return { debug: emit("debug"), info: emit("info"), warn: emit("warn"), error: emit("error") };
}

/** A logger that drops everything (library defaults, tests that do not look). */
export const silentLogger: Logger = { debug() {}, info() {}, warn() {}, error() {} };
