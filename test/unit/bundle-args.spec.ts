import { expect } from "chai";
import { UsageError, parseBundleArgs } from "../../scripts/bundle/args";

describe("bundle: command line", () => {
  const cwd = "/home/op/keel";

  it("takes --stack and --out, resolving paths against the caller's folder", () => {
    expect(parseBundleArgs(["--stack", "airgap", "--out", "out/b.tar.gz"], cwd)).to.deep.equal({
      stack: "airgap",
      out: "/home/op/keel/out/b.tar.gz",
      state: undefined,
      backend: undefined,
      stackConfig: undefined,
      node: true,
      keepStaging: false,
      images: false,
      imageMirror: undefined,
      siteImages: undefined,
      signKey: undefined,
    });
  });

  it("accepts --name=value, the state to carry forward, another stack file and the switches", () => {
    const a = parseBundleArgs(
      [
        "--stack=prod",
        "--out=/tmp/p.tgz",
        "--state",
        "../back/keel-prod-state.json",
        "--stack-config",
        "/etc/keel/Pulumi.prod.yaml",
        "--no-node",
        "--keep-staging",
      ],
      cwd,
    );
    expect(a.out).to.equal("/tmp/p.tgz");
    expect(a.state).to.equal("/home/op/back/keel-prod-state.json");
    expect(a.stackConfig).to.equal("/etc/keel/Pulumi.prod.yaml");
    expect(a.node).to.equal(false);
    expect(a.keepStaging).to.equal(true);
  });

  it("takes the state from a backend instead", () => {
    const a = parseBundleArgs(["--stack", "s", "--out", "b.tgz", "--backend", "file:///srv/state"], cwd);
    expect(a.backend).to.equal("file:///srv/state");
  });

  it("takes the image options and the signing key", () => {
    const a = parseBundleArgs(
      [
        "--stack=s",
        "--out=b.tgz",
        "--images",
        "--image-mirror",
        "127.0.0.1:5000/mirror/",
        "--site-images",
        "keel-s-images.txt",
        "--sign-key",
        "/keys/keel.key",
      ],
      cwd,
    );
    expect(a.images).to.equal(true);
    expect(a.imageMirror).to.equal("127.0.0.1:5000/mirror");
    expect(a.siteImages).to.equal("/home/op/keel/keel-s-images.txt");
    expect(a.signKey).to.equal("/keys/keel.key");
  });

  const bad: [string, string[], RegExp][] = [
    [
      "a mirror without --images",
      ["--stack", "s", "--out", "b.tgz", "--image-mirror", "r:5"],
      /needs --images/,
    ],
    [
      "site images without --images",
      ["--stack", "s", "--out", "b.tgz", "--site-images", "f"],
      /needs --images/,
    ],
    [
      "a mirror that is no registry",
      ["--stack", "s", "--out", "b.tgz", "--images", "--image-mirror", "https://r"],
      /--image-mirror: "https:\/\/r" is not a registry/,
    ],
    ["no --stack", ["--out", "b.tgz"], /--stack is required/],
    ["no --out", ["--stack", "s"], /--out is required/],
    ["an archive that is not .tar.gz", ["--stack", "s", "--out", "b.zip"], /must end in \.tar\.gz or \.tgz/],
    ["a bad stack name", ["--stack", "a b", "--out", "b.tgz"], /not a stack name/],
    ["an unknown option", ["--stack", "s", "--out", "b.tgz", "--fast"], /unknown argument "--fast"/],
    ["a missing value", ["--stack", "s", "--out"], /--out needs a value/],
    ["a flag where a value belongs", ["--stack", "--out", "b.tgz"], /--stack needs a value/],
    ["an option given twice", ["--stack", "a", "--stack", "b", "--out", "b.tgz"], /--stack is given twice/],
    [
      "two sources of state",
      ["--stack", "s", "--out", "b.tgz", "--state", "x.json", "--backend", "file:///x"],
      /give one/,
    ],
    [
      "a backend that is no URL",
      ["--stack", "s", "--out", "b.tgz", "--backend", "/srv/state"],
      /not a backend URL/,
    ],
  ];
  for (const [what, argv, message] of bad) {
    it(`refuses ${what}`, () => {
      expect(() => parseBundleArgs(argv, cwd))
        .to.throw(UsageError)
        .with.property("message")
        .that.matches(message);
    });
  }
});
