import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { readFileSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { request } from "node:http";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");

export interface RunningPlatform {
  home: string;
  apiUrl: string;
  routerUrl: string;
  domain: string;
  token: string;
  proc: ChildProcess;
  output: () => string;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** The node flags `npm start` gives the platform (package.json's start script), read from there
 * so that a compiled platform here runs exactly as a user's does. */
function startFlags(): string[] {
  const start = (JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { scripts: { start: string } }).scripts.start;
  const m = /exec node ((?:--\S+ )*)dist\/server\.mjs/.exec(start);
  if (!m) throw new Error(`package.json's start script no longer runs "exec node [flags] dist/server.mjs": ${start}`);
  return m[1]!.split(" ").filter(Boolean);
}

/**
 * Starts the embedded platform in its own process, on free ports: from the sources (tests see
 * every edit at once), or with `compiled` from dist/ exactly as `npm start` runs it (benchmarks
 * measure what a user runs; the bundle is brought up to date first).
 */
export async function startPlatformProcess(opts: { home?: string; env?: Record<string, string>; compiled?: boolean; /** e.g. --cpu-prof for a benchmark profile */ nodeArgs?: string[] } = {}): Promise<RunningPlatform> {
  const home = opts.home ?? (await mkdtemp(join(tmpdir(), "ferry-home-")));
  if (opts.compiled) {
    const build = spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs"), "server"], { encoding: "utf8" });
    if (build.status !== 0) throw new Error(`building dist/server.mjs failed:\n${build.stderr}`);
  }
  const entry = opts.compiled ? [...startFlags(), join(ROOT, "dist/server.mjs")] : ["--import", "tsx", join(ROOT, "server/main.ts")];
  const proc = spawn(process.execPath, [...(opts.nodeArgs ?? []), ...entry], {
    cwd: ROOT,
    env: { ...process.env, FERRY_HOME: home, FERRY_API_PORT: "0", FERRY_ROUTER_PORT: "0", FERRY_DOMAIN: "localhost", ...opts.env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  proc.stdout!.on("data", (d) => (out += d));
  proc.stderr!.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => proc.once("exit", (code) => r(code)));

  const deadline = Date.now() + 60_000;
  type Info = { apiUrl: string; routerUrl: string; domain: string; pid: number };
  let info: Info | null = null;
  while (!info) {
    if (proc.exitCode !== null) throw new Error(`platform exited early (${proc.exitCode}):\n${out}`);
    if (Date.now() > deadline) {
      proc.kill("SIGKILL");
      throw new Error(`platform did not start in time:\n${out}`);
    }
    const raw = await readFile(join(home, "server.json"), "utf8").catch(() => null);
    const parsed: Info | null = raw ? (JSON.parse(raw) as Info) : null;
    if (parsed?.pid === proc.pid) info = parsed;
    else await new Promise((r) => setTimeout(r, 100));
  }
  const creds = JSON.parse(await readFile(join(home, "credentials.json"), "utf8")) as { token: string };
  return {
    home,
    ...info,
    token: creds.token,
    proc,
    output: () => out,
    async stop(signal = "SIGTERM") {
      if (proc.exitCode !== null) return proc.exitCode;
      proc.kill(signal);
      const t = setTimeout(() => proc.kill("SIGKILL"), 15_000);
      const code = await exited;
      clearTimeout(t);
      return code;
    },
  };
}

export const removeHome = (home: string) => rm(home, { recursive: true, force: true });

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the real `ferry` bin as a child process. */
export function runFerryProcess(args: string[], opts: { env?: Record<string, string>; cwd?: string; input?: string | Buffer; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolvePromise, reject) => {
    const proc = spawn(process.execPath, [join(ROOT, "bin/ferry.mjs"), ...args], {
      cwd: opts.cwd ?? ROOT,
      env: { ...process.env, FERRY_API_URL: "", FERRY_TOKEN: "", ...opts.env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    proc.stdout.on("data", (d) => (stdout += d));
    proc.stderr.on("data", (d) => (stderr += d));
    const timer = setTimeout(() => {
      proc.kill("SIGKILL");
      reject(new Error(`ferry ${args.join(" ")} timed out\nstdout: ${stdout}\nstderr: ${stderr}`));
    }, opts.timeoutMs ?? 180_000);
    proc.on("error", reject);
    proc.on("exit", (code) => {
      clearTimeout(timer);
      resolvePromise({ code, stdout, stderr });
    });
    proc.stdin.end(opts.input ?? "");
  });
}

export interface HttpResult {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
  text: string;
}

/** An HTTP request to the router with an explicit Host header (fetch forbids setting Host). */
export function requestVia(baseUrl: string, host: string, path: string, opts: { method?: string; headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<HttpResult> {
  const url = new URL(path, baseUrl);
  return new Promise((resolvePromise, reject) => {
    const req = request(
      { hostname: url.hostname, port: url.port, path: url.pathname + url.search, method: opts.method ?? "GET", headers: { host, ...opts.headers } },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => {
          const body = Buffer.concat(chunks);
          resolvePromise({ status: res.statusCode ?? 0, headers: res.headers, body, text: body.toString("utf8") });
        });
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`request to ${host}${path} timed out`)));
    req.end(opts.body);
  });
}

/** `http://hello-abc.localhost:1234/x` -> Host header value and path, for requestVia. */
export function hostOf(url: string) {
  const u = new URL(url);
  return u.host;
}
