import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, writeFile, mkdir } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, hostOf, removeHome, requestVia, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

/** Every example deploys through the real CLI and answers as its README says. */
describe("end to end: the examples and the errors a user sees", () => {
  let platform: RunningPlatform;
  const env = () => ({ FERRY_HOME: platform.home });
  const deploy = async (dir: string, args: string[] = []) => {
    const r = await runFerryProcess([dir, "--json", ...args], { env: env(), timeoutMs: 240_000 });
    return { ...r, json: r.stdout ? JSON.parse(r.stdout) : null };
  };
  const get = (url: string, path: string, opts?: Parameters<typeof requestVia>[3]) => requestVia(platform.routerUrl, hostOf(url), path, opts);

  beforeAll(async () => {
    platform = await startPlatformProcess();
  });
  afterAll(async () => {
    await platform?.stop();
    await removeHome(platform.home);
  });

  it("static-site: nested pages, clean URLs, non-ASCII names, headers, a custom 404", async () => {
    const d = await deploy(join(ROOT, "examples/static-site"));
    expect(d.code, d.stderr).toBe(0);
    const home = await get(d.json.url, "/");
    expect(home.status).toBe(200);
    expect(home.headers["content-type"]).toMatch(/^text\/html/);
    expect((await get(d.json.url, "/about")).status).toBe(200);
    expect((await get(d.json.url, "/blog/first-post")).status).toBe(200);
    expect((await get(d.json.url, `/blog/${encodeURIComponent("café notes")}`)).status).toBe(200);
    const css = await get(d.json.url, "/css/style.css");
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
    expect(css.headers["cache-control"]).toBe("public, max-age=3600");
    const png = await get(d.json.url, "/img/logo.png");
    expect(png.headers["content-type"]).toBe("image/png");
    const missing = await get(d.json.url, "/no/such/page", { headers: { accept: "text/html" } });
    expect(missing.status).toBe(404);
    expect(missing.text).toMatch(/<html/i);
  });

  it("api-functions: TypeScript functions, a dynamic route, a shared module, named methods", async () => {
    const d = await deploy(join(ROOT, "examples/api-functions"));
    expect(d.code, d.stderr).toBe(0);
    expect((await get(d.json.url, "/api/health")).status).toBe(200);
    const list = await get(d.json.url, "/api/users");
    expect(list.status).toBe(200);
    const users = JSON.parse(list.text) as { id: string }[];
    expect(users.length).toBeGreaterThan(0);
    const one = await get(d.json.url, `/api/users/${users[0]!.id}`);
    expect(JSON.parse(one.text).id).toBe(users[0]!.id);
    expect((await get(d.json.url, "/api/users/does-not-exist")).status).toBe(404);
    const created = await get(d.json.url, "/api/users", { method: "POST", body: JSON.stringify({ name: "Ada" }), headers: { "content-type": "application/json" } });
    expect(created.status).toBe(201);
    expect((await get(d.json.url, "/api/users", { method: "DELETE" })).status).toBe(405);
    // files under api/ starting with _ are not functions
    expect((await get(d.json.url, "/api/_middleware-notes")).status).toBe(404);
  });

  it("express-app: an Express server from its lockfile serves every path", async () => {
    const d = await deploy(join(ROOT, "examples/express-app"));
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/npm ci|dependencies/i);
    expect((await get(d.json.url, "/")).text).toContain("Express on Ferry");
    expect(JSON.parse((await get(d.json.url, "/api/hello?name=ferry")).text).message).toContain("ferry");
    expect(JSON.parse((await get(d.json.url, "/users/42")).text)).toEqual({ id: "42" });
    const echo = await get(d.json.url, "/echo", { method: "POST", body: JSON.stringify({ a: 1 }), headers: { "content-type": "application/json" } });
    expect(JSON.parse(echo.text)).toEqual({ received: { a: 1 } });
  });

  it("hono-app: a Hono app exported from a catch-all function", async () => {
    const d = await deploy(join(ROOT, "examples/hono-app"));
    expect(d.code, d.stderr).toBe(0);
    expect(JSON.parse((await get(d.json.url, "/api/hello/ferry")).text)).toEqual({ message: "hello, ferry" });
    expect((await get(d.json.url, "/")).status).toBe(200);
  });

  it("a syntax error fails the deploy with file:line, exit 1, and the production deployment stays live", async () => {
    const ok = await deploy(join(ROOT, "examples/hello"), ["--prod"]);
    expect(ok.code, ok.stderr).toBe(0);
    const bad = await deploy(join(ROOT, "test/fixtures/builder/syntax-error"), ["--name", "hello", "--prod"]);
    expect(bad.code).toBe(1);
    expect(bad.json.state).toBe("ERROR");
    expect(bad.stderr).toMatch(/api\/hi\.ts:3:\d+/);
    expect(bad.stderr).toMatch(/Expected/);
    const prod = await get(ok.json.aliases[0], "/api/hi");
    expect(prod.status).toBe(200);
    // visitors of the failed deployment see a 502 page
    expect((await get(bad.json.url, "/")).status).toBe(502);
  });

  it("a missing import names the import and the file", async () => {
    const bad = await deploy(join(ROOT, "test/fixtures/builder/missing-import"), ["--name", "broken"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/Could not resolve "\.\/nope"/);
    expect(bad.stderr).toMatch(/api\/\S+\.ts:1/);
  });

  it("a native addon fails the build naming the package", async () => {
    const bad = await deploy(join(ROOT, "test/fixtures/builder/native-addon"));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/fake-native/);
    expect(bad.stderr).toMatch(/native addon/i);
  });

  it("a bad ferry.json is rejected before anything is built, naming the JSON path", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-badcfg-"));
    await writeFile(join(dir, "index.html"), "<p>hi</p>");
    await writeFile(join(dir, "ferry.json"), JSON.stringify({ redirects: [{ source: "/old/:p(", destination: "/new" }] }));
    const r = await runFerryProcess([dir], { env: env() });
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/ferry\.json: redirects\[0\]\.source: .*invalid `source`/);
  });

  it("shows the build log live and replays it later with inspect --logs", async () => {
    const d = await deploy(join(ROOT, "examples/api-functions"), ["--force"]);
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toMatch(/\d\d:\d\d:\d\d {2}Bundled api\/users\/\[id\]/);
    const logs = await runFerryProcess(["inspect", d.json.id, "--logs"], { env: env() });
    expect(logs.code, logs.stderr).toBe(0);
    expect(logs.stdout).toMatch(/Bundled api\/users\/\[id\]/);
    expect(logs.stdout).toMatch(/\[READY\]/);
  });

  it("rm cancels a running build", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-slow-"));
    await mkdir(join(dir, "public"));
    await writeFile(join(dir, "public/index.html"), "slow");
    await writeFile(join(dir, "ferry.json"), JSON.stringify({ name: "slow", buildCommand: "sleep 30" }));
    const deploying = runFerryProcess([dir, "--json"], { env: env() });
    let id = "";
    for (let i = 0; i < 100 && !id; i++) {
      await new Promise((r) => setTimeout(r, 200));
      const ls = JSON.parse((await runFerryProcess(["ls", "slow", "--json"], { env: env() })).stdout);
      if (ls.deployments?.[0]?.state === "BUILDING") id = ls.deployments[0].id;
    }
    expect(id).not.toBe("");
    const rm = await runFerryProcess(["rm", id], { env: env() });
    expect(rm.code, rm.stderr).toBe(0);
    const r = await deploying;
    expect(r.code).toBe(1);
    expect(JSON.parse(r.stdout).state).toBe("CANCELED");
  });
});
