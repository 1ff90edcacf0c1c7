import cliProgress from "cli-progress";
import { formatBytes } from "../format.js";
import type { MergeEvent, MergeEventListener } from "../pipeline/index.js";
import { Throughput, formatEta, formatRate } from "./throughput.js";

/**
 * A progress bar on a terminal, a few plain lines elsewhere (CI logs). Both show the bytes read,
 * the throughput and the time left: on a long download that is what a person watches.
 */
export function progressReporter(
  stream: NodeJS.WriteStream,
  quiet: boolean,
  now?: () => number,
): MergeEventListener {
  let bar: cliProgress.SingleBar | undefined;
  let lastLogged = 0;
  const read = { bytes: 0, total: 0 };
  const throughput = new Throughput(now);
  const speed = () =>
    `${formatBytes(read.bytes)} of ${formatBytes(read.total)} read, ${formatRate(throughput.rate)}, ETA ${formatEta(throughput.secondsLeft(read.total))}`;
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
        {
          format: "merging {bar} {value}/{total} tensors | {speed} | {tensor}",
          stream,
          hideCursor: true,
        },
        cliProgress.Presets.shades_classic,
      );
      bar.start(event.tensors, 0, { tensor: "", speed: "" });
    } else if (event.type === "read") {
      read.bytes = event.bytes;
      read.total = event.total;
      throughput.add(event.bytes);
      bar?.update({ speed: speed() });
    } else if (event.type === "tensor") {
      if (bar) bar.update(event.index, { tensor: event.name, speed: speed() });
      else if (event.index === event.total || event.index - lastLogged >= Math.max(1, event.total / 10)) {
        lastLogged = event.index;
        stream.write(`merged ${event.index}/${event.total} tensors, ${speed()}\n`);
      }
    } else if (event.type === "done") {
      bar?.stop();
    }
  };
}
