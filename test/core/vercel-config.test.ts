import { describe, expect, it } from "vitest";
import { FerryError } from "../../core/errors.ts";
import { chooseConfigFile, configLogLines, parseConfigFile, readProjectConfig } from "../../core/config/vercel.ts";

const fails = (fn: () => unknown): FerryError => {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(FerryError);
    return e as FerryError;
  }
  throw new Error("expected invalid_config");
};

describe("vercel.json as the config", () => {
  it("accepts what Vercel accepts, keeps what means something here and names what does not", () => {
    const { config, ignoredKeys } = parseConfigFile(
      JSON.stringify({
        $schema: "https://openapi.vercel.sh/vercel.json",
        version: 2,
        name: "my-site",
        framework: null,
        cleanUrls: true,
        trailingSlash: false,
        buildCommand: null,
        installCommand: "npm ci",
        outputDirectory: "dist",
        regions: ["iad1"],
        functionFailoverRegions: ["sfo1"],
        public: false,
        github: { silent: true },
        git: { deploymentEnabled: false },
        images: { sizes: [640] },
        devCommand: "vite",
        ignoreCommand: "exit 0",
        bunVersion: "1.x",
        fluid: true,
        crons: [{ path: "/api/tick", schedule: "0 5 * * *" }],
        functions: { "api/*.js": { memory: 512, maxDuration: 10, runtime: "@vercel/node@3", regions: ["cdg1"], includeFiles: "data/**" } },
      }),
      "vercel.json",
    );
    expect(config).toEqual({
      $schema: "https://openapi.vercel.sh/vercel.json",
      version: 2,
      name: "my-site",
      framework: null,
      cleanUrls: true,
      trailingSlash: false,
      installCommand: "npm ci",
      outputDirectory: "dist",
      crons: [{ path: "/api/tick", schedule: "0 5 * * *" }],
      functions: { "api/*.js": { memory: 512, maxDuration: 10, includeFiles: "data/**" } },
    });
    expect(ignoredKeys).toEqual([
      "regions", "functionFailoverRegions", "public", "github", "git", "images", "devCommand", "ignoreCommand", "bunVersion", "fluid",
      'functions["api/*.js"].runtime', 'functions["api/*.js"].regions',
    ]);
  });

  it("ignores a named framework (no preset is applied) but keeps framework: null", () => {
    expect(parseConfigFile('{"framework":"vite"}', "vercel.json")).toEqual({ config: {}, ignoredKeys: ["framework"] });
    expect(parseConfigFile('{"framework":null}', "vercel.json")).toEqual({ config: { framework: null }, ignoredKeys: [] });
  });

  it("refuses the legacy builds key with a message saying why", () => {
    const e = fails(() => parseConfigFile({ builds: [{ src: "api/*.js", use: "@vercel/node" }] }, "vercel.json"));
    expect(e.code).toBe("invalid_config");
    expect(e.message).toMatch(/^vercel\.json: builds: the legacy `builds` key is not supported: Ferry finds functions/);
  });

  it("names vercel.json and the JSON path for unknown keys and bad values", () => {
    expect(fails(() => parseConfigFile('{"nope":1}', "vercel.json")).message).toBe("vercel.json: nope: unknown property");
    expect(fails(() => parseConfigFile('{"functions":{"api/a.js":{"memory":"big"}}}', "vercel.json")).message).toMatch(/^vercel\.json: functions\["api\/a\.js"\]\.memory: /);
    expect(fails(() => parseConfigFile("{oops", "vercel.json")).message).toMatch(/^vercel\.json is not valid JSON: /);
    expect(fails(() => parseConfigFile("[]", "vercel.json")).message).toMatch(/^vercel\.json: \(root\): /);
  });

  it("keeps Ferry's own settings out of vercel.json, pointing at ferry.json", () => {
    expect(fails(() => parseConfigFile('{"stores":{"todos":{"type":"kv"}}}', "vercel.json")).message).toMatch(/^vercel\.json: stores: is a Ferry setting, not a vercel\.json one: put it in ferry\.json/);
    expect(fails(() => parseConfigFile('{"functions":{"api/*.js":{"maxConcurrency":2}}}', "vercel.json")).message).toMatch(/^vercel\.json: functions\["api\/\*\.js"\]\.maxConcurrency: is a Ferry setting/);
  });

  it("reads ferry.json the same way: Vercel's keys ignored and named, Ferry's own kept", () => {
    const r = parseConfigFile('{"name":"app","regions":["iad1"],"stores":{"todos":{"type":"kv"}},"functions":{"api/*.ts":{"maxConcurrency":2,"runtime":"x"}}}', "ferry.json");
    expect(r).toEqual({ config: { name: "app", stores: { todos: { type: "kv" } }, functions: { "api/*.ts": { maxConcurrency: 2 } } }, ignoredKeys: ["regions", 'functions["api/*.ts"].runtime'] });
    expect(fails(() => parseConfigFile('{"nope":1}', "ferry.json")).message).toBe("ferry.json: nope: unknown property");
    expect(fails(() => parseConfigFile('{"builds":[]}', "ferry.json")).message).toMatch(/^ferry\.json: builds: /);
  });

  it("ferry.json wins over vercel.json; with neither there is no config", async () => {
    expect(chooseConfigFile(["vercel.json", "index.html"])).toEqual({ file: "vercel.json", ignoredFiles: [] });
    expect(chooseConfigFile(["vercel.json", "ferry.json"])).toEqual({ file: "ferry.json", ignoredFiles: ["vercel.json"] });
    expect(chooseConfigFile(["sub/vercel.json"])).toEqual({ file: null, ignoredFiles: [] });

    const texts: Record<string, string> = { "ferry.json": '{"name":"from-ferry"}', "vercel.json": '{"name":"from-vercel","builds":[]}' };
    const read = async (f: string) => texts[f]!;
    // vercel.json beside ferry.json is not even parsed: its `builds` does not fail the deploy
    const both = await readProjectConfig(["ferry.json", "vercel.json"], read);
    expect(both).toEqual({ config: { name: "from-ferry" }, source: { file: "ferry.json", ignoredFiles: ["vercel.json"], ignoredKeys: [] } });
    expect(await readProjectConfig(["index.html"], read)).toEqual({ config: {}, source: { file: null, ignoredFiles: [], ignoredKeys: [] } });
  });

  it("says in the build log which file was read and what of it is ignored, in one line", () => {
    expect(configLogLines({ file: "vercel.json", ignoredFiles: [], ignoredKeys: [] })).toEqual(["Using vercel.json"]);
    expect(configLogLines({ file: "ferry.json", ignoredFiles: ["vercel.json"], ignoredKeys: [] })).toEqual(["Using ferry.json (vercel.json is ignored)"]);
    expect(configLogLines({ file: "vercel.json", ignoredFiles: [], ignoredKeys: ["regions", "public"] })).toEqual([
      "Using vercel.json",
      "Ignoring vercel.json keys that have no meaning on Ferry: regions, public",
    ]);
    expect(configLogLines({ file: null, ignoredFiles: [], ignoredKeys: [] })).toEqual([]);
    expect(configLogLines(undefined)).toEqual([]);
  });
});
