import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { BuildResult } from "../../core/types.ts";
import { parseFerryConfig, projectNameProblem } from "../../core/config/schema.ts";
import { hostLabelProblem } from "../../api/services/labels.ts";
import { apiHarness } from "../helpers/api.ts";

const success: BuildResult = { type: "success", output: { version: 1, functions: [], static: [], routes: {} } };

/** A small seeded generator, so a failure names a name that fails again. */
function prng(seed: number) {
  return () => {
    seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
    return seed / 0x80000000;
  };
}

function generatedNames(count: number): string[] {
  const rnd = prng(42);
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789-";
  const pieces = ["xn--", "--", "-", "xn", "a", "0", "ab--", "x-n--"];
  const out = new Set<string>(["a", "0", "xn", "xn-", "xn--", "xn--a", "xn--zca", "xn--nxasmq6b", "ab--c", "ab-c", "a--b", "abc--d", "x".repeat(48), "x".repeat(49), "-a", "a-", "9".repeat(48)]);
  while (out.size < count) {
    let s = "";
    const len = 1 + Math.floor(rnd() * 52);
    while (s.length < len) s += rnd() < 0.15 ? pieces[Math.floor(rnd() * pieces.length)] : alphabet[Math.floor(rnd() * alphabet.length)];
    out.add(s);
  }
  return [...out];
}

describe("project names become host labels that parse as URLs", () => {
  const urlFor = (domain: string, port?: number) => (label: string) => `http://${label}.${domain}${port ? `:${port}` : ""}`;

  it("every accepted name gives a deployment host and a production alias that new URL() parses unchanged", () => {
    let accepted = 0;
    for (const name of generatedNames(5000)) {
      const problem = projectNameProblem(name);
      // ferry.json's `name` follows the same rule
      const inConfig = (() => {
        try {
          parseFerryConfig({ name });
          return null;
        } catch (e) {
          return (e as Error).message;
        }
      })();
      expect(inConfig === null, `${name}: ${inConfig}`).toBe(problem === null);
      if (problem) continue;
      accepted++;
      for (const label of [name, `${name}-abc12345`, `${name}-0000000a`]) {
        expect(hostLabelProblem(label), label).toBeNull();
        for (const to of [urlFor("localhost", 3001), urlFor("ferry.test"), urlFor("apps.example.com", 8080)]) {
          const url = to(label);
          let parsed: URL;
          expect(() => (parsed = new URL(url)), url).not.toThrow();
          expect(parsed!.hostname.startsWith(`${label}.`), url).toBe(true);
        }
      }
    }
    expect(accepted).toBeGreaterThan(500);
  });

  it.each([
    ["xn--abc", /punycode|xn--/],
    ["xn--nxasmq6b", /punycode|xn--/],
    ["ab--cd", /3 and 4/],
    ["x".repeat(49), /48/],
    ["-a", /start/],
    ["a-", /end/],
    ["A", /lower-case/],
    ["", /empty/],
  ])("rejects %j with a reason", (name, why) => {
    expect(projectNameProblem(name)).toMatch(why);
  });

  it("host labels: the same rules, up to 63 characters", () => {
    expect(hostLabelProblem("a".repeat(63))).toBeNull();
    expect(hostLabelProblem("a".repeat(64))).toMatch(/63/);
    expect(hostLabelProblem("xn--zca")).toMatch(/xn--|punycode/);
    expect(hostLabelProblem("ab--c")).toMatch(/3 and 4/);
  });
});

describe("API: project names and production aliases", () => {
  let h: Awaited<ReturnType<typeof apiHarness>>;
  beforeAll(async () => {
    h = await apiHarness(async () => success);
  });
  afterAll(async () => h.end());

  const count = async () => (await (await h.call("GET", "/v1/deployments?limit=100")).json()).deployments.length as number;

  it.each(["xn--abc", "xn--zca", "ab--cd", "x".repeat(49)])("refuses the project name %j in a deploy and in env routes", async (name) => {
    const files = await h.upload({ "index.html": "n" });
    const r = await h.call("POST", "/v1/deployments", { json: { name, files } });
    expect(r.status).toBe(400);
    expect((await r.json()).error.code).toBe("invalid_name");
    const env = await h.call("POST", `/v1/projects/${name}/env`, { json: { key: "A", value: "b" } });
    expect(env.status).toBe(400);
    expect((await env.json()).error.code).toBe("invalid_name");
    const cfg = await h.upload({ "ferry.json": JSON.stringify({ name }) });
    const viaConfig = await h.call("POST", "/v1/deployments", { json: { files: cfg } });
    expect(viaConfig.status).toBe(400);
    expect((await viaConfig.json()).error.code).toBe("invalid_config");
  });

  it("every URL of an accepted deployment parses", async () => {
    const files = await h.upload({ "index.html": "urls" });
    const d = await (await h.call("POST", "/v1/deployments", { json: { name: "a1-b2", files, target: "production" } })).json();
    const done = await h.waitFor(d.id);
    for (const u of [done.url, ...done.aliases]) expect(() => new URL(u)).not.toThrow();
    expect(done.aliases).toEqual(["http://a1-b2.ferry.test"]);
  });

  it("refuses a production deploy whose project name is another deployment's host, up front", async () => {
    const files = await h.upload({ "index.html": "foo" });
    const foo = await (await h.call("POST", "/v1/deployments", { json: { name: "foo", files } })).json();
    await h.waitFor(foo.id);
    const before = await count();
    const r = await h.call("POST", "/v1/deployments", { json: { name: foo.host, files, target: "production" } });
    expect(r.status).toBe(409);
    const e = (await r.json()).error;
    expect(e.code).toBe("production_alias_taken");
    expect(e.message).toContain(foo.host);
    expect(await count()).toBe(before);
    expect((await h.metadata.getHost(foo.host))!.deploymentId).toBe(foo.id);
    // a preview of that project is fine: it has a host of its own and no production alias
    const preview = await h.call("POST", "/v1/deployments", { json: { name: foo.host, files } });
    expect(preview.status).toBe(201);
  });

  it("refuses a production deploy whose ferry.json alias is taken or not a host label", async () => {
    const files = await h.upload({ "index.html": "bar" });
    const bar = await (await h.call("POST", "/v1/deployments", { json: { name: "bar", files } })).json();
    await h.waitFor(bar.id);
    const taken = await h.upload({ "ferry.json": JSON.stringify({ alias: ["www-ok", bar.host] }) });
    const r = await h.call("POST", "/v1/deployments", { json: { name: "baz", files: taken, target: "production" } });
    expect(r.status).toBe(409);
    expect((await r.json()).error).toMatchObject({ code: "production_alias_taken" });

    // another account's alias
    const other = await h.upload({ "index.html": "b" }, h.tokenB);
    const ob = await (await h.call("POST", "/v1/deployments", { token: h.tokenB, json: { name: "theirs", files: other, target: "production" } })).json();
    await h.waitFor(ob.id, h.tokenB);
    const steal = await h.call("POST", "/v1/deployments", { json: { name: "theirs", files, target: "production" } });
    expect(steal.status).toBe(409);
    expect((await steal.json()).error.code).toBe("production_alias_taken");

    for (const alias of ["xn--zca", "Not Valid", "ab--c.ferry.test"]) {
      const cfg = await h.upload({ "ferry.json": JSON.stringify({ alias }) });
      const bad = await h.call("POST", "/v1/deployments", { json: { name: "qux", files: cfg, target: "production" } });
      expect(bad.status, alias).toBe(400);
      const e = (await bad.json()).error;
      expect(e.code).toBe("invalid_config");
      expect(e.message).toContain("alias");
    }
  });
});
