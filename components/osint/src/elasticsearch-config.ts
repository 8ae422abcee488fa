/** Elasticsearch's rendered settings and scripts: heap, node settings, the setup and snapshot scripts. */

const MiB = 1024 ** 2;

/**
 * The JVM heap for a memory limit (F15): half of it, the rest left to Lucene's file cache and off-heap
 * memory, capped below 31 GiB so compressed object pointers stay on. Xms = Xmx avoids resize pauses.
 */
export function elasticsearchHeapMb(memoryLimitBytes: number): number {
  return Math.min(31 * 1024, Math.floor((memoryLimitBytes / MiB) * 0.5));
}

/** ES_JAVA_OPTS for a memory limit. */
export function elasticsearchJavaOpts(memoryLimitBytes: number): string {
  const heap = elasticsearchHeapMb(memoryLimitBytes);
  return `-Xms${heap}m -Xmx${heap}m -XX:+ExitOnOutOfMemoryError`;
}

/**
 * Node settings passed as environment (the image turns dotted variables into `-E` options). Memory-mapped
 * store access is off so the node needs no `vm.max_map_count` sysctl and no privileged init container.
 */
export function elasticsearchSettings(clusterName: string): Record<string, string> {
  return {
    "cluster.name": clusterName,
    "discovery.type": "single-node",
    "node.store.allow_mmap": "false",
    "bootstrap.memory_lock": "false",
    "xpack.security.enabled": "true",
    "xpack.security.http.ssl.enabled": "false",
    "xpack.security.transport.ssl.enabled": "false",
    "xpack.ml.enabled": "false",
    "ingest.geoip.downloader.enabled": "false",
  };
}

/** The setup script: waits for the cluster, then sets the kibana_system password and the app's role and user. */
export function elasticsearchSetupScript(): string {
  return [
    "set -eu",
    'es="http://elasticsearch:9200"',
    'auth="elastic:${ELASTIC_PASSWORD}"',
    'until curl -fsS -u "$auth" "$es/_cluster/health?wait_for_status=yellow&timeout=10s" >/dev/null; do sleep 5; done',
    `curl -fsS -u "$auth" -H 'Content-Type: application/json' -X POST "$es/_security/user/kibana_system/_password" -d "{\\"password\\":\\"\${KIBANA_SYSTEM_PASSWORD}\\"}"`,
    `curl -fsS -u "$auth" -H 'Content-Type: application/json' -X PUT "$es/_security/role/osint_writer" -d '{"cluster":["monitor","manage_index_templates","manage_ilm"],"indices":[{"names":["osint-*"],"privileges":["all"]}]}'`,
    `curl -fsS -u "$auth" -H 'Content-Type: application/json' -X PUT "$es/_security/user/osint" -d "{\\"password\\":\\"\${OSINT_PASSWORD}\\",\\"roles\\":[\\"osint_writer\\"]}"`,
    'echo "elasticsearch users ready"',
  ].join("\n");
}

/** Where snapshots are written (a volume of the node, registered as an `fs` repository). */
export const snapshotPath = "/usr/share/elasticsearch/backups";

/**
 * The snapshot script: registers the repository (idempotent), takes a snapshot, and deletes all but the
 * newest $RETAIN snapshots.
 */
export function elasticsearchSnapshotScript(): string {
  return [
    "set -eu",
    'es="http://${SERVER}:9200"',
    'auth="elastic:${ELASTIC_PASSWORD}"',
    "json='Content-Type: application/json'",
    `curl -fsS -u "$auth" -H "$json" -X PUT "$es/_snapshot/backups" -d '{"type":"fs","settings":{"location":"${snapshotPath}"}}' >/dev/null`,
    'snap="snapshot-$(date -u +%Y%m%dt%H%M%Sz)"',
    `curl -fsS -u "$auth" -H "$json" -X PUT "$es/_snapshot/backups/$snap?wait_for_completion=true" -d '{"indices":"*","include_global_state":true}' >/dev/null`,
    'curl -fsS -u "$auth" "$es/_cat/snapshots/backups?h=id&s=end_epoch:desc" | tail -n +"$((RETAIN + 1))" |',
    '  while read -r old; do curl -fsS -u "$auth" -X DELETE "$es/_snapshot/backups/$old" >/dev/null; done',
    'echo "snapshot $snap taken; kept: $(curl -fsS -u "$auth" "$es/_cat/snapshots/backups?h=id" | wc -l)"',
  ].join("\n");
}
