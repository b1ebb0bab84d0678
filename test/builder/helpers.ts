import { spawn } from "node:child_process";
import { mkdtemp, mkdir, readdir, readFile, rm, stat, symlink, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, sep } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { blobKeys, type BlobStore } from "../../core/blobs/port.ts";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import { parseFerryConfig, type FerryConfig } from "../../core/config/schema.ts";
import { sha1 } from "../../core/ids.ts";
import type { BuildResult, BuiltFunction, FileEntry } from "../../core/types.ts";
import { build as defaultBuild } from "../../builder/build.ts";
import type { Builder, BuildRequest } from "../../builder/port.ts";

export const REPO = join(dirname(fileURLToPath(import.meta.url)), "..", "..");
export const fixture = (name: string) => join(REPO, "test", "fixtures", "builder", name);
export const example = (name: string) => join(REPO, "examples", name);
export const ACCOUNT = "acc_test";

const cleanups: string[] = [];
export async function tempDir(prefix = "ferry-builder-"): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  cleanups.push(dir);
  return dir;
}
export async function cleanupTempDirs() {
  await Promise.all(cleanups.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Uploads a folder the way the CLI does (every file but node_modules), returning the file list. */
export async function uploadDir(dir: string, blobs: BlobStore, accountId = ACCOUNT): Promise<FileEntry[]> {
  const out: FileEntry[] = [];
  const walk = async (d: string) => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) {
        if (e.name !== "node_modules") await walk(p);
        continue;
      }
      const bytes = await readFile(p);
      const sha = sha1(bytes);
      await blobs.put(blobKeys.file(accountId, sha), bytes);
      out.push({ file: relative(dir, p).split(sep).join("/"), sha, size: bytes.length, mode: (await stat(p)).mode });
    }
  };
  await walk(dir);
  return out.sort((a, b) => (a.file < b.file ? -1 : 1));
}

export interface BuildRun {
  result: BuildResult;
  logs: string[];
  blobs: BlobStore;
  blobRoot: string;
  workDir: string;
  cacheDir: string;
  request: BuildRequest;
}

export interface BuildDirOptions {
  builder?: Builder;
  buildEnv?: Record<string, string>;
  cacheDir?: string;
  /** resolve bare imports from this repo's node_modules (for packages the test must not download) */
  linkRepoNodeModules?: boolean;
  signal?: AbortSignal;
}

/** Uploads `dir` to a fresh fs blob store and builds it in-process. */
export async function buildDir(dir: string, opts: BuildDirOptions = {}): Promise<BuildRun> {
  const blobRoot = await tempDir("ferry-blobs-");
  const blobs = createFsBlobStore(blobRoot);
  const files = await uploadDir(dir, blobs);
  const workDir = join(await tempDir("ferry-work-"), "app");
  const cacheDir = opts.cacheDir ?? (await tempDir("ferry-cache-"));
  if (opts.linkRepoNodeModules) {
    await mkdir(workDir, { recursive: true });
    await symlink(join(REPO, "node_modules"), join(workDir, "node_modules"));
  }
  const configFile = files.find((f) => f.file === "ferry.json");
  const config: FerryConfig = configFile ? parseFerryConfig(await readFile(join(dir, "ferry.json"), "utf8")) : {};
  const request: BuildRequest = { deploymentId: `dpl_${Math.random().toString(36).slice(2, 10)}`, accountId: ACCOUNT, project: "test", files, config, buildEnv: opts.buildEnv ?? {} };
  const logs: string[] = [];
  const result = await (opts.builder ?? defaultBuild)(request, { blobs, log: (l) => logs.push(l), workDir, cacheDir, signal: opts.signal });
  return { result, logs, blobs, blobRoot, workDir, cacheDir, request };
}

export function expectSuccess(run: BuildRun) {
  if (run.result.type !== "success") throw new Error(`build failed: ${JSON.stringify(run.result.errors, null, 2)}\n${run.logs.join("\n")}`);
  return run.result.output;
}

/** Writes a function's folder (its bundle in `artifact.dir`, the files shipped beside it) into a fresh folder, as a function host does; returns the entry's path. */
export async function materializeFunction(blobs: BlobStore, fn: BuiltFunction): Promise<string> {
  const dir = await tempDir("ferry-fn-");
  const place = (f: string) => join(dir, fn.artifact.dir ?? "", f);
  const files = [...fn.artifact.files.map((f) => ({ key: `${fn.artifact.prefix}/${f}`, to: place(f) })), ...(fn.artifact.assets ?? []).map((a) => ({ key: a.key, to: join(dir, a.path) }))];
  for (const { key, to } of files) {
    const bytes = await blobs.get(key);
    if (!bytes) throw new Error(`missing artifact file ${key}`);
    await mkdir(dirname(to), { recursive: true });
    await writeFile(to, bytes);
  }
  return place(fn.artifact.entry);
}

export interface NodeRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `node <args>` in a clean child process (not through the test runner's module loader). */
export function runNode(args: string[], opts: { cwd?: string; env?: Record<string, string>; input?: string } = {}): Promise<NodeRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: opts.cwd, env: { PATH: process.env.PATH ?? "", ...opts.env }, stdio: ["pipe", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr += d));
    child.on("error", reject);
    child.on("close", (code) => resolve({ code, stdout, stderr }));
    child.stdin.end(opts.input ?? "");
  });
}

/**
 * Imports a built function in a child node process and calls its handler the way a bootstrap
 * would (Web handler, `fetch` object, named method export, or Node `(req, res)`); prints the
 * response as JSON `{ status, body }`.
 */
export async function invokeBuilt(entry: string, url: string, init: { method?: string; body?: string } = {}): Promise<{ status: number; body: string; stderr: string }> {
  const script = `
    import { createServer } from "node:http";
    const mod = await import(${JSON.stringify(pathToFileURL(entry).href)});
    const init = ${JSON.stringify(init)};
    const req = new Request(${JSON.stringify(url)}, init);
    let res;
    const d = mod.default;
    if (typeof d === "function" && d.length >= 2) {
      const server = createServer(d);
      await new Promise((r) => server.listen(0, "127.0.0.1", r));
      const u = new URL(${JSON.stringify(url)});
      res = await fetch("http://127.0.0.1:" + server.address().port + u.pathname + u.search, init);
      server.close();
    } else if (typeof d === "function") res = await d(req);
    else if (d && typeof d.fetch === "function") res = await d.fetch(req);
    else res = await mod[req.method](req);
    console.log(JSON.stringify({ status: res.status, body: await res.text() }));
  `;
  const r = await runNode(["--enable-source-maps", "--input-type=module", "-"], { input: script });
  if (r.code !== 0) return { status: -1, body: "", stderr: r.stderr };
  return { ...(JSON.parse(r.stdout.trim().split("\n").pop()!) as { status: number; body: string }), stderr: r.stderr };
}

export interface PreparedChildBuild {
  req: BuildRequest;
  blobs: BlobStore;
  blobRoot: string;
  /** folder holding the workspace and the cache (the test's stand-in for FERRY_HOME) */
  home: string;
  opts: { blobSpec: string; workDir: string; cacheDir: string };
}

/** An app folder (or files written on the fly) uploaded to a fresh fs blob store, ready for `runBuildInChild`. */
export async function prepareChild(files: Record<string, string> | string, o: { buildEnv?: Record<string, string>; accountId?: string; home?: string; blobRoot?: string; cacheDir?: string; deploymentId?: string } = {}): Promise<PreparedChildBuild> {
  let dir: string;
  if (typeof files === "string") dir = files;
  else {
    dir = await tempDir("ferry-app-");
    for (const [name, text] of Object.entries(files)) {
      await mkdir(dirname(join(dir, name)), { recursive: true });
      await writeFile(join(dir, name), text);
    }
  }
  const home = o.home ?? (await tempDir("ferry-home-"));
  const blobRoot = o.blobRoot ?? join(home, "blobs");
  const blobs = createFsBlobStore(blobRoot);
  const accountId = o.accountId ?? ACCOUNT;
  const uploaded = await uploadDir(dir, blobs, accountId);
  const configText = uploaded.some((f) => f.file === "ferry.json") ? await readFile(join(dir, "ferry.json"), "utf8") : "{}";
  const deploymentId = o.deploymentId ?? `dpl_${Math.random().toString(36).slice(2, 10)}`;
  const req: BuildRequest = { deploymentId, accountId, project: "child", files: uploaded, config: parseFerryConfig(configText), buildEnv: o.buildEnv ?? {} };
  const workDir = join(home, "builds", `${deploymentId}-w`);
  return { req, blobs, blobRoot, home, opts: { blobSpec: `fs:${blobRoot}`, workDir, cacheDir: o.cacheDir ?? join(home, "cache", "builds") } };
}
