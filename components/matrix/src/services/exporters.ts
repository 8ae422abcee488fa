import { PostgresExporter, RedisExporter } from "@keel/monitoring";
import { MatrixContext } from "./context";
import { MatrixDatabase } from "./database";
import { MatrixRedis } from "./redis";

/** postgres-exporter and redis_exporter next to Synapse's database and Redis, scraped by Prometheus. */
export function matrixExporters(
  c: MatrixContext,
  database: MatrixDatabase,
  redis: MatrixRedis,
  monitoringNamespace: string,
): { postgres: PostgresExporter; redis: RedisExporter } {
  const common = {
    namespace: c.namespace,
    partOf: c.partOf,
    images: c.site.images,
    sizing: c.site.sizing,
    monitoringNamespace,
  };
  return {
    postgres: new PostgresExporter(
      `${c.name}-postgres-exporter`,
      {
        ...common,
        host: database.serverApp,
        serverApp: database.serverApp,
        database: database.database,
        user: database.user,
        password: database.postgres.passwordRef(),
      },
      { parent: c.parent },
    ),
    redis: new RedisExporter(
      `${c.name}-redis-exporter`,
      { ...common, host: redis.app, serverApp: redis.app, password: redis.server.passwordRef() },
      { parent: c.parent },
    ),
  };
}
