import {
  Container,
  K8sObject,
  annotationsOf,
  asArray,
  asString,
  mainContainers,
  perMainContainer,
  podSpecOf,
} from "./k8s";
import { imageBaseName } from "./image";
import type { Violation } from "./rule";
import type { StackIndex } from "./stack-index";
import { Outcome, checkEach, someKnown, unknownPart } from "./unknown";
import { annotations } from "../contract/conventions";

export const DATABASE_ANNOTATION = annotations.database;

/** Image names that are database servers (used when a workload carries no keel.dev/database annotation). */
const DATABASE_IMAGES =
  /^(postgres|postgresql|postgis|timescaledb|postgresql-repmgr|mysql|mysql-server|percona-server|mariadb|mongo|mongodb|mongodb-community-server|clickhouse|clickhouse-server|neo4j|elasticsearch)$/;

export interface DatabaseServer {
  id: string;
  workload: K8sObject;
  /** True when found by image name rather than declared with the annotation. */
  heuristic: boolean;
}

export function isDatabaseImage(image: string | undefined): boolean {
  return image !== undefined && DATABASE_IMAGES.test(imageBaseName(image));
}

/**
 * Database servers of the stack: annotated workloads, plus long-running workloads running a database image.
 * A workload that cannot be classified because a value is unknown at preview is noted in `unknown`.
 */
export function databaseServers(stack: StackIndex, unknown: Violation[] = []): DatabaseServer[] {
  const servers: DatabaseServer[] = [];
  const candidates = stack
    .workloads()
    .filter((w) => stack.kindOf(w) !== "Job" && stack.kindOf(w) !== "CronJob");
  checkEach(candidates, unknown, (workload) => {
    const declared = asString(annotationsOf(workload)[DATABASE_ANNOTATION])?.trim();
    if (declared) {
      servers.push({ id: declared, workload, heuristic: false });
      return;
    }
    const containers = mainContainers(podSpecOf(workload));
    const byImage = someKnown(containers, (c) => isDatabaseImage(asString(c.image)));
    if (byImage === true && containers.some(isReadReplica)) {
      return; // a streaming replica of another server: that server's backup covers it
    }
    if (byImage === true) {
      servers.push({
        id: `${stack.namespaceOf(workload)}/${stack.nameOf(workload)}`,
        workload,
        heuristic: true,
      });
    } else if (byImage !== false) {
      unknown.push(unknownPart(byImage, workload));
    }
  });
  return servers;
}

/** Bitnami-style replica settings: POSTGRESQL_/MYSQL_/MARIADB_REPLICATION_MODE = slave | replica. */
const REPLICATION_MODE = /^(POSTGRESQL|MYSQL|MARIADB)_REPLICATION_MODE$/;

function isReadReplica(container: Container): boolean {
  return asArray<{ name?: unknown; value?: unknown }>(container.env).some(
    (e) =>
      REPLICATION_MODE.test(asString(e?.name) ?? "") && /^(slave|replica)$/i.test(asString(e?.value) ?? ""),
  );
}

/**
 * Runs `check` on each main container of a workload whose image base name matches, one container at a time:
 * a container whose image (or another value `check` reads) is unknown at preview becomes one advisory.
 */
export function perContainerWithImage(
  workload: K8sObject,
  pattern: RegExp,
  check: (container: Container) => Outcome[],
): Outcome[] {
  return perMainContainer(podSpecOf(workload), (c) =>
    pattern.test(imageBaseName(asString(c.image) ?? "")) ? check(c) : [],
  );
}
