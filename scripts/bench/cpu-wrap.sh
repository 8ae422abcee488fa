#!/bin/sh
# CPU accounting of the bench (scripts/bench/cpu.ts): stands in for an executable the engine starts, moves
# itself into the cgroup of that executable's role, then becomes the real executable (exec keeps the pid,
# so the process and everything it starts are counted there, exited or not, reaped or not).
# Installed as a symlink named after the executable, next to a file <name>.real holding the real path.
set -eu
name=${0##*/}
case $name in
  pulumi) group=engine ;;
  pulumi-language-*) group=langhost ;;
  pulumi-resource-*) group=providers ;;
  node)
    # The language host starts a JavaScript policy pack as `node -e <launcher> <pack>`.
    case "${1:-} ${2:-}" in
      "-e "*run-policy-pack*) group=pack ;;
      *) group=program ;;
    esac
    ;;
  *)
    echo "keel bench cpu-wrap: no role for executable '$name'" >&2
    exit 127
    ;;
esac
echo $$ >"$KEEL_BENCH_CGROUP/$group/cgroup.procs"
real=$(cat "$0.real")
exec "$real" "$@"
