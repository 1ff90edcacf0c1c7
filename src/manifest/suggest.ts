/**
 * "Did you mean …?" for keys, parameter names and method names. A typo is a small edit distance
 * (adjacent transpositions count as one edit, as in `densiyt`), scaled to the word's length so that
 * short words do not match everything.
 */

/** Optimal-string-alignment distance: Levenshtein plus adjacent transpositions. */
export function editDistance(a: string, b: string): number {
  const rows = a.length + 1;
  const cols = b.length + 1;
  const d: number[][] = Array.from({ length: rows }, (_, i) =>
    Array.from({ length: cols }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  const at = (i: number, j: number): number => d[i]?.[j] ?? Number.POSITIVE_INFINITY;
  for (let i = 1; i < rows; i++) {
    for (let j = 1; j < cols; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let best = Math.min(at(i - 1, j) + 1, at(i, j - 1) + 1, at(i - 1, j - 1) + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        best = Math.min(best, at(i - 2, j - 2) + 1);
      }
      (d[i] as number[])[j] = best;
    }
  }
  return at(a.length, b.length);
}

/** The most edits that still count as a typo of a word this long. */
function typoBudget(length: number): number {
  if (length < 3) return 0;
  if (length < 6) return 1;
  return 2;
}

/**
 * The candidate `word` is most likely a typo of, or undefined when none is close enough.
 * Case and `-`/`_` differences are free (`Dare-Rescale` → `dare_rescale`).
 */
export function closestMatch(word: string, candidates: Iterable<string>): string | undefined {
  const normal = (s: string): string => s.toLowerCase().replace(/-/g, "_");
  const target = normal(word);
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const candidate of candidates) {
    const distance = editDistance(target, normal(candidate));
    if (distance < bestDistance) {
      best = candidate;
      bestDistance = distance;
    }
  }
  if (best === undefined || best === word) return undefined;
  return bestDistance <= typoBudget(Math.max(word.length, best.length)) ? best : undefined;
}

/** `a`, `a or b`, `a, b or c` with each item in backticks. */
export function listWords(words: readonly string[]): string {
  const quoted = words.map((w) => `\`${w}\``);
  if (quoted.length <= 1) return quoted.join("");
  return `${quoted.slice(0, -1).join(", ")} or ${quoted[quoted.length - 1]}`;
}
