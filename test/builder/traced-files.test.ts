import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cp, readFile, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { runBuildInChild } from "../../builder/child.ts";
import { createBuilder } from "../../builder/build.ts";
import type { BuildOutput, BuiltFunction } from "../../core/types.ts";
import { createLocalHost } from "../../runtime/local/index.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { createSandbox, type Sandbox } from "../../sandbox/index.ts";
import { buildDir, cleanupTempDirs, expectSuccess, prepareChild, REPO, tempDir, type BuildRun } from "./helpers.ts";

// Files a function reads at run time ship beside its bundle, at their paths from the app root,
// and the function runs with the app root as its working folder (as on Vercel).

const FIXTURES = join(REPO, "test", "fixtures", "runtime-files");
const fixture = (name: string) => join(FIXTURES, name);

let sandbox: Sandbox;
beforeAll(() => {
  sandbox = createSandbox();
});
afterAll(async () => {
  sandbox?.close();
  await cleanupTempDirs();
});

const fnOf = (out: BuildOutput, name: string) => {
  const fn = out.functions.find((f) => f.name === name);
  if (!fn) throw new Error(`no function ${name} in ${out.functions.map((f) => f.name).join(", ")}`);
  return fn;
};
const shipped = (fn: BuiltFunction) => (fn.artifact.assets ?? []).map((a) => a.path);

/** Serves a build's functions from real sandboxed instances (the function host the platform runs). */
async function serve(run: BuildRun) {
  const out = expectSuccess(run);
  const host: FunctionHost = createLocalHost({ blobs: run.blobs, cacheDir: join(await tempDir("ferry-fn-cache-"), "c"), sandbox });
  const get = async (name: string, path: string) => {
    const res = await host.invoke({ deploymentId: run.request.deploymentId, project: "test", fn: fnOf(out, name), env: {} }, new Request(`http://app.localhost${path}`), { requestId: `req_${name}`, params: {} });
    return { status: res.status, text: await res.text() };
  };
  return { out, host, get };
}

describe("files a function reads at run time", () => {
  let run: BuildRun;
  let served: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    run = await buildDir(fixture("functions"));
    served = await serve(run);
  }, 60_000);
  afterAll(() => served?.host.close());

  it("places each bundle where its source is and ships the traced files beside it", () => {
    const { out } = served;
    expect(fnOf(out, "api/dirname").artifact).toMatchObject({ entry: "index.mjs", files: ["index.mjs", "index.mjs.map"], dir: "api" });
    expect(fnOf(out, "api/nested/deep").artifact.dir).toBe("api/nested");
    for (const name of ["api/cwd", "api/dirname", "api/meta", "api/nested/deep"]) expect(shipped(fnOf(out, name))).toEqual(["data/x.json"]);
    // nothing that was not read: no templates, no sources, no config
    expect(shipped(fnOf(out, "api/config"))).toEqual([]);
    expect(run.logs).toContainEqual(expect.stringMatching(/^Bundled api\/cwd -> \/api\/cwd \(.*, 1 file beside it \(\d+ B\)\)$/));
  });

  it("process.cwd() is the app root: data/x.json via process.cwd() is there", async () => {
    const r = await served.get("api/cwd", "/api/cwd");
    expect(r).toEqual({ status: 200, text: JSON.stringify({ greeting: "hello from data/x.json", cwd: true }) });
  });

  it("__dirname is the source's folder, in TypeScript, in ESM by import.meta.url, and two folders down", async () => {
    for (const [name, path] of [
      ["api/dirname", "/api/dirname"],
      ["api/meta", "/api/meta"],
    ] as const) {
      const r = await served.get(name, path);
      expect(r.status, `${name}: ${r.text}`).toBe(200);
      expect(JSON.parse(r.text)).toEqual({ greeting: "hello from data/x.json" });
    }
  });

  it("a module in another folder reads by its own __dirname, not the bundle's", async () => {
    const r = await served.get("api/nested/deep", "/api/nested/deep");
    expect(r.status, r.text).toBe(200);
    expect(JSON.parse(r.text)).toEqual({ greeting: "hello from data/x.json", meta: "hello from data/x.json" });
  });

  it("includeFiles ships files no tracer can see (a computed folder)", async () => {
    expect(shipped(fnOf(served.out, "api/template"))).toEqual(["templates/goodbye.txt", "templates/welcome.txt"]);
    expect(await served.get("api/template", "/api/template?t=welcome&name=Ada")).toEqual({ status: 200, text: "Dear Ada, welcome.\n" });
    expect(await served.get("api/template", "/api/template?t=goodbye&name=Ada")).toEqual({ status: 200, text: "Bye Ada.\n" });
  });

  it("excludeFiles leaves out a traced file", async () => {
    expect(shipped(fnOf(served.out, "api/excluded"))).toEqual([]);
    expect(await served.get("api/excluded", "/api/excluded")).toEqual({ status: 404, text: "ENOENT" });
  });

  it("a traced file that is not in the upload is a build warning, and absent at run time", async () => {
    expect(run.logs).toContain("Warning: api/missing.js reads data/missing.json, which is not in the upload");
    expect(run.logs.filter((l) => l.includes("data/missing.json"))).toHaveLength(1);
    expect(await served.get("api/missing", "/api/missing")).toEqual({ status: 404, text: "ENOENT" });
  });

  it("the folder holds nothing else of the app: no ferry.json, no .env, no other function's files", async () => {
    const r = await served.get("api/config", "/api/config");
    expect(JSON.parse(r.text)).toEqual({ ferryJson: false, dotenv: false, files: ["api"] });
  });
});

describe("includeFiles, excludeFiles and limits", () => {
  it("without includeFiles the computed template folder is not shipped (tracing cannot see it)", async () => {
    const dir = join(await tempDir("ferry-app-"), "app");
    await cp(fixture("functions"), dir, { recursive: true });
    const config = JSON.parse(await readFile(join(dir, "ferry.json"), "utf8"));
    delete config.functions["api/template.js"];
    await writeFile(join(dir, "ferry.json"), JSON.stringify(config));
    const out = expectSuccess(await buildDir(dir));
    expect(shipped(fnOf(out, "api/template"))).toEqual([]);
  });

  it("the size limit counts the shipped files with the bundle", async () => {
    const dir = join(await tempDir("ferry-app-"), "app");
    await cp(fixture("functions"), dir, { recursive: true });
    await writeFile(join(dir, "templates", "huge.txt"), "x".repeat(300_000));
    const run = await buildDir(dir, { builder: createBuilder({ limits: { maxUnzippedBytes: 200_000 } }) });
    expect(run.result.type).toBe("error");
    if (run.result.type !== "error") return;
    expect(run.result.errors[0]!.message).toMatch(/^function api\/template is .* unzipped \(bundle .* \+ .* of files it reads\), over the 195\.3 kB limit$/);
  });

  it("a sandboxed build ships the same files, through the platform's gate", async () => {
    const { req, opts } = await prepareChild(fixture("functions"));
    const logs: string[] = [];
    const result = await runBuildInChild(req, { ...opts, sandbox, onLog: (l) => logs.push(l) });
    if (result.type !== "success") throw new Error(`${JSON.stringify(result)}\n${logs.join("\n")}`);
    expect(shipped(fnOf(result.output, "api/dirname"))).toEqual(["data/x.json"]);
    expect(shipped(fnOf(result.output, "api/template"))).toEqual(["templates/goodbye.txt", "templates/welcome.txt"]);
    expect(fnOf(result.output, "api/dirname").artifact.assets![0]).toMatchObject({ key: `files/${req.accountId}/${req.files.find((f) => f.file === "data/x.json")!.sha}` });
    expect(logs).toContain("Warning: api/missing.js reads data/missing.json, which is not in the upload");
  }, 60_000);
});

describe("a server app ships its whole folder", () => {
  let run: BuildRun;
  let served: Awaited<ReturnType<typeof serve>>;
  beforeAll(async () => {
    run = await buildDir(fixture("express-app"));
    served = await serve(run);
  }, 180_000);
  afterAll(() => served?.host.close());

  it("with its views, static files and data, minus sources, packages, ferry.json and .env", () => {
    const fn = fnOf(served.out, "server");
    expect(fn.artifact.dir).toBeUndefined();
    // express probing for optional files is not the app's business
    expect(run.logs.filter((l) => l.startsWith("Warning:"))).toEqual([]);
    expect(run.logs).toContainEqual(expect.stringMatching(/^Bundled server -> \/\*path \(.*, 7 files beside it \(.*\)\)$/));
    expect(shipped(fn)).toEqual(["data/config.json", "package-lock.json", "package.json", "static/css/site.css", "static/index.html", "views/hello.html", "views/partials/header.html"]);
  });

  it("renders views/ templates with an app.engine reading files, and serves express.static('static')", async () => {
    const page = await served.get("server", "/hello/Ada");
    expect(page.status, page.text).toBe(200);
    expect(page.text).toBe("<!doctype html>\n<h1>Runtime files</h1>\n\n<p>Hello, Ada!</p>\n");
    expect(await served.get("server", "/css/site.css")).toEqual({ status: 200, text: "body { color: teal; }\n" });
    expect(await served.get("server", "/")).toEqual({ status: 200, text: "<!doctype html><p>static index</p>\n" });
    expect(JSON.parse((await served.get("server", "/config")).text)).toEqual({ region: "embedded", features: ["views", "static"] });
    expect(JSON.parse((await served.get("server", "/private")).text)).toEqual({ ferryJson: false, dotenv: false, nodeModules: false, source: false });
  });
});
