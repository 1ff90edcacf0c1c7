/**
 * One error family for the whole tool. Every error carries a stable code (the CLI maps it to an
 * exit status, the Action to an annotation), says what went wrong, where, and how to fix it.
 */
export const ERROR_CODES = {
  E_USAGE: 2,
  E_MANIFEST: 3,
  E_SAFETENSORS: 4,
  E_INCOMPATIBLE: 5,
  E_MERGE: 6,
  E_IO: 7,
  E_HUB_AUTH: 8,
  E_HUB_NOT_FOUND: 9,
  E_NETWORK: 10,
  /** The Hub repo changed or is not ours to write: someone else's files, a concurrent commit. */
  E_HUB_CONFLICT: 11,
  /** `hubmerge verify` found a tensor, shard or file that does not match its run record. */
  E_VERIFY: 12,
  E_INTERNAL: 70,
} as const;

export type ErrorCode = keyof typeof ERROR_CODES;

/** Where an error happened: any subset of a file position, a model and a tensor. */
export interface ErrorLocation {
  file?: string;
  line?: number;
  column?: number;
  model?: string;
  tensor?: string;
}

export interface HubmergeErrorOptions {
  /** How to fix it, in one sentence addressed to the user. */
  hint?: string;
  where?: ErrorLocation;
  cause?: unknown;
}

export class HubmergeError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly where: ErrorLocation;

  constructor(code: ErrorCode, message: string, options: HubmergeErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "HubmergeError";
    this.code = code;
    this.hint = options.hint;
    this.where = options.where ?? {};
  }

  /** Exit status for the CLI. */
  get exitCode(): number {
    return ERROR_CODES[this.code];
  }

  /** `file:line:col: [CODE] message (model …, tensor …)\n  hint: …` */
  format(): string {
    const { file, line, column, model, tensor } = this.where;
    let prefix = "";
    if (file !== undefined) {
      prefix = file;
      if (line !== undefined) prefix += `:${line}`;
      if (line !== undefined && column !== undefined) prefix += `:${column}`;
      prefix += ": ";
    }
    const context = [model && `model ${model}`, tensor && `tensor ${tensor}`].filter(Boolean).join(", ");
    let text = `${prefix}[${this.code}] ${this.message}${context ? ` (${context})` : ""}`;
    if (this.hint) text += `\n  hint: ${this.hint}`;
    return text;
  }
}

export function isHubmergeError(value: unknown, code?: ErrorCode): value is HubmergeError {
  return value instanceof HubmergeError && (code === undefined || value.code === code);
}
