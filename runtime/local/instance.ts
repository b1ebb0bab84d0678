import type { ChildProcess } from "node:child_process";
import type { Readable } from "node:stream";
import { rmSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { createRequire } from "node:module";
import { join, sep } from "node:path";
import { Pool } from "undici";
import { FerryError } from "../../core/errors.ts";
import type { HandlerKind } from "../../core/types.ts";
import type { LimitHit, Mount, Sandbox, SandboxedProcess } from "../../sandbox/port.ts";
import { readLines, type LogSink } from "./logs.ts";

/** Where an instance finds things inside its sandbox (Lambda keeps code in /var/task too). */
export const INSIDE = { task: "/var/task", ferry: "/opt/ferry", run: "/run/ferry", socket: "/run/ferry/http.sock" };
const own = (file: string) => fileURLToPath(new URL(file, import.meta.url));
/** the child-side files, each bound read-only; nothing else of the platform's tree is visible */
const CHILD_FILES: Mount[] = [
  ...["bootstrap.mjs", "child-helpers.mjs", "server-preload.mjs", "vercel-helpers.mjs", "web-lite.mjs"].map((f) => ({ source: own(`./${f}`), target: `${INSIDE.ferry}/${f}` })),
  // the packages vercel-helpers.mjs imports, where Node looks for them from /opt/ferry
  ...["cookie", "content-type"].map((p) => ({ source: packageRoot(p), target: `${INSIDE.ferry}/node_modules/${p}` })),
];

function packageRoot(name: string): string {
  const file = createRequire(import.meta.url).resolve(name);
  const marker = `${sep}node_modules${sep}${name}${sep}`;
  return file.slice(0, file.lastIndexOf(marker) + marker.length - 1);
}

export interface InstanceSpec {
  deploymentId: string;
  fnName: string;
  kind: HandlerKind;
  /** folder holding the materialized bundle */
  dir: string;
  entry: string;
  /** a server app's arguments after its file (BuiltFunction.args) */
  args?: string[];
  memoryMb: number;
  concurrency: number;
  env: Record<string, string>;
  startTimeoutMs: number;
  /** processes and threads of the whole instance */
  maxProcesses: number;
  onLog?: LogSink;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Sandboxes still alive, killed synchronously if the platform exits. */
const live = new Set<SandboxedProcess>();
process.once("exit", () => {
  for (const s of live) s.kill();
});

/**
 * One sandboxed process serving one function, reused across requests: it sees its bundle
 * (read-only), a private /tmp and the system's runtime files, lives in its own pid namespace (so
 * everything it starts ends with it) under memory and process limits, gets only the function's
 * environment, and is reached over a keep-alive connection pool sized to its concurrency.
 */
export class Instance {
  readonly proc: ChildProcess;
  private readonly sandboxed: SandboxedProcess;
  /** the limit the instance ran into, once it has */
  limit: LimitHit | null = null;
  pool: Pool | null = null;
  inflight = 0;
  lastUsed = Date.now();
  state: "starting" | "ready" | "dead" = "starting";
  exitInfo: ExitInfo | null = null;
  lastStderr = "";
  /** V8's fatal heap-limit line, when the process ran out of memory */
  outOfMemory: string | null = null;
  /** why the platform stopped it, when it did (timeout, idle, evict) */
  stopReason: string | null = null;
  readonly ready: Promise<void>;
  readonly exited: Promise<ExitInfo>;

  /**
   * `runDir`: a folder private to this instance (bound at /run/ferry) where it listens on a Unix
   * socket, the function's bootstrap and server apps alike (a server app's listen on PORT is
   * turned into it): nothing else on the machine can reach the instance around the router, no
   * tenant can squat a port another one was promised, and each request costs less than over TCP.
   */
  constructor(readonly spec: InstanceSpec, readonly runDir: string, sandbox: Sandbox, name: string) {
    const memory = `--max-old-space-size=${spec.memoryMb}`;
    const entry = `${INSIDE.task}/${spec.entry}`;
    // server apps: PORT as they expect it (the preload listens on the socket in its place), and
    // their own arguments after the file, so process.argv is [node, entry, ...args] as under `node`
    const port = "3000";
    const args =
      spec.kind === "server"
        ? ["--enable-source-maps", memory, "--import", `${INSIDE.ferry}/server-preload.mjs`, entry, ...(spec.args ?? []).map((a) => a.replaceAll("${PORT}", port))]
        : ["--enable-source-maps", memory, `${INSIDE.ferry}/bootstrap.mjs`, entry, INSIDE.socket];
    const env: Record<string, string> = { NODE_ENV: "production", ...spec.env, PATH: "/usr/local/bin:/usr/bin:/bin", FERRY_CONTROL_FD: "3" };
    if (spec.kind === "server") Object.assign(env, { PORT: port, FERRY_LISTEN_SOCKET: INSIDE.socket });
    this.sandboxed = sandbox.spawn({
      name,
      group: spec.deploymentId,
      command: process.execPath,
      args,
      cwd: INSIDE.task,
      env,
      mounts: [{ source: spec.dir, target: INSIDE.task }, { source: runDir, target: INSIDE.run, writable: true }, ...CHILD_FILES],
      limits: { memoryMb: spec.memoryMb, pids: spec.maxProcesses, openFiles: 1024, tmpMb: 512 },
      // fd 3: the control channel (child-helpers.mjs), a plain socket pair
      stdio: ["ignore", "pipe", "pipe", "pipe"],
    });
    this.proc = this.sandboxed.proc;
    live.add(this.sandboxed);

    const log = spec.onLog;
    readLines(this.proc.stdout!, (text) => log?.({ ts: Date.now(), deploymentId: spec.deploymentId, function: spec.fnName, stream: "stdout", text }));
    readLines(this.proc.stderr!, (text) => {
      // after V8's heap-limit message only native stack frames follow: keep quoting the message
      if (text.includes("heap out of memory")) this.outOfMemory = text.trim();
      if (text.trim()) this.lastStderr = this.outOfMemory ?? text;
      log?.({ ts: Date.now(), deploymentId: spec.deploymentId, function: spec.fnName, stream: "stderr", text });
    });

    this.exited = new Promise((resolve) => {
      this.proc.once("exit", (code, signal) => {
        live.delete(this.sandboxed);
        this.exitInfo = { code, signal };
        this.checkLimits();
        this.sandboxed.dispose();
        rmSync(runDir, { recursive: true, force: true });
        this.state = "dead";
        // stdio may still hold the last lines; give them a moment so crash messages can quote them
        const done = () => resolve(this.exitInfo!);
        if (this.proc.stderr?.readableEnded) done();
        else {
          this.proc.stderr?.once("end", done);
          setTimeout(done, 100).unref();
        }
      });
      this.proc.once("error", (e) => {
        this.lastStderr ||= e.message;
        if (this.state !== "dead") this.proc.emit("exit", null, null);
      });
    });
    this.ready = this.start();
    this.ready.catch((e: FerryError) => {
      // the reason belongs in the function's own log, next to the stderr lines that explain it
      spec.onLog?.({ ts: Date.now(), deploymentId: spec.deploymentId, function: spec.fnName, stream: "stderr", text: `[ferry] function ${spec.fnName} failed to start: ${e.code ?? "function_crashed"}: ${e.message}` });
      this.kill("failed to start");
    });
  }

  private async start(): Promise<void> {
    const who = `function ${this.spec.fnName} of deployment ${this.spec.deploymentId}`;
    const timeout = new Promise<never>((_, reject) => {
      const t = setTimeout(() => reject(new FerryError("function_start_timeout", `${who} did not start within ${this.spec.startTimeoutMs} ms${this.spec.kind === "server" ? ` (it must listen on process.env.PORT)` : ""}`, 502)), this.spec.startTimeoutMs);
      t.unref();
      this.exited.then(() => clearTimeout(t));
    });
    const died = this.exited.then((info) => {
      throw new FerryError("function_crashed", `${who} exited during start (${describeExit(info)})${this.lastStderr ? `: ${this.lastStderr}` : ""}`, 502);
    });
    await Promise.race([this.told(who), timeout, died]);
    if (this.state === "dead") throw new FerryError("function_crashed", `${who} exited during start`, 502);
    // the origin only names the pool; every request carries the visitor's Host header
    this.pool = new Pool("http://localhost", {
      socketPath: join(this.runDir, "http.sock"),
      connections: this.spec.concurrency,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      // maxDuration is enforced by the host; a long stream must not be cut by undici's own timers
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.state = "ready";
  }

  /**
   * The instance's one message on its control channel: ready, or why its bundle cannot load. The
   * channel is tenant-writable, so only one short line is read; after it the platform reads no
   * more (a tenant writing on is only blocked), and more than a line's worth before it is refused.
   */
  private told(who: string): Promise<void> {
    const ch = this.proc.stdio[3] as Readable;
    return new Promise<void>((resolve, reject) => {
      let buf = "";
      const onData = (chunk: Buffer) => {
        buf += chunk.toString("utf8");
        const nl = buf.indexOf("\n");
        if (nl < 0 && buf.length < 4096) return;
        ch.off("data", onData);
        ch.pause();
        let m: { type?: string; message?: unknown } = {};
        try {
          m = JSON.parse(buf.slice(0, nl < 0 ? 0 : nl)) as typeof m;
        } catch {
          /* not ours: refused below */
        }
        if (m.type === "ready") resolve();
        else if (m.type === "error") reject(new FerryError("function_load_failed", `${who} failed to load: ${String(m.message).slice(0, 2000)}`, 502));
        else reject(new FerryError("function_crashed", `${who} wrote something other than its start report on the platform's control channel`, 502));
      };
      ch.on("data", onData);
      ch.on("error", () => {});
    });
  }

  /** Stops the instance and everything it started, now. Idempotent. */
  kill(reason: string) {
    this.stopReason ??= reason;
    if (this.state !== "dead") this.sandboxed.kill();
    this.state = "dead";
    const pool = this.pool;
    this.pool = null;
    pool?.destroy().catch(() => {});
  }

  /** Notes a limit the instance ran into, once, as a log line that names it. */
  checkLimits(): LimitHit | null {
    if (this.limit) return this.limit;
    const hit = this.sandboxed.limitHit();
    if (!hit) return null;
    this.limit = hit;
    const what = hit.limit === "memory" ? `ran out of memory (${hit.message}); the kernel stopped it` : `reached its ${hit.message}: starting another process or thread failed`;
    this.spec.onLog?.({ ts: Date.now(), deploymentId: this.spec.deploymentId, function: this.spec.fnName, stream: "stderr", text: `[ferry] function ${this.spec.fnName} ${what}` });
    return hit;
  }

  /** The visitor-facing error for requests that were in flight when the process went away. */
  crashError(): FerryError {
    const who = `function ${this.spec.fnName} of deployment ${this.spec.deploymentId}`;
    const limit = this.checkLimits();
    if (limit?.limit === "memory") return new FerryError("function_out_of_memory", `${who} ran out of memory (${limit.message})`, 502);
    if (this.stopReason) return new FerryError("function_crashed", `${who} was stopped: ${this.stopReason}`, 502);
    const info = this.exitInfo;
    const oom = this.outOfMemory ? ` (out of memory: limit ${this.spec.memoryMb} MB)` : "";
    return new FerryError(
      this.outOfMemory ? "function_out_of_memory" : limit ? "function_process_limit" : "function_crashed",
      `${who} crashed (${info ? describeExit(info) : "connection lost"})${oom}${this.lastStderr ? `: ${this.lastStderr}` : ""}`,
      502,
    );
  }
}

export function describeExit(info: ExitInfo): string {
  return info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
}

