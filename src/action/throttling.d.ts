/** The throttling plugin, typed only as far as the Action uses it (see throttling.js for why). */
export declare const throttling: {
  (octokit: unknown, options: unknown): Record<string, unknown>;
  VERSION: string;
};
