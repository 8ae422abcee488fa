import { DashboardSpec } from "./panels";
import { postgresDashboard } from "./postgres";
import { redisDashboard } from "./redis";
import { synapseDashboard } from "./synapse";

export * from "./panels";
export * from "./postgres";
export * from "./redis";
export * from "./synapse";

/** The dashboards the package ships, by name. */
export const builtInDashboards = {
  synapse: synapseDashboard,
  postgres: postgresDashboard,
  redis: redisDashboard,
} as const satisfies Record<string, DashboardSpec>;

export type DashboardName = keyof typeof builtInDashboards;
export const dashboardNames = Object.keys(builtInDashboards) as DashboardName[];
