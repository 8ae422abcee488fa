/** Entry point of the audit command's bundle (bin/keel-audit/bundle.js, built by scripts/bundle-audit.js). */
import * as fs from "fs";
import { main } from "./audit";

/**
 * Writes straight to the file descriptor: creating process.stdout loads Node.js's stream modules, a tenth of a
 * one-file audit's start-up. A non-blocking descriptor that is full (EAGAIN) hands the rest to the stream; a
 * reader that went away (EPIPE, e.g. `| head`) ends the output.
 */
function writeTo(fd: 1 | 2, text: string): void {
  let rest = Buffer.from(text);
  while (rest.length > 0) {
    try {
      rest = rest.subarray(fs.writeSync(fd, rest));
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === "EAGAIN") {
        (fd === 1 ? process.stdout : process.stderr).write(rest);
      } else if (code !== "EPIPE") {
        throw err;
      }
      return;
    }
  }
}

process.exitCode = main(
  process.argv.slice(2),
  (t) => writeTo(1, t),
  (t) => writeTo(2, t),
);
