/** The benchmark's printed report: a table per run, ratios to the I/O floor, and the targets. */

export interface Row {
  label: string;
  method: string;
  seconds: number;
  elements: number;
  bytesRead: number;
  bytesWritten: number;
  outputHash: string;
  maxRssBytes?: number;
}

const MB = 1e6;

function pad(cells: string[], widths: number[]): string {
  return cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
}

/** `floorSeconds`: the I/O floor's time (rows with method "-" are floor measurements). */
export function formatTable(rows: Row[], floorSeconds: number): string {
  const header = ["configuration", "seconds", "Melem/s", "GB/s", "× I/O floor", "peak RSS MB", "output"];
  const body = rows.map((row) => {
    const reference = rows.find((r) => r.method === row.method && r.label.startsWith("reference"));
    const same =
      row.method === "-" || row.outputHash === ""
        ? "—"
        : reference && reference !== row
          ? reference.outputHash === row.outputHash
            ? "= reference"
            : "DIFFERS"
          : row.outputHash.slice(0, 12);
    return [
      row.label,
      row.seconds.toFixed(2),
      (row.elements / row.seconds / 1e6).toFixed(1),
      row.bytesRead + row.bytesWritten === 0
        ? "—"
        : ((row.bytesRead + row.bytesWritten) / row.seconds / 1e9).toFixed(2),
      (row.seconds / floorSeconds).toFixed(2),
      row.maxRssBytes === undefined ? "n/a" : (row.maxRssBytes / MB).toFixed(0),
      same,
    ];
  });
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((cells) => cells[i]!.length)));
  return [pad(header, widths), ...body.map((cells) => pad(cells, widths))].join("\n");
}

export interface Target {
  what: string;
  value: string;
  met: boolean | undefined;
}

export function formatTargets(targets: Target[]): string {
  return targets
    .map((t) => `${t.met === undefined ? "·" : t.met ? "✓" : "✗"} ${t.what}: ${t.value}`)
    .join("\n");
}
