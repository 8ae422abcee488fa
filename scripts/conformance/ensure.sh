#!/usr/bin/env bash
# shellcheck source-path=SCRIPTDIR
# scripts/conformance/ensure.sh <program>: installs (once, into ${KEEL_CACHE:-~/.cache/keel}/conformance) the
# real program the conformance suite runs and prints, as its last line, the path to run it by. Progress goes to
# stderr. Programs: Go modules at the images' versions (stunnerd, livekit-server, promtool, alertmanager,
# amtool, blackbox_exporter) and Debian packages (haproxy, coturn, pgbouncer, redis-server, rabbitmq-server,
# clamd, nginx). A Debian program's path is a wrapper in <root>/wrapped/, beside the package's other programs.
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=versions.env
. "$HERE/versions.env"
# shellcheck source=lib.sh
. "$HERE/lib.sh"

# debian_tool <name> <program> <package>...: unpacks the packages once per version of the first one and
# prints the path of the program's wrapper (the programs beside it are in the same folder).
debian_tool() {
  local name=$1 program=$2
  shift 2
  conf_apt_update
  local version root
  version=$(debian_version "$1")
  [[ -n $version ]] || die "Debian's index lists no $1"
  root=$CONF/$name-${version#*:}
  if [[ ! -x $root/wrapped/$program ]]; then
    say "unpacking Debian $* ($1 $version) into $root"
    rm -rf "$root.partial" && mkdir -p "$root.partial"
    (debian_unpack "$root.partial" "$@")
    rm -rf "$root" && mv "$root.partial" "$root"
    debian_wrap "$root"
  fi
  echo "$root/wrapped/$program"
}

mkdir -p "$CONF"
exec 9>"$CONF/.lock"
flock 9
case ${1:-} in
  stunnerd) go_main stunnerd "$STUNNERD_MODULE" "$STUNNERD_VERSION" "$STUNNERD_SUM" cmd/stunnerd ;;
  livekit-server) go_main livekit-server "$LIVEKIT_MODULE" "$LIVEKIT_VERSION" "$LIVEKIT_SUM" cmd/server ;;
  promtool) go_main promtool "$PROMETHEUS_MODULE" "$PROMETHEUS_VERSION" "$PROMETHEUS_SUM" cmd/promtool ;;
  alertmanager) go_main alertmanager "$ALERTMANAGER_MODULE" "$ALERTMANAGER_VERSION" "$ALERTMANAGER_SUM" cmd/alertmanager ;;
  amtool) go_main amtool "$ALERTMANAGER_MODULE" "$ALERTMANAGER_VERSION" "$ALERTMANAGER_SUM" cmd/amtool ;;
  blackbox_exporter) go_main blackbox_exporter "$BLACKBOX_MODULE" "$BLACKBOX_VERSION" "$BLACKBOX_SUM" . ;;
  haproxy) debian_tool haproxy haproxy haproxy ;;
  coturn) debian_tool coturn turnserver coturn ;;
  pgbouncer) debian_tool pgbouncer pgbouncer pgbouncer ;;
  redis-server) debian_tool redis redis-server redis-server ;;
  rabbitmq-server) debian_tool rabbitmq rabbitmq-server rabbitmq-server ;;
  clamd) debian_tool clamav clamd clamav-daemon clamdscan ;;
  nginx) debian_tool nginx nginx nginx-light ;;
  *) die "usage: scripts/conformance/ensure.sh PROGRAM (one of the cases in this script)" ;;
esac
