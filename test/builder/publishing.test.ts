import { afterAll, describe, expect, it } from "vitest";
import { spawn } from "node:child_process";
import { mkdir, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import { dirname, join } from "node:path";
import { blobKeys } from "../../core/blobs/port.ts";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import { readProjectConfig } from "../../core/config/vercel.ts";
import { build } from "../../builder/build.ts";
import type { BuildRequest } from "../../builder/port.ts";
import { ACCOUNT, cleanupTempDirs, expectSuccess, materializeFunction, tempDir, uploadDir, type BuildRun } from "./helpers.ts";

afterAll(cleanupTempDirs);

/** Writes an app, uploads it and builds it in-process with its config read as the API reads it. */
async function buildApp(files: Record<string, string>): Promise<BuildRun> {
  const dir = await tempDir("ferry-app-");
  for (const [name, text] of Object.entries(files)) {
    await mkdir(dirname(join(dir, name)), { recursive: true });
    await writeFile(join(dir, name), text);
  }
  const blobRoot = await tempDir("ferry-blobs-");
  const blobs = createFsBlobStore(blobRoot);
  const uploaded = await uploadDir(dir, blobs);
  const sha = new Map(uploaded.map((f) => [f.file, f.sha]));
  const { config, source } = await readProjectConfig(sha.keys(), async (f) => (await blobs.get(blobKeys.file(ACCOUNT, sha.get(f)!)))!);
  const request: BuildRequest = { deploymentId: `dpl_${Math.random().toString(36).slice(2, 10)}`, accountId: ACCOUNT, project: "test", files: uploaded, config, configSource: source, buildEnv: {} };
  const workDir = join(await tempDir("ferry-work-"), "app");
  const cacheDir = await tempDir("ferry-cache-");
  const logs: string[] = [];
  const result = await build(request, { blobs, log: (l) => logs.push(l), workDir, cacheDir });
  return { result, logs, blobs, blobRoot, workDir, cacheDir, request };
}

const staticPaths = (run: BuildRun) => expectSuccess(run).static.map((f) => f.path).sort();
const failure = (run: BuildRun) => (run.result.type === "error" ? run.result.errors.map((e) => e.message).join("\n") : `built: ${run.logs.join("\n")}`);

const HTTP_SERVER = `const http = require("node:http");
http.createServer((req, res) => res.end("served by " + req.url)).listen(process.env.PORT, () => console.log("listening"));
`;

describe("what a Vercel-style app publishes", () => {
  it("a vercel.json static site: subfolders served, config files not, the log naming the file and its ignored keys", async () => {
    const run = await buildApp({
      "vercel.json": JSON.stringify({ regions: ["iad1"], rewrites: [{ source: "/(.*)", destination: "/index.html" }] }),
      "index.html": "<h1>spa</h1>",
      "assets/app.js": "console.log(1)",
      "assets/img/logo.svg": "<svg/>",
      "now.json": "{}",
      "tsconfig.json": "{}",
      "Procfile": "worker: node jobs.js",
      ".env": "SECRET=1",
    });
    expect(staticPaths(run)).toEqual(["assets/app.js", "assets/img/logo.svg", "index.html"]);
    expect(run.logs[0]).toBe("Using vercel.json");
    expect(run.logs[1]).toBe("Ignoring vercel.json keys that have no meaning on Ferry: regions");
    expect(run.logs).toContain("Detected a static site (no functions)");
  });

  it("api/ without public/: the whole folder but api/ is static, as on Vercel; code, config and bundled files are not", async () => {
    const run = await buildApp({
      "vercel.json": "{}",
      "package.json": JSON.stringify({ name: "site", type: "module" }),
      "package-lock.json": "{}",
      "tsconfig.json": "{}",
      "index.html": "<h1>app</h1>",
      "assets/app.js": "console.log('browser')",
      "assets/css/site.css": "body{}",
      "api/hello.js": `import { greet } from "../lib/greet.js";\nexport default () => new Response(greet());\n`,
      "api/_data.json": "{}",
      "api/README.md": "not a page",
      "lib/greet.js": `export const greet = () => "hi";\n`,
      "src/client.ts": "export {}",
      "middleware.js": "export default () => {}",
      "tailwind.config.js": "module.exports = {}",
    });
    const out = expectSuccess(run);
    expect(out.functions.map((f) => f.name)).toEqual(["api/hello"]);
    expect(staticPaths(run)).toEqual(["assets/app.js", "assets/css/site.css", "index.html"]);
    expect(run.logs.find((l) => l.startsWith("Static files:"))).toMatch(/^Static files: 3 from the app folder \(without api\/\) \(/);
  });

  it("ferry.json beside vercel.json: ferry.json is read, the log says vercel.json is ignored, neither is served", async () => {
    const run = await buildApp({
      "ferry.json": JSON.stringify({ name: "both" }),
      // not read at all: a key Ferry refuses does not fail the build
      "vercel.json": JSON.stringify({ builds: [{ src: "*.html", use: "@vercel/static" }] }),
      "index.html": "hi",
    });
    expect(staticPaths(run)).toEqual(["index.html"]);
    expect(run.logs[0]).toBe("Using ferry.json (vercel.json is ignored)");
  });
});

describe("a Heroku-style app (Procfile web:)", () => {
  it("runs the web command's file as a server app, whatever else is in the folder, and publishes none of it", async () => {
    const run = await buildApp({
      "Procfile": "web: node app.js\nworker: node worker.js\n",
      "package.json": JSON.stringify({ name: "heroku-app", main: "other.js" }),
      "app.js": HTTP_SERVER,
      "other.js": "throw new Error('not the entry')",
      "index.html": "<p>a page beside it</p>",
    });
    const out = expectSuccess(run);
    expect(out.functions).toHaveLength(1);
    expect(out.functions[0]).toMatchObject({ name: "server", route: "/*path", source: "app.js", handler: "server" });
    expect(out.static).toEqual([]);
    expect(run.logs).toContain("Detected a server app: app.js (Procfile web: node app.js) serves every path");

    // the bundle is the app: run as the runtime runs a server app, with PORT set
    const entry = await materializeFunction(run.blobs, out.functions[0]!);
    expect(await fetchFromServer(entry, "/hello")).toEqual({ status: 200, body: "served by /hello" });
  });

  it("reads $PORT, leading assignments, exec and npm start the way a start script is read", async () => {
    const withPort = await buildApp({ "Procfile": `web: PORT=$PORT exec node --enable-source-maps server/main.js --port \${PORT} --name "a b"`, "server/main.js": HTTP_SERVER });
    // the arguments after the file are kept, ${PORT} for the runtime to fill in; node's flags are not
    expect(expectSuccess(withPort).functions[0]).toMatchObject({ source: "server/main.js", handler: "server", args: ["--port", "${PORT}", "--name", "a b"] });
    expect(withPort.logs).toContain(`Detected a server app: server/main.js (Procfile web: PORT=$PORT exec node --enable-source-maps server/main.js --port \${PORT} --name "a b") serves every path, started with the arguments --port \${PORT} --name "a b"`);

    const npmStart = await buildApp({ "Procfile": "web: npm start", "package.json": JSON.stringify({ scripts: { start: "node srv --mode $PORT" } }), "srv.js": HTTP_SERVER });
    expect(expectSuccess(npmStart).functions[0]).toMatchObject({ source: "srv.js", handler: "server", args: ["--mode", "${PORT}"] });

    // without arguments the output has none, as before
    const plain = await buildApp({ "Procfile": "web: node srv.js", "srv.js": HTTP_SERVER });
    expect(expectSuccess(plain).functions[0]).not.toHaveProperty("args");
  });

  it("fails the build naming the Procfile when its web command cannot be run, rather than publishing the source", async () => {
    const python = await buildApp({ "Procfile": "web: gunicorn app:app", "app.js": HTTP_SERVER });
    expect(python.result.type).toBe("error");
    expect(failure(python)).toMatch(/^Procfile web: gunicorn app:app: the command is not "node <file>"/);

    const missing = await buildApp({ "Procfile": "web: node app.js", "index.html": "hi" });
    expect(failure(missing)).toBe("Procfile web: node app.js: app.js was not found");

    const noStart = await buildApp({ "Procfile": "web: npm start", "package.json": "{}", "app.js": HTTP_SERVER });
    expect(failure(noStart)).toMatch(/package\.json has no "start" script/);
  });
});

const freePort = () =>
  new Promise<number>((resolve) => {
    const s = createServer().listen(0, "127.0.0.1", () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });

async function fetchFromServer(entry: string, path: string) {
  const port = await freePort();
  const child = spawn(process.execPath, ["--enable-source-maps", entry], { env: { PATH: process.env.PATH ?? "", PORT: String(port) }, stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d) => (stderr += d));
  try {
    for (let i = 0; i < 100; i++) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        return { status: res.status, body: await res.text() };
      } catch {
        if (child.exitCode !== null) throw new Error(`server exited: ${stderr}`);
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    throw new Error(`server did not answer: ${stderr}`);
  } finally {
    child.kill("SIGKILL");
  }
}
