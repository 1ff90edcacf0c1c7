/**
 * Manifest globs for paths read through the GitHub API (no file system to walk): `**` any
 * number of folders, `*` and `?` within one path segment, `{a,b}` alternatives, a leading
 * `!` excludes. The same dialect as the Action's `manifests` input, for the cases it uses.
 */

function escapeRegExp(text: string): string {
  return text.replace(/[.+^${}()|[\]\\]/g, "\\$&");
}

function braceAlternatives(glob: string, at: number): { source: string; end: number } | undefined {
  const close = glob.indexOf("}", at);
  if (close < 0) return undefined;
  const options = glob.slice(at + 1, close).split(",");
  return { source: `(?:${options.map((o) => translate(o)).join("|")})`, end: close };
}

function translate(glob: string): string {
  let source = "";
  for (let i = 0; i < glob.length; i++) {
    const ch = glob[i]!;
    if (ch === "*" && glob[i + 1] === "*") {
      const slashAfter = glob[i + 2] === "/";
      source += slashAfter ? "(?:[^/]+/)*" : ".*";
      i += slashAfter ? 2 : 1;
    } else if (ch === "*") source += "[^/]*";
    else if (ch === "?") source += "[^/]";
    else if (ch === "{") {
      const alt = braceAlternatives(glob, i);
      if (alt === undefined) source += "\\{";
      else {
        source += alt.source;
        i = alt.end;
      }
    } else source += escapeRegExp(ch);
  }
  return source;
}

export function globToRegExp(glob: string): RegExp {
  return new RegExp(`^${translate(glob.replace(/^\.\//, ""))}$`);
}

/** Whether `path` matches at least one include glob and no `!` exclude. */
export function createPathMatcher(globs: readonly string[]): (path: string) => boolean {
  const include = globs.filter((g) => !g.startsWith("!")).map(globToRegExp);
  const exclude = globs.filter((g) => g.startsWith("!")).map((g) => globToRegExp(g.slice(1)));
  return (path) => include.some((re) => re.test(path)) && !exclude.some((re) => re.test(path));
}
