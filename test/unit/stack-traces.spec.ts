import { expect } from "chai";
import { plainStackTraces } from "../../program/stack-traces";

describe("the program's stack traces", () => {
  const installed = Error.prepareStackTrace;
  const mapper = (e: Error) => `mapped ${e.message}`;
  afterEach(() => {
    Error.prepareStackTrace = installed;
  });

  it("drops a source-map formatter (the SDK's launcher installs one) by default", () => {
    Error.prepareStackTrace = mapper;
    plainStackTraces({});
    expect(Error.prepareStackTrace).to.equal(undefined);
    expect(new Error("x").stack).to.match(/^Error: x\n\s+at /);
  });

  it("keeps it when KEEL_SOURCE_MAPS=1", () => {
    Error.prepareStackTrace = mapper;
    plainStackTraces({ KEEL_SOURCE_MAPS: "1" });
    expect(new Error("x").stack).to.equal("mapped x");
  });
});
