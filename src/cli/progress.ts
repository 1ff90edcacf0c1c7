import cliProgress from "cli-progress";
import type { MergeEvent, MergeEventListener } from "../pipeline.js";

/** A progress bar on a terminal, a few plain lines elsewhere (CI logs). */
export function progressReporter(stream: NodeJS.WriteStream, quiet: boolean): MergeEventListener {
  let bar: cliProgress.SingleBar | undefined;
  let lastLogged = 0;
  return (event: MergeEvent) => {
    if (event.type === "warning" || event.type === "manifest-warning") {
      bar?.stop();
      bar = undefined;
      stream.write(`warning: ${event.message}\n`);
      return;
    }
    if (quiet) return;
    if (event.type === "start" && stream.isTTY) {
      bar = new cliProgress.SingleBar(
        { format: "merging {bar} {value}/{total} tensors | {tensor}", stream, hideCursor: true },
        cliProgress.Presets.shades_classic,
      );
      bar.start(event.tensors, 0, { tensor: "" });
    } else if (event.type === "tensor") {
      if (bar) bar.update(event.index, { tensor: event.name });
      else if (event.index === event.total || event.index - lastLogged >= Math.max(1, event.total / 10)) {
        lastLogged = event.index;
        stream.write(`merged ${event.index}/${event.total} tensors\n`);
      }
    } else if (event.type === "done") {
      bar?.stop();
    }
  };
}
