/** What a merge reports while it runs; the CLI draws a progress bar, the Action logs. */
export type MergeEvent =
  | { type: "start"; tensors: number; inputBytes: number; outputBytes: number }
  | { type: "tensor"; index: number; total: number; name: string; outputBytes: number }
  /** Input bytes read so far (cumulative) of `total`: what a long download is measured by. */
  | { type: "read"; bytes: number; total: number }
  | { type: "warning"; message: string }
  /** A manifest finding, already located as `file:line:column: message` (the Action annotates these itself). */
  | { type: "manifest-warning"; message: string }
  | { type: "done"; files: string[]; seconds: number };

export type MergeEventListener = (event: MergeEvent) => void;
