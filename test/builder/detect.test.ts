import { afterAll, describe, expect, it } from "vitest";
import { compareRoutes, isFunctionSource, routeFor } from "../../builder/fs-routes.ts";
import { detectApiFunctions } from "../../builder/detect.ts";
import { startScriptEntry } from "../../builder/package-json.ts";
import { functionConfigFor } from "../../builder/function-config.ts";
import { UserBuildError } from "../../builder/errors.ts";
import { compileMatcher } from "../../core/config/patterns.ts";
import { buildDir, cleanupTempDirs, expectSuccess, fixture, tempDir } from "./helpers.ts";
import { writeFile, mkdir } from "node:fs/promises";
import { join } from "node:path";

afterAll(cleanupTempDirs);

describe("filesystem routing", () => {
  it("maps files to path-to-regexp routes", () => {
    expect(routeFor("api/hello.ts")).toBe("/api/hello");
    expect(routeFor("api/index.js")).toBe("/api");
    expect(routeFor("api/users/index.mts")).toBe("/api/users");
    expect(routeFor("api/users/[id].ts")).toBe("/api/users/:id");
    expect(routeFor("api/users/[id]/posts/[post-id].ts")).toBe('/api/users/:id/posts/:"post-id"');
    expect(routeFor("api/files/[...path].cjs")).toBe("/api/files/*path");
    expect(routeFor("api/docs/[[...slug]].ts")).toBe("/api/docs{/*slug}");
    expect(routeFor("api/a(b).ts")).toBe("/api/a\\(b\\)");
  });

  it("every route compiles and matches what it should", () => {
    expect(compileMatcher(routeFor("api/users/[id].ts"))("/api/users/42")).toEqual({ id: "42" });
    expect(compileMatcher(routeFor("api/files/[...path].ts"))("/api/files/a/b")).not.toBeNull();
    expect(compileMatcher(routeFor("api/docs/[[...slug]].ts"))("/api/docs")).toEqual({});
    expect(compileMatcher(routeFor("api/a(b).ts"))("/api/a(b)")).toEqual({});
    expect(compileMatcher(routeFor("api/p/[post-id].ts"))("/api/p/7")).toEqual({ "post-id": "7" });
  });

  it("skips helpers, dotfiles, declarations and non-code files", () => {
    expect(["api/a.ts", "api/b.mjs", "api/c.cjs", "api/d.js", "api/e.mts"].every(isFunctionSource)).toBe(true);
    expect(["api/_lib/x.ts", "api/_x.ts", "api/.x.ts", "api/x.d.ts", "api/x.json", "api/x.tsx", "lib/x.ts", "api/.hidden/x.ts"].some(isFunctionSource)).toBe(false);
  });

  it("orders static before dynamic before catch-all, and rejects two files for one route", () => {
    const routes = ["/api/*p", "/api/users/:id", "/api/users", "/api/a"].sort(compareRoutes);
    expect(routes).toEqual(["/api/a", "/api/users", "/api/users/:id", "/api/*p"]);
    expect(() => detectApiFunctions(["api/users.ts", "api/users/index.ts"])).toThrow(UserBuildError);
    expect(() => detectApiFunctions(["api/a.ts", "api/a.js"])).toThrow(/api\/a\.ts and api\/a\.js both serve the route \/api\/a/);
  });
});

describe("package.json start scripts", () => {
  it("finds the file a node-like start script runs", () => {
    expect(startScriptEntry("node server.js")).toEqual({ file: "server.js", args: [] });
    expect(startScriptEntry("node ./dist/index.js")).toEqual({ file: "dist/index.js", args: [] });
    expect(startScriptEntry("NODE_ENV=production node --enable-source-maps -r dotenv/config app.mjs")).toEqual({ file: "app.mjs", args: [] });
    expect(startScriptEntry("tsx src/main.ts")).toEqual({ file: "src/main.ts", args: [] });
    expect(startScriptEntry("next start")).toBeNull();
    expect(startScriptEntry(undefined)).toBeNull();
  });

  it("keeps its arguments after the file: plain, $PORT for the runtime, quoted as sh splits them", () => {
    expect(startScriptEntry("node server.js --foo bar")).toEqual({ file: "server.js", args: ["--foo", "bar"] });
    expect(startScriptEntry("node --enable-source-maps server.js --port $PORT --url http://localhost:${PORT}/")).toEqual({ file: "server.js", args: ["--port", "${PORT}", "--url", "http://localhost:${PORT}/"] });
    expect(startScriptEntry(`NAME="my app" node app.js --title "My App" --motto 'ship it; now'`)).toEqual({ file: "app.js", args: ["--title", "My App", "--motto", "ship it; now"] });
  });

  it("is no start script Ferry can run when it needs a shell", () => {
    for (const start of ["node a.js && node b.js", "node a.js | pino-pretty", "node a.js; echo done", "node a.js > log", "node a.js --v `cat VERSION`", "node a.js --v $(cat VERSION)", "node $MAIN", "node a.js *.txt"]) {
      expect(startScriptEntry(start), start).toBeNull();
    }
  });
});

describe("function settings", () => {
  it("applies matching ferry.json globs in order over the defaults", () => {
    const config = { functions: { "api/**": { memory: 512 }, "api/slow/*.ts": { maxDuration: 300 } } };
    expect(functionConfigFor("api/slow/report.ts", config)).toEqual({ memory: 512, maxDuration: 300, maxConcurrency: 10 });
    expect(functionConfigFor("server.js", config)).toEqual({ memory: 1024, maxDuration: 30, maxConcurrency: 10 });
  });
});

describe("app shapes", () => {
  it("a server app from a start script, with public/ as its static root", async () => {
    const run = await buildDir(fixture("server-http"));
    const out = expectSuccess(run);
    expect(out.functions.map((f) => [f.name, f.source, f.route, f.handler])).toEqual([["server", "src/main.ts", "/*path", "server"]]);
    expect(out.static.map((f) => f.path)).toEqual(["robots.txt"]);
  });

  it("an index.js next to index.html is a static site, not a server, even with an npm init package.json", async () => {
    const dir = await tempDir("ferry-app-");
    await writeFile(join(dir, "package.json"), JSON.stringify({ name: "site", version: "1.0.0", main: "index.js", scripts: { test: "exit 1" } }));
    await writeFile(join(dir, "index.html"), "<script src=index.js></script>");
    await writeFile(join(dir, "index.js"), "document.title = 'hi'");
    const out = expectSuccess(await buildDir(dir));
    expect(out.functions).toEqual([]);
    expect(out.static.map((f) => f.path)).toEqual(["index.html", "index.js"]);
  });

  it("server.ts is a server entry even without package.json", async () => {
    const dir = await tempDir("ferry-app-");
    await mkdir(join(dir, "public"));
    await writeFile(join(dir, "server.ts"), "import { createServer } from 'node:http'; createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT));");
    await writeFile(join(dir, "public", "a.txt"), "a");
    const out = expectSuccess(await buildDir(dir));
    expect(out.functions.map((f) => f.source)).toEqual(["server.ts"]);
    expect(out.static.map((f) => f.path)).toEqual(["a.txt"]);
  });

  it("an empty upload is an empty static site", async () => {
    const out = expectSuccess(await buildDir(await tempDir("ferry-app-")));
    expect(out).toEqual({ version: 1, functions: [], static: [], routes: {} });
  });
});
