import * as fs from "fs";
import * as path from "path";

/**
 * The Python scripts live in the package's `python/` folder (shipped as is: package.json `files` lists it),
 * read at run time from the compiled `dist/antivirus/` or from `src/antivirus/` alike. A line
 * `# @include <file>.py` is replaced by that file, so both scripts carry the shared protocols and neither
 * depends on the other at run time.
 */
const pythonDir = path.join(__dirname, "..", "..", "python");
const include = /^# @include ([a-z_]+\.py)\n/gm;

/** The script `file` as shipped in its ConfigMap: its text with every include line replaced. */
export function pythonScript(file: string): string {
  const read = (f: string) => fs.readFileSync(path.join(pythonDir, f), "utf8");
  return read(file).replace(include, (_line, included: string) => read(included));
}
