/**
 * A build-time patch of @pulumi/policy 1.21.0's server.js for the pack's bundle: AnalyzeStack builds its
 * resource objects once per request instead of once per stack policy.
 *
 * makeAnalyzeStackRpcFun rebuilds, for each of keel's stack policies, an object for every resource of the
 * request (proxy, options, provider, parent and dependency links): 49 × 957 objects on the prod stack, about
 * 145 ms of CPU in a preview (docs/benchmarks.md). The patch wraps that block in a function whose result is
 * remembered per request (the request's resource list); every policy then gets its own array of the same,
 * read-only objects. The block itself is unchanged, so what a policy sees is unchanged.
 *
 * The anchors must each occur exactly once, else the build fails: a new @pulumi/policy needs this patch
 * reviewed (package.json pins the version).
 */
"use strict";
const fs = require("fs");
const path = require("path");

/** server.js's module path, as esbuild reports it (either separator). */
const POLICY_SERVER = /[\\/]@pulumi[\\/]policy[\\/]server\.js$/;

const HELPER = `
// keel (policy-pack/scripts/policy-server-patch.js): one set of resource objects per AnalyzeStack request.
const keelResourcesByRequest = new WeakMap();
function keelSharedResources(list, build) {
    let built = keelResourcesByRequest.get(list);
    if (built === undefined) {
        built = build();
        keelResourcesByRequest.set(list, built);
    }
    return built.slice();
}
`;

const EDITS = [
  {
    what: "the start of the per-policy resource block",
    from: "const intermediates = [];",
    to: "const policyResources = keelSharedResources(resources, () => {\nconst intermediates = [];",
  },
  {
    what: "the policy arguments built from that block",
    from: "const args = {\n                            resources: intermediates.map(r => r.resource),",
    to: "return intermediates.map(r => r.resource);\n});\nconst args = {\n                            resources: policyResources,",
  },
];

function occurrences(text, part) {
  return text.split(part).length - 1;
}

/** server.js's source with the patch applied; throws, naming the anchor, when the source is not the expected one. */
function patchPolicyServer(source) {
  let out = source;
  for (const edit of EDITS) {
    const n = occurrences(out, edit.from);
    if (n !== 1) {
      throw new Error(
        `@pulumi/policy's server.js: ${edit.what} (${JSON.stringify(edit.from.split("\n")[0])}) found ${n} times, ` +
          "expected once; review policy-pack/scripts/policy-server-patch.js for this @pulumi/policy version",
      );
    }
    out = out.replace(edit.from, edit.to);
  }
  return `${out}\n${HELPER}`;
}

/**
 * Compiles the patched server.js at `file` (the installed one) as a module of its own and returns its exports,
 * for code that runs the pack's compiled modules instead of the bundle (tests, the bench's replay). With
 * `register`, later `require`s of that file (e.g. by @pulumi/policy's index.js) get it too.
 */
function loadPatchedServer(file, register = false) {
  const Module = require("module");
  const m = new Module(file, module);
  m.filename = file;
  m.paths = Module._nodeModulePaths(path.dirname(file));
  // Registered before it runs, as Node.js does: server.js requires policy.js, which requires server.js back.
  if (register) require.cache[file] = m;
  m._compile(patchPolicyServer(fs.readFileSync(file, "utf8")), file);
  m.loaded = true;
  return m.exports;
}

module.exports = { POLICY_SERVER, patchPolicyServer, loadPatchedServer };
