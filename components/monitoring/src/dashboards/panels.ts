import { ValidationError, stableJson } from "@keel/core";
import { Json } from "../json";

/** The Grafana dashboard JSON schema version the renderer writes. */
export const dashboardSchemaVersion = 39;

/** The provisioned Prometheus datasource every panel queries. */
export const prometheusDatasource = { type: "prometheus", uid: "prometheus" } as const;

export interface QuerySpec {
  /** PromQL; `$namespace` is the dashboard's namespace variable (a regex of the selected namespaces). */
  expr: string;
  /** @default "" (Grafana's series name) */
  legend?: string;
}

export interface PanelSpec {
  title: string;
  /** @default "timeseries" */
  kind?: "timeseries" | "stat" | "gauge";
  /** A Grafana unit id: reqps, ops, s, bytes, percentunit, short... @default "short" */
  unit?: string;
  queries: QuerySpec[];
  /** Grid columns out of 24. @default 12 */
  width?: number;
  /** Grid rows. @default 8 */
  height?: number;
  /**
   * Gauges: the value range and the orange/red thresholds; with `lowerIsWorse` (hit ratios) red is below
   * `critical` and orange below `warn`. @default undefined
   */
  range?: { min: number; max: number; warn: number; critical: number; lowerIsWorse?: boolean };
  /** @default "" */
  description?: string;
}

export interface RowSpec {
  title: string;
  panels: PanelSpec[];
}

/** A dashboard as data; `renderDashboard` turns it into Grafana's JSON model. */
export interface DashboardSpec {
  /** Stable id (URL and provisioning key). */
  uid: string;
  title: string;
  /** @default [] */
  tags?: string[];
  /** A metric every matching namespace exports; feeds the `namespace` variable. */
  namespaceMetric: string;
  rows: RowSpec[];
}

const uidRe = /^[a-z0-9][a-z0-9-]{0,39}$/;

/** Pure validation of a dashboard spec; errors name `<field>.<path>`. */
export function validateDashboardSpec(spec: DashboardSpec, field = "dashboard"): ValidationError[] {
  const problems: ValidationError[] = [];
  if (!uidRe.test(spec.uid)) {
    problems.push(new ValidationError(`${field}.uid`, `"${spec.uid}" must be 1–40 of a-z, 0-9 and -`));
  }
  if (!spec.title?.trim()) problems.push(new ValidationError(`${field}.title`, "is required"));
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(spec.namespaceMetric ?? "")) {
    problems.push(new ValidationError(`${field}.namespaceMetric`, "must be a metric name"));
  }
  spec.rows.forEach((row, ri) =>
    row.panels.forEach((p, i) => {
      const at = `${field}.rows[${ri}].panels[${i}]`;
      const width = p.width ?? 12;
      if (!Number.isInteger(width) || width < 1 || width > 24) {
        problems.push(new ValidationError(`${at}.width`, `must be an integer from 1 to 24, got ${width}`));
      }
      if (p.queries.length === 0 || p.queries.some((q) => !q.expr.trim())) {
        problems.push(new ValidationError(`${at}.queries`, "needs at least one non-empty expression"));
      }
      if (p.kind === "gauge" && !p.range) {
        problems.push(new ValidationError(`${at}.range`, "a gauge needs its range and thresholds"));
      }
      const r = p.range;
      if (r) {
        const [low, high] = r.lowerIsWorse ? [r.critical, r.warn] : [r.warn, r.critical];
        if (!(r.min <= low && low < high && high <= r.max)) {
          problems.push(
            new ValidationError(
              `${at}.range`,
              r.lowerIsWorse ? "needs min ≤ critical < warn ≤ max" : "needs min ≤ warn < critical ≤ max",
            ),
          );
        }
      }
    }),
  );
  return problems;
}

function panelJson(p: PanelSpec, id: number, gridPos: Json): Json {
  const kind = p.kind ?? "timeseries";
  const r = p.range;
  const steps: Json[] = !r
    ? [{ color: "green", value: null }]
    : r.lowerIsWorse
      ? [
          { color: "red", value: null },
          { color: "orange", value: r.critical },
          { color: "green", value: r.warn },
        ]
      : [
          { color: "green", value: null },
          { color: "orange", value: r.warn },
          { color: "red", value: r.critical },
        ];
  const thresholds = { mode: "absolute", steps };
  const reduce = { calcs: ["lastNotNull"], fields: "", values: false };
  const options: Json =
    kind === "timeseries"
      ? {
          legend: { displayMode: "list", placement: "bottom", showLegend: true },
          tooltip: { mode: "multi", sort: "desc" },
        }
      : kind === "stat"
        ? { reduceOptions: reduce, colorMode: "value", graphMode: "area", textMode: "auto" }
        : { reduceOptions: reduce, showThresholdLabels: false, showThresholdMarkers: true };
  return {
    id,
    type: kind,
    title: p.title,
    description: p.description ?? "",
    datasource: { ...prometheusDatasource },
    gridPos,
    fieldConfig: {
      defaults: {
        unit: p.unit ?? "short",
        thresholds,
        ...(p.range ? { min: p.range.min, max: p.range.max } : {}),
        ...(kind === "timeseries" ? { custom: { drawStyle: "line", fillOpacity: 10, lineWidth: 1 } } : {}),
      },
      overrides: [],
    },
    options,
    targets: p.queries.map((q, i) => ({
      refId: String.fromCharCode(65 + i),
      datasource: { ...prometheusDatasource },
      expr: q.expr,
      legendFormat: q.legend ?? "",
      range: true,
    })),
  };
}

/** Grafana's dashboard JSON model (schemaVersion 39): rows of panels laid out on the 24-column grid. */
export function renderDashboard(spec: DashboardSpec): Json {
  const panels: Json[] = [];
  let id = 1;
  let y = 0;
  for (const row of spec.rows) {
    panels.push({
      id: id++,
      type: "row",
      title: row.title,
      collapsed: false,
      gridPos: { h: 1, w: 24, x: 0, y },
      panels: [],
    });
    y += 1;
    let x = 0;
    let rowHeight = 0;
    for (const p of row.panels) {
      const w = p.width ?? 12;
      const h = p.height ?? 8;
      if (x + w > 24) {
        y += rowHeight;
        x = 0;
        rowHeight = 0;
      }
      panels.push(panelJson(p, id++, { h, w, x, y }));
      x += w;
      rowHeight = Math.max(rowHeight, h);
    }
    y += rowHeight;
  }
  const definition = `label_values(${spec.namespaceMetric}, namespace)`;
  return {
    uid: spec.uid,
    title: spec.title,
    tags: ["keel", ...(spec.tags ?? [])],
    editable: false,
    graphTooltip: 1,
    refresh: "1m",
    schemaVersion: dashboardSchemaVersion,
    version: 1,
    time: { from: "now-6h", to: "now" },
    timezone: "browser",
    annotations: { list: [] },
    templating: {
      list: [
        {
          name: "namespace",
          label: "Namespace",
          type: "query",
          datasource: { ...prometheusDatasource },
          definition,
          query: { query: definition, refId: "namespace" },
          refresh: 2,
          includeAll: true,
          multi: true,
          allValue: ".+",
          current: { selected: true, text: ["All"], value: ["$__all"] },
          sort: 1,
        },
      ],
    },
    panels,
  };
}

/** The dashboard file (deterministic JSON). */
export function dashboardJson(spec: DashboardSpec): string {
  return stableJson(renderDashboard(spec));
}
