import { ValidationError } from "@keel/core";
import { ElementConfigInput, renderElementConfig, renderWellKnown, validateElementInput } from "@keel/matrix";
import { expect } from "chai";

const base: ElementConfigInput = { homeserverUrl: "https://matrix.example.org/", serverName: "example.org" };
const groupCalls = { livekitServiceUrl: "https://rtc.example.org/livekit/jwt" };

describe("matrix config: Element Web and .well-known", () => {
  it("points Element at the homeserver and locks it there", () => {
    const cfg = JSON.parse(renderElementConfig(base));
    expect(cfg.default_server_config).to.deep.equal({
      "m.homeserver": { base_url: "https://matrix.example.org", server_name: "example.org" },
    });
    expect(cfg).to.deep.include({
      brand: "Element",
      default_theme: "light",
      disable_custom_urls: true,
      disable_guests: true,
      disable_3pid_login: true,
      show_labs_settings: false,
    });
    expect(cfg.room_directory).to.deep.equal({ servers: ["example.org"] });
    expect(cfg.setting_defaults["UIFeature.registration"]).to.equal(false);
  });

  it("overrides Element's public defaults: no integration manager, no meet.element.io", () => {
    const cfg = JSON.parse(renderElementConfig(base));
    expect(cfg.integrations_ui_url).to.equal("");
    expect(cfg.integrations_rest_url).to.equal("");
    expect(cfg.integrations_widgets_urls).to.deep.equal([]);
    expect(cfg).to.not.have.property("jitsi");
    expect(cfg).to.not.have.property("bug_report_endpoint_url");
    expect(JSON.parse(renderElementConfig({ ...base, jitsiDomain: "meet.example.org" })).jitsi).to.deep.equal(
      {
        preferred_domain: "meet.example.org",
      },
    );
  });

  it("enables group calls, branding and registration when asked", () => {
    const cfg = JSON.parse(
      renderElementConfig({
        ...base,
        groupCalls: { ...groupCalls, useExclusively: true },
        brand: "Keel Chat",
        registrationEnabled: true,
        disableGuests: false,
        permalinkPrefix: "https://chat.example.org/",
      }),
    );
    expect(cfg.features).to.deep.equal({ feature_group_calls: true });
    expect(cfg.element_call).to.deep.equal({ use_exclusively: true });
    expect(cfg.brand).to.equal("Keel Chat");
    expect(cfg.disable_guests).to.equal(false);
    expect(cfg.setting_defaults["UIFeature.registration"]).to.equal(true);
    expect(cfg.permalink_prefix).to.equal("https://chat.example.org");
  });

  it("renders deterministic JSON with sorted keys", () => {
    const a = renderElementConfig({ ...base, groupCalls });
    expect(
      renderElementConfig({ groupCalls, serverName: "example.org", homeserverUrl: base.homeserverUrl }),
    ).to.equal(a);
    const keys = Object.keys(JSON.parse(a));
    expect(keys).to.deep.equal([...keys].sort());
    expect(a.endsWith("}\n")).to.equal(true);
  });

  it("refuses bad input by field", () => {
    const fields = (i: ElementConfigInput) => validateElementInput(i).map((p) => p.field);
    expect(fields({ ...base, homeserverUrl: "http://matrix.example.org" })).to.deep.equal(["homeserverUrl"]);
    expect(
      fields({ ...base, groupCalls: { livekitServiceUrl: "https://rtc.example.org/?x=1" } }),
    ).to.deep.equal(["groupCalls.livekitServiceUrl"]);
    expect(fields({ ...base, brand: "<script>" })).to.deep.equal(["brand"]);
    expect(() => renderElementConfig({ ...base, serverName: "" })).to.throw(ValidationError, "serverName");
  });

  it("announces the homeserver, federation endpoint and the LiveKit focus", () => {
    const wk = renderWellKnown({
      homeserverUrl: "https://matrix.example.org",
      federationHost: "matrix.example.org:443",
      groupCalls,
    });
    expect(JSON.parse(wk.client)).to.deep.equal({
      "m.homeserver": { base_url: "https://matrix.example.org" },
      "org.matrix.msc4143.rtc_foci": [
        { type: "livekit", livekit_service_url: "https://rtc.example.org/livekit/jwt" },
      ],
    });
    expect(JSON.parse(wk.server)).to.deep.equal({ "m.server": "matrix.example.org:443" });
    const plain = renderWellKnown({
      homeserverUrl: "https://matrix.example.org",
      federationHost: "matrix.example.org:443",
    });
    expect(JSON.parse(plain.client)).to.not.have.property("org.matrix.msc4143.rtc_foci");
    expect(() =>
      renderWellKnown({ homeserverUrl: "https://m.example.org", federationHost: "m.example.org" }),
    ).to.throw("federationHost");
  });
});
