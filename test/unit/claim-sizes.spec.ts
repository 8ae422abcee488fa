import { expect } from "chai";
import { recordRegistrations } from "../../scripts/render/dump";
import { renderObjects } from "../../scripts/render/render";

// A bigger sizing profile on an existing stack must not touch a claim (Kubernetes refuses to change an
// unbound claim's spec at all): the preview of the medium profile on the real API server failed on the
// backup claim before every claim ignored its size (docs/operations.md, Scaling).
describe("claims are sized at creation", () => {
  for (const stack of ["dev", "prod"] as const) {
    it(`in the ${stack} stack every claim ignores its size and every StatefulSet its claim templates`, async () => {
      const finish = recordRegistrations();
      await renderObjects(stack);
      const resources = finish();
      const ignored = (type: string) =>
        resources
          .filter((r) => r.type === type)
          .map((r) => ({ name: r.name, ignoreChanges: (r.options?.ignoreChanges as string[]) ?? [] }));
      const claims = ignored("kubernetes:core/v1:PersistentVolumeClaim");
      expect(claims.length).to.be.greaterThan(5);
      for (const c of claims) expect(c.ignoreChanges, c.name).to.include("spec.resources.requests.storage");
      const templated = resources.filter(
        (r) =>
          r.type === "kubernetes:apps/v1:StatefulSet" &&
          JSON.stringify(r.inputs).includes('"volumeClaimTemplates"'),
      );
      expect(templated.length).to.be.greaterThan(5);
      for (const s of templated)
        expect(s.options?.ignoreChanges, s.name).to.include("spec.volumeClaimTemplates");
    });
  }
});
