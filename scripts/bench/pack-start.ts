/**
 * pack-start <pack folder>: starts a policy pack the way keel's language host does for a JavaScript pack
 * (scripts/toolchain/langhost/analyzer_launcher.go: @pulumi/pulumi's run-policy-pack `run` with typeScript
 * false, in the pack's folder) and stops as soon as the pack's gRPC server writes its port, which is when
 * the engine can go on. Prints JSON on stderr: the process's CPU time (user + system, Node.js's own start
 * included) and wall time up to that point.
 */
import * as fs from "fs";
import * as path from "path";

function main(packDir: string): void {
  process.chdir(packDir);
  const write = process.stdout.write.bind(process.stdout);
  process.stdout.write = ((chunk: string | Uint8Array, ...rest: unknown[]) => {
    if (/^\d+\s*$/.test(String(chunk))) {
      const cpu = process.cpuUsage();
      const result = { cpuMs: (cpu.user + cpu.system) / 1000, wallMs: performance.now() };
      fs.writeSync(2, JSON.stringify(result) + "\n");
      process.exit(0);
    }
    return write(chunk, ...(rest as []));
  }) as typeof process.stdout.write;
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const run = require(require.resolve("@pulumi/pulumi/cmd/run-policy-pack/run", { paths: [packDir] })) as {
    run(o: Record<string, unknown>): Promise<void>;
  };
  // The server binds asynchronously, after run() has resolved; give up if no port comes.
  setTimeout(() => {
    fs.writeSync(2, "pack-start: the pack wrote no port within 60 s\n");
    process.exit(1);
  }, 60000).unref();
  void run.run({
    argv: { _: [packDir] },
    programStarted: () => undefined,
    reportLoggedError: () => undefined,
    typeScript: false,
  });
}

if (require.main === module) {
  const [packDir] = process.argv.slice(2);
  if (!packDir) {
    process.stderr.write("usage: pack-start <pack folder>\n");
    process.exit(2);
  }
  main(path.resolve(packDir));
}
