import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { join } from "node:path";
import { ROOT, hostOf, removeHome, requestVia, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

// Apps written the way Vercel users write them read their files at run time: through the real
// CLI, a real platform (sandboxed builds and instances) and its router.
describe("end to end: files a function reads at run time", () => {
  let platform: RunningPlatform;
  const fixture = (name: string) => join(ROOT, "test/fixtures/runtime-files", name);
  const deploy = async (dir: string) => {
    const r = await runFerryProcess([dir, "--json"], { env: { FERRY_HOME: platform.home }, timeoutMs: 240_000 });
    return { ...r, json: r.stdout ? JSON.parse(r.stdout) : null };
  };
  const get = (url: string, path: string) => requestVia(platform.routerUrl, hostOf(url), path);

  beforeAll(async () => {
    platform = await startPlatformProcess();
  });
  afterAll(async () => {
    await platform?.stop();
    await removeHome(platform.home);
  });

  it("functions read data/x.json by process.cwd(), __dirname and import.meta.url; includeFiles and excludeFiles hold; a missing file is a warning", async () => {
    const d = await deploy(fixture("functions"));
    expect(d.code, d.stderr).toBe(0);
    expect(d.stderr).toContain("Warning: api/missing.js reads data/missing.json, which is not in the upload");
    const greeting = "hello from data/x.json";
    expect(JSON.parse((await get(d.json.url, "/api/cwd")).text)).toEqual({ greeting, cwd: true });
    expect(JSON.parse((await get(d.json.url, "/api/dirname")).text)).toEqual({ greeting });
    expect(JSON.parse((await get(d.json.url, "/api/meta")).text)).toEqual({ greeting });
    expect(JSON.parse((await get(d.json.url, "/api/nested/deep")).text)).toEqual({ greeting, meta: greeting });
    const page = await get(d.json.url, "/api/template?t=welcome&name=Ada");
    expect([page.status, page.text]).toEqual([200, "Dear Ada, welcome.\n"]);
    const excluded = await get(d.json.url, "/api/excluded");
    expect([excluded.status, excluded.text]).toEqual([404, "ENOENT"]);
    const missing = await get(d.json.url, "/api/missing");
    expect([missing.status, missing.text]).toEqual([404, "ENOENT"]);
    expect(JSON.parse((await get(d.json.url, "/api/config")).text)).toEqual({ ferryJson: false, dotenv: false, files: ["api"] });
  });

  it("an Express app from its lockfile renders views/ and serves express.static('static')", async () => {
    const d = await deploy(fixture("express-app"));
    expect(d.code, d.stderr).toBe(0);
    const page = await get(d.json.url, "/hello/Ada");
    expect(page.status, page.text).toBe(200);
    expect(page.headers["content-type"]).toMatch(/^text\/html/);
    expect(page.text).toContain("<h1>Runtime files</h1>");
    expect(page.text).toContain("<p>Hello, Ada!</p>");
    const css = await get(d.json.url, "/css/site.css");
    expect([css.status, css.text]).toEqual([200, "body { color: teal; }\n"]);
    expect(css.headers["content-type"]).toMatch(/^text\/css/);
    expect((await get(d.json.url, "/")).text).toBe("<!doctype html><p>static index</p>\n");
    expect(JSON.parse((await get(d.json.url, "/config")).text)).toEqual({ region: "embedded", features: ["views", "static"] });
    expect(JSON.parse((await get(d.json.url, "/private")).text)).toEqual({ ferryJson: false, dotenv: false, nodeModules: false, source: false });
  });
});
