import { checkConnectionBudget } from "@keel/core";
import {
  checkSynapsePoolBudget,
  defaultWorkerCounts,
  monolithWorkerCounts,
  pgbouncerSizing,
  renderHomeserverConfig,
  renderWorkerConfig,
  synapseConnectionConsumers,
  totalConnections,
  validatePoolSizes,
  workerGroups,
} from "@keel/matrix";
import { expect } from "chai";
import { parse } from "yaml";

const database = { host: "synapse-pgbouncer" };

describe("matrix config: database pools", () => {
  it("lists main and each worker StatefulSet with its cp_max and pods at the largest scale", () => {
    const consumers = synapseConnectionConsumers(defaultWorkerCounts("medium"), {
      maxReplicas: { synchrotron: 5 },
    });
    expect(consumers[0]).to.deep.equal({ name: "synapse-main", poolSize: 10, maxReplicas: 1 });
    expect(consumers.find((c) => c.name === "synapse-synchrotron")).to.deep.equal({
      name: "synapse-synchrotron",
      poolSize: 10,
      maxReplicas: 5,
    });
    expect(consumers.find((c) => c.name === "synapse-typing-writer")).to.deep.equal({
      name: "synapse-typing-writer",
      poolSize: 5,
      maxReplicas: 1,
    });
    expect(consumers).to.have.length(1 + workerGroups(defaultWorkerCounts("medium")).length);
    expect(synapseConnectionConsumers(monolithWorkerCounts)).to.deep.equal([
      { name: "synapse-main", poolSize: 10, maxReplicas: 1 },
    ]);
  });

  it("adds up to what the rendered configs really open", () => {
    const counts = defaultWorkerCounts("small");
    const poolSizes = { synchrotron: 12, pusher: 2 };
    let rendered = parse(
      renderHomeserverConfig({
        domain: "example.org",
        counts,
        database,
        poolSizes,
        redis: { host: "redis" },
      }),
    ).database.args.cp_max;
    for (const g of workerGroups(counts)) {
      rendered += parse(renderWorkerConfig(g, { database, poolSizes })).database.args.cp_max * g.replicas;
    }
    expect(totalConnections(synapseConnectionConsumers(counts, { poolSizes }))).to.equal(rendered);
    expect(rendered).to.equal(95 + 2 - 3);
  });

  it("sizes PgBouncer in session mode: pool = Σ cp_max, server side × replicas", () => {
    const sizing = pgbouncerSizing({ counts: defaultWorkerCounts("small"), pgbouncerReplicas: 2 });
    expect(sizing).to.deep.equal({
      poolMode: "session",
      synapseConnections: 95,
      defaultPoolSize: 95,
      maxDbConnections: 95,
      maxClientConn: 105,
      serverConnections: 190,
    });
  });

  it("passes a budget that fits and agrees with core's check when Synapse connects directly", () => {
    const counts = defaultWorkerCounts("small");
    expect(checkSynapsePoolBudget({ counts, maxConnections: 120, reservedConnections: 10 })).to.deep.equal(
      [],
    );
    for (const max of [100, 104, 105, 106, 200]) {
      const ours = checkSynapsePoolBudget({
        counts,
        maxConnections: max,
        reservedConnections: 10,
        pgbouncerReplicas: 0,
      });
      const core = checkConnectionBudget("postgres", max, 10, synapseConnectionConsumers(counts));
      expect(ours.length, String(max)).to.equal(core.length);
    }
  });

  it("explains the arithmetic and names the field when the budget does not fit", () => {
    const problems = checkSynapsePoolBudget({
      counts: defaultWorkerCounts("large"),
      maxReplicas: { synchrotron: 8 },
      maxConnections: 200,
      reservedConnections: 10,
      pgbouncerReplicas: 2,
      otherConsumers: [{ name: "postgres-exporter", poolSize: 2, maxReplicas: 1 }],
      field: "matrix.postgres",
    });
    expect(problems).to.have.length(1);
    expect(problems[0].field).to.equal("matrix.postgres.maxConnections");
    const total = totalConnections(
      synapseConnectionConsumers(defaultWorkerCounts("large"), { maxReplicas: { synchrotron: 8 } }),
    );
    const msg = problems[0].message;
    expect(msg).to.contain(`Synapse needs ${total} connections`);
    expect(msg).to.contain("synapse-synchrotron 10×8");
    expect(msg).to.contain(`${total} × 2 = ${total * 2}`);
    expect(msg).to.contain("postgres-exporter 2×1 = 2");
    expect(msg).to.contain(`total ${total * 2 + 2}`);
    expect(msg).to.contain("max_connections 200 − reservedConnections 10 = 190");
  });

  it("refuses unknown process kinds and out-of-range pool sizes", () => {
    expect(
      validatePoolSizes({ synchrotron: 0, bogus: 3 } as any, "matrix.poolSizes").map((p) => p.field),
    ).to.deep.equal(["matrix.poolSizes.synchrotron", "matrix.poolSizes.bogus"]);
  });
});
