import { must, prepareEnvironment } from "./harness";

/**
 * The e2e specs deploy stacks into keel's own namespaces and expect to find the local cluster without them:
 * a dev stack left by `npm start` would make them collide halfway through. Checked once, before any spec.
 */
export const mochaHooks = {
  beforeAll(this: Mocha.Context): void {
    this.timeout(2 * 3600 * 1000); // on a cold machine this builds the toolchain and the cluster first (about 30 min)
    const env = prepareEnvironment({});
    const namespaces = must(env, "kubectl", [
      "get",
      "namespaces",
      "-l",
      "app.kubernetes.io/managed-by=keel",
      "-o",
      "name",
    ]).stdout.trim();
    if (namespaces !== "") {
      throw new Error(
        `the local cluster already holds keel's namespaces (${namespaces
          .replace(/namespace\//g, "")
          .split("\n")
          .join(", ")}), ` +
          "most likely the dev stack of `npm start`: the e2e suite needs them gone. Remove that stack " +
          "(`pulumi destroy --stack dev` with the environment of scripts/env.sh) or start from an empty cluster " +
          "(`npm run cluster:down -- --purge`), then run the suite again.",
      );
    }
  },
};
