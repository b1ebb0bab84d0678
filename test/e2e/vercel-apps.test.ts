import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, hostOf, removeHome, requestVia, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../helpers/platform-process.ts";

/**
 * Apps written for Vercel (and Heroku) deployed unchanged with the real CLI to a real embedded
 * platform: a vercel.json-only single-page app, a Procfile server app, an app with both
 * ferry.json and vercel.json. What a visitor sees, and what the build log says.
 */
const fixture = (name: string) => join(ROOT, "test", "fixtures", "vercel", name);

describe("end to end: apps written for Vercel and Heroku", () => {
  let platform: RunningPlatform;
  const env = () => ({ FERRY_HOME: platform.home });
  const get = (url: string, path: string) => requestVia(platform.routerUrl, hostOf(url), path);

  async function deploy(dir: string) {
    const r = await runFerryProcess([dir, "--json"], { env: env() });
    expect(r.code, r.stderr).toBe(0);
    return { ...(JSON.parse(r.stdout) as { url: string; project: string; state: string }), log: r.stderr };
  }

  beforeAll(async () => {
    platform = await startPlatformProcess();
  });
  afterAll(async () => {
    await platform?.stop();
    await removeHome(platform.home);
  });

  it("a vercel.json single-page app: its name, its SPA fallback, its assets in subfolders, its .vercelignore", async () => {
    const d = await deploy(fixture("spa"));
    expect(d).toMatchObject({ state: "READY", project: "vercel-spa" });
    expect(d.log).toMatch(/ {2}Using vercel\.json\n/);
    expect(d.log).toMatch(/ {2}Ignoring vercel\.json keys that have no meaning on Ferry: regions\n/);

    const home = await get(d.url, "/");
    expect(home.status).toBe(200);
    expect(home.text).toContain("The SPA shell");
    // a client-side route falls back to the shell
    const deep = await get(d.url, "/settings/profile");
    expect(deep.status).toBe(200);
    expect(deep.text).toContain("The SPA shell");

    // files in subfolders are files, not the fallback
    const js = await get(d.url, "/assets/app.js");
    expect(js.status).toBe(200);
    expect(js.headers["content-type"]).toMatch(/javascript/);
    expect(js.text).toContain("rendered by assets/app.js");
    const css = await get(d.url, "/assets/css/site.css");
    expect(css.status).toBe(200);
    expect(css.headers["content-type"]).toMatch(/text\/css/);
    expect(css.text).toContain("font-family");

    // the config is not published: the fallback answers in its place
    const config = await get(d.url, "/vercel.json");
    expect(config.text).toContain("The SPA shell");
    expect(config.text).not.toContain("rewrites");
    // .vercelignore kept the draft from being uploaded at all
    const draft = await get(d.url, "/drafts/unpublished.html");
    expect(draft.text).not.toContain("unpublished draft");
    expect((await get(d.url, "/.vercelignore")).text).not.toContain("drafts/");
  });

  it("a Procfile app (web: node app.js <args>, no start script) runs as a server app with its arguments, on $PORT, and publishes none of its files", async () => {
    const d = await deploy(fixture("procfile"));
    expect(d).toMatchObject({ state: "READY", project: "procfile-app" });
    expect(d.log).toContain(`  Detected a server app: app.js (Procfile web: node app.js --workers 2 --name "a b" --port $PORT) serves every path, started with the arguments --workers 2 --name "a b" --port \${PORT}\n`);

    // it listens on the port its --port $PORT names, so the argument was filled in at run time
    const home = await get(d.url, "/");
    expect(home.status).toBe(200);
    expect(home.text).toBe("hello from a Procfile app on port 3000");
    const argv = await get(d.url, "/argv");
    expect(JSON.parse(argv.text)).toEqual({ entry: expect.stringMatching(/\/index\.mjs$/), args: ["--workers", "2", "--name", "a b", "--port", "3000"], port: "3000" });
    // the server answers every path: its source, its Procfile and its package.json are not files here
    for (const path of ["/app.js", "/Procfile", "/package.json", "/index.html"]) {
      const r = await get(d.url, path);
      expect(r.status, path).toBe(404);
      expect(r.text, path).toBe("the app has no page here");
    }
  });

  it("ferry.json beside vercel.json: ferry.json wins and the log says so; no config, manifest or function source is served", async () => {
    const d = await deploy(fixture("both"));
    // vercel.json's name and its `builds` (which Ferry refuses) are not read at all
    expect(d).toMatchObject({ state: "READY", project: "both-configs" });
    expect(d.log).toMatch(/ {2}Using ferry\.json \(vercel\.json is ignored\)\n/);

    const fn = await get(d.url, "/api/hello?name=ferry");
    expect(fn.status).toBe(200);
    expect(JSON.parse(fn.text)).toEqual({ message: "hello, ferry" });
    expect((await get(d.url, "/")).text).toContain("both configs");
    const logo = await get(d.url, "/assets/img/logo.svg");
    expect(logo.status).toBe(200);
    expect(logo.headers["content-type"]).toMatch(/image\/svg\+xml/);

    for (const path of ["/vercel.json", "/ferry.json", "/package.json", "/api/hello.js", "/lib/greet.js"]) {
      expect((await get(d.url, path)).status, path).toBe(404);
    }
  });

  it("an invalid vercel.json fails the deploy naming vercel.json and the JSON path; the legacy builds key is refused", async () => {
    const dir = await mkdtemp(join(tmpdir(), "ferry-vercel-bad-"));
    try {
      await writeFile(join(dir, "index.html"), "hi");
      await writeFile(join(dir, "vercel.json"), JSON.stringify({ name: "bad-config", rewrites: [], cleanUrl: true }));
      const unknown = await runFerryProcess([dir], { env: env() });
      expect(unknown.code).not.toBe(0);
      expect(unknown.stderr).toContain("vercel.json: cleanUrl: unknown property");

      await writeFile(join(dir, "vercel.json"), JSON.stringify({ name: "bad-config", builds: [{ src: "*.html", use: "@vercel/static" }] }));
      const builds = await runFerryProcess([dir], { env: env() });
      expect(builds.code).not.toBe(0);
      expect(builds.stderr).toContain("vercel.json: builds: the legacy `builds` key is not supported");
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
