import { Container, K8sObject, annotationsOf, asString, mainContainers, podSpecOf } from "./k8s";
import { imageBaseName } from "./image";
import type { StackIndex } from "./stack-index";

export const DATABASE_ANNOTATION = "keel.dev/database";

/** Image names that are database servers (used when a workload carries no keel.dev/database annotation). */
const DATABASE_IMAGES = /^(postgres|postgresql|postgis|timescaledb|postgresql-repmgr|mysql|mysql-server|percona-server|mariadb|mongo|mongodb|mongodb-community-server|clickhouse|clickhouse-server|neo4j|elasticsearch)$/;

export interface DatabaseServer {
    id: string;
    workload: K8sObject;
    /** True when found by image name rather than declared with the annotation. */
    heuristic: boolean;
}

export function isDatabaseImage(image: string | undefined): boolean {
    return image !== undefined && DATABASE_IMAGES.test(imageBaseName(image));
}

/** Database servers of the stack: annotated workloads, plus long-running workloads running a database image. */
export function databaseServers(stack: StackIndex): DatabaseServer[] {
    const servers: DatabaseServer[] = [];
    for (const workload of stack.workloads()) {
        const kind = stack.kindOf(workload);
        if (kind === "Job" || kind === "CronJob") {
            continue;
        }
        const declared = asString(annotationsOf(workload)[DATABASE_ANNOTATION])?.trim();
        if (declared) {
            servers.push({ id: declared, workload, heuristic: false });
        } else if (mainContainers(podSpecOf(workload)).some(c => isDatabaseImage(asString(c.image)))) {
            servers.push({ id: `${stack.namespaceOf(workload)}/${stack.nameOf(workload)}`, workload, heuristic: true });
        }
    }
    return servers;
}

/** Main containers of a workload whose image base name matches. */
export function containersWithImage(workload: K8sObject, pattern: RegExp): Container[] {
    return mainContainers(podSpecOf(workload)).filter(c => pattern.test(imageBaseName(asString(c.image) ?? "")));
}
