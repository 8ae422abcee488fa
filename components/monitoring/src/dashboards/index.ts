import { DashboardSpec } from "./panels";
import { postgresDashboard } from "./postgres";
import { redisDashboard } from "./redis";
import { synapseDashboard } from "./synapse";

export {
  dashboardJson,
  dashboardSchemaVersion,
  type DashboardSpec,
  type PanelSpec,
  prometheusDatasource,
  type QuerySpec,
  renderDashboard,
  type RowSpec,
  validateDashboardSpec,
} from "./panels";
export { postgresDashboard } from "./postgres";
export { redisDashboard } from "./redis";
export { synapseDashboard } from "./synapse";

/** The dashboards the package ships, by name. */
export const builtInDashboards = {
  synapse: synapseDashboard,
  postgres: postgresDashboard,
  redis: redisDashboard,
} as const satisfies Record<string, DashboardSpec>;

export type DashboardName = keyof typeof builtInDashboards;
export const dashboardNames = Object.keys(builtInDashboards) as DashboardName[];
