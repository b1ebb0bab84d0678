import { afterAll, describe, expect, it } from "vitest";
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { blobKeys } from "../../core/blobs/port.ts";
import { buildDir, cleanupTempDirs, example, expectSuccess, fixture, invokeBuilt, materializeFunction, runNode } from "./helpers.ts";

afterAll(cleanupTempDirs);

describe("api functions", () => {
  it("bundles TypeScript functions with dynamic routes, shared modules, JSON and tsconfig paths", async () => {
    const run = await buildDir(fixture("api-ts"));
    const out = expectSuccess(run);
    const fns = Object.fromEntries(out.functions.map((f) => [f.name, f]));
    expect(Object.keys(fns).sort()).toEqual(["api/boom", "api/files/[...path]", "api/users/[id]", "api/users/index"]);
    expect(fns["api/users/[id]"]).toMatchObject({ route: "/api/users/:id", source: "api/users/[id].ts", handler: "function", exports: ["default"] });
    expect(fns["api/users/index"]).toMatchObject({ route: "/api/users", exports: ["GET", "POST"] });
    expect(fns["api/files/[...path]"]!.route).toBe("/api/files/*path");
    // most specific first: /api/users before /api/users/:id before catch-alls
    expect(out.functions.map((f) => f.route)).toEqual(["/api/boom", "/api/users", "/api/users/:id", "/api/files/*path"]);
    // ferry.json `functions` globs
    expect(fns["api/users/[id]"]!.config).toEqual({ memory: 512, maxDuration: 30, maxConcurrency: 10 });
    expect(fns["api/boom"]!.config).toEqual({ memory: 1024, maxDuration: 5, maxConcurrency: 2 });
    const id = fns["api/users/[id]"]!;
    expect(id.artifact).toEqual({ prefix: blobKeys.artifactPrefix(run.request.deploymentId, "api/users/[id]"), entry: "index.mjs", files: ["index.mjs", "index.mjs.map"], dir: "api/users" });

    // top-level non-code files are static; code, config and bundled files are not
    expect(out.static.map((f) => f.path).sort()).toEqual(["index.html", "style.css"]);

    const entry = await materializeFunction(run.blobs, id);
    const res = await invokeBuilt(entry, "http://x.test/api/users/42");
    expect(res.stderr).toBe("");
    expect(JSON.parse(res.body)).toEqual({ id: "42", message: "hello, 42", helper: "from _lib" });

    const users = await materializeFunction(run.blobs, fns["api/users/index"]!);
    expect(JSON.parse((await invokeBuilt(users, "http://x.test/api/users")).body)).toEqual({ users: ["hello, list"] });
    const created = await invokeBuilt(users, "http://x.test/api/users", { method: "POST", body: '{"a":1}' });
    expect(created).toMatchObject({ status: 201, body: '{"created":{"a":1}}' });
  });

  it("maps runtime errors back to the original file and line with source maps", async () => {
    const run = await buildDir(fixture("api-ts"));
    const fn = expectSuccess(run).functions.find((f) => f.name === "api/boom")!;
    const entry = await materializeFunction(run.blobs, fn);
    const map = JSON.parse(await readFile(`${entry}.map`, "utf8")) as { sources: string[]; sourcesContent: string[] };
    // the map sits beside the bundle in api/, as the source does
    expect(map.sources).toEqual(["boom.ts"]);
    expect(map.sourcesContent[0]).toContain("boom from api/boom.ts");
    const r = await invokeBuilt(entry, "http://x.test/api/boom");
    expect(r.stderr).toMatch(/api\/boom\.ts:3:9/);
  });

  it("bundles CommonJS functions: module.exports becomes the default export", async () => {
    const run = await buildDir(fixture("cjs"));
    const out = expectSuccess(run);
    expect(out.functions.map((f) => [f.name, f.exports])).toEqual([
      ["api/node-style", ["default"]],
      ["api/web", ["default"]],
    ]);
    // a top-level file bundled into a function is server code, not a static file
    expect(out.static.map((f) => f.path)).toEqual(["browser.js"]);
    const node = await materializeFunction(run.blobs, out.functions[0]!);
    expect(await invokeBuilt(node, "http://x.test/api/node-style")).toMatchObject({ status: 200, body: "A/B string" });
    const web = await materializeFunction(run.blobs, out.functions[1]!);
    expect(await invokeBuilt(web, "http://x.test/api/web")).toMatchObject({ status: 200, body: "web from cjs" });
  });

  it("keeps a Hono app's default export (an object with fetch)", async () => {
    const run = await buildDir(fixture("hono"), { linkRepoNodeModules: true });
    const out = expectSuccess(run);
    expect(out.functions).toHaveLength(1);
    expect(out.functions[0]).toMatchObject({ name: "api/[[...route]]", route: "/api{/*route}", exports: ["default"] });
    const entry = await materializeFunction(run.blobs, out.functions[0]!);
    expect(await invokeBuilt(entry, "http://x.test/api/hello/ferry")).toMatchObject({ status: 200, body: '{"hello":"ferry"}' });
  });

  it("builds examples/hello: a page and a function", async () => {
    const run = await buildDir(example("hello"));
    const out = expectSuccess(run);
    expect(out.static.map((f) => f.path)).toEqual(["README.md", "index.html"]);
    expect(out.functions.map((f) => [f.name, f.route])).toEqual([["api/hi", "/api/hi"]]);
    const entry = await materializeFunction(run.blobs, out.functions[0]!);
    expect(JSON.parse((await invokeBuilt(entry, "http://x.test/api/hi")).body)).toMatchObject({ message: "hi from ferry" });
    expect(run.logs.some((l) => /^Bundled api\/hi -> \/api\/hi \(\d/.test(l))).toBe(true);
    expect(run.logs.at(-1)).toMatch(/^Build completed in/);
    // nothing runs in this workspace, so it shares the stored files instead of copying them, and
    // is kept for the project's next build
    const [kept] = (await readdir(join(run.cacheDir, "workspaces"), { withFileTypes: true })).filter((d) => d.isDirectory());
    expect((await stat(join(run.cacheDir, "workspaces", kept!.name, "api", "hi.ts"))).nlink).toBe(2);
  });

  it("builds examples/api-functions", async () => {
    const run = await buildDir(example("api-functions"));
    const out = expectSuccess(run);
    expect(out.functions.map((f) => f.route)).toEqual(["/api/health", "/api/users", "/api/users/:id"]);
    expect(out.static.map((f) => f.path)).toEqual(["index.html"]);
    const byId = await materializeFunction(run.blobs, out.functions[2]!);
    expect(JSON.parse((await invokeBuilt(byId, "http://x.test/api/users/2")).body)).toEqual({ id: "2", name: "Grace" });
    const health = await materializeFunction(run.blobs, out.functions[0]!);
    expect(JSON.parse((await invokeBuilt(health, "http://x.test/api/health")).body)).toMatchObject({ ok: true, app: "api-functions" });
  });

  it("bundles run with plain node (no loader) and expose their exports", async () => {
    const run = await buildDir(example("hello"));
    const entry = await materializeFunction(run.blobs, expectSuccess(run).functions[0]!);
    const r = await runNode(["--input-type=module", "-e", `import(${JSON.stringify(`file://${entry}`)}).then((m) => console.log(Object.keys(m).join(",")))`]);
    expect(r.stdout.trim()).toBe("default");
  });
});
