// File copying for staging a bundle.
import * as fs from "fs";
import * as path from "path";

/** Copies a file keeping its permission bits; creates the folder. */
export function copyFile(from: string, to: string): void {
  fs.mkdirSync(path.dirname(to), { recursive: true });
  fs.copyFileSync(from, to);
  fs.chmodSync(to, fs.statSync(from).mode & 0o777);
}

/** Copies the regular files under `from` whose relative path `keep` accepts; returns how many. */
export function copyMatching(from: string, to: string, keep: (rel: string) => boolean): number {
  let n = 0;
  const walk = (dir: string) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, e.name);
      const rel = path.relative(from, full);
      if (e.isDirectory()) walk(full);
      else if (e.isFile() && keep(rel)) {
        copyFile(full, path.join(to, rel));
        n++;
      }
    }
  };
  walk(from);
  return n;
}

export function dirSize(dir: string): number {
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, e.name);
    n += e.isDirectory() ? dirSize(full) : fs.statSync(full).size;
  }
  return n;
}

export const mib = (bytes: number): string => `${(bytes / 1024 / 1024).toFixed(1)} MiB`;
