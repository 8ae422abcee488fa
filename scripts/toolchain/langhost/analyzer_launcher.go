package main

// analyzerLauncher starts a compiled (JavaScript) policy pack: `node -e analyzerLauncher <program>` in the
// pack's directory. It is @pulumi/pulumi's cmd/run-policy-pack/index.js without the two costs a compiled
// pack does not need: run.js is called with typeScript false (index.js always passes true, so ts-node and
// typescript load and register a type-checking hook), and the closure-serialization hooks are not
// initialised (policy packs serialize no functions). The exit-code rules are index.js's: an uncaught
// error always ends non-zero, 32 when every one was already logged to the user.
const analyzerLauncher = `
"use strict";
const uncaught = new Set();
const logged = new Set();
let running = false;
const onUncaught = (err) => {
  uncaught.add(err);
  if (!running) console.error((err && (err.stack || err.message)) || String(err));
};
process.on("uncaughtException", onUncaught);
process.on("unhandledRejection", onUncaught);
process.on("exit", (code) => {
  if (code === 0 && uncaught.size > 0) {
    process.exitCode = [...uncaught].every((e) => logged.has(e)) ? 32 : 1;
  }
});
const program = process.argv[1];
let run;
try {
  run = require.resolve("@pulumi/pulumi/cmd/run-policy-pack/run", { paths: [process.cwd()] });
} catch (e) {
  console.error("could not locate @pulumi/pulumi/cmd/run-policy-pack from " + process.cwd() +
    "; are the policy pack's dependencies installed (npm ci)? " + e.message);
  process.exit(1);
}
require(run)
  .run({
    argv: { _: [program] },
    programStarted: () => { running = true; },
    reportLoggedError: (err) => logged.add(err),
    typeScript: false,
  })
  .then(() => { running = false; });
`
