#!/usr/bin/env node
// Helper for build.sh: reads sources.json and package.json (node is always present: the project
// needs it anyway). Usage:
//   lib.js pinned <package.json> <npm-name>      exact version from dependencies ("" if absent)
//   lib.js default <binary>                      default version from sources.json
//   lib.js has <binary> <version>                exit 0 if sources.json has an entry
//   lib.js field <binary> <version> <a.b.c>      print a field (strings as-is, arrays space-joined)
//   lib.js first-require <binary> <version>      "module@version" of the first requirement
//   lib.js require <binary> <version> <module>   version required for <module>
//   lib.js get-args <binary> <version>           `go get` arguments (requirements + package)
//   lib.js gomod <binary> <version> <module>     print the wrapper's skeleton go.mod
//   lib.js k8s-embed <srcdir> <dstdir> <version> write schema-embed.json and
//                                                terraform-mapping-embed.json (what upstream's
//                                                go generate step produces)
"use strict";
const fs = require("fs");
const path = require("path");

const sources = JSON.parse(fs.readFileSync(path.join(__dirname, "sources.json"), "utf8"));
const [cmd, ...args] = process.argv.slice(2);

function entry(binary, version) {
  const e = (sources[binary] || {})[version];
  if (!e) {
    process.stderr.write(`no entry for ${binary} ${version} in sources.json\n`);
    process.exit(3);
  }
  return e;
}

switch (cmd) {
  case "pinned": {
    const [file, name] = args;
    if (!fs.existsSync(file)) break;
    const pkg = JSON.parse(fs.readFileSync(file, "utf8"));
    const v = (pkg.dependencies || {})[name];
    if (v === undefined) break;
    if (!/^\d+\.\d+\.\d+$/.test(v)) {
      process.stderr.write(`${name} in ${file} must be pinned to an exact version, found "${v}"\n`);
      process.exit(4);
    }
    process.stdout.write(v);
    break;
  }
  case "default":
    process.stdout.write((sources.defaults || {})[args[0]] || "");
    break;
  case "has":
    process.exit((sources[args[0]] || {})[args[1]] ? 0 : 1);
    break;
  case "field": {
    let v = entry(args[0], args[1]);
    for (const k of args[2].split(".")) v = v === undefined ? undefined : v[k];
    if (v === undefined) v = "";
    if (Array.isArray(v)) v = v.join(" ");
    process.stdout.write(String(v).split("${VERSION}").join(args[1]));
    break;
  }
  case "first-require": {
    // "module@version" of the first required module
    const [m, v] = Object.entries(entry(args[0], args[1]).require || {})[0] || [];
    process.stdout.write(m ? `${m}@${v}` : "");
    break;
  }
  case "get-args": {
    // arguments for `go get` when the built package lives in a dependency
    const e = entry(args[0], args[1]);
    const req = Object.entries(e.require || {});
    const out = req.map(([m, v]) => `${m}@${v}`);
    if (e.package) {
      const owner = req
        .filter(([m]) => e.package === m || e.package.startsWith(m + "/"))
        .sort((a, b) => b[0].length - a[0].length)[0];
      if (owner) out.push(`${e.package}@${owner[1]}`);
    }
    process.stdout.write(out.join(" "));
    break;
  }
  case "require": // version of one required module
    process.stdout.write((entry(args[0], args[1]).require || {})[args[2]] || "");
    break;
  case "gomod": {
    const [binary, version, mod] = args;
    const e = entry(binary, version);
    const goVersion = process.env.KEEL_GO_DIRECTIVE || "1.25.11";
    let out = `module ${mod}\n\ngo ${goVersion}\n`;
    const req = Object.entries(e.require || {});
    if (e.shim) req.push([e.shim, "v0.0.0"]);
    if (req.length) out += `\nrequire (\n${req.map(([m, v]) => `\t${m} ${v}\n`).join("")})\n`;
    const rep = Object.entries(e.replace || {});
    if (e.shim) rep.push([e.shim, "./shim"]);
    for (const [m, to] of rep) out += `\nreplace ${m} => ${to}\n`;
    process.stdout.write(out);
    break;
  }
  case "k8s-embed": {
    const [src, dst, version] = args;
    const schema = JSON.parse(fs.readFileSync(path.join(src, "schema.json"), "utf8"));
    schema.version = version;
    fs.writeFileSync(path.join(dst, "schema-embed.json"), JSON.stringify(schema));
    const mapping = JSON.parse(fs.readFileSync(path.join(src, "terraform-mapping.json"), "utf8"));
    fs.writeFileSync(path.join(dst, "terraform-mapping-embed.json"), JSON.stringify(mapping));
    break;
  }
  default:
    process.stderr.write(`lib.js: unknown command ${cmd}\n`);
    process.exit(2);
}
