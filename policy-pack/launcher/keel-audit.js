#!/bin/sh
":" //; unset NODE_EXTRA_CA_CERTS; exec node "$0" "$@"
/*
 * keel-audit, the package's bin: a file that is both a shell script and JavaScript. The shell reads the line
 * above: it drops NODE_EXTRA_CA_CERTS and runs Node.js on this same file, where that line is a string and a
 * comment. When NODE_EXTRA_CA_CERTS is set, Node.js 20 builds its whole certificate store at start-up, which
 * costs more CPU (85 ms on the reference machine) than the audit itself (Node.js 22 and 24 defer it); the audit
 * opens no connection, so it needs no certificate. `node launcher/keel-audit.js` skips the shell.
 */
"use strict";
require("../bin/src/cli/keel-audit.js").main();
