import type { ChildProcess } from "node:child_process";
import { rmSync } from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";
import { join } from "node:path";
import { Pool } from "undici";
import { FerryError } from "../../core/errors.ts";
import type { HandlerKind } from "../../core/types.ts";
import { readLines, type LogSink } from "./logs.ts";
import { waitForPort } from "./ports.ts";
import { killGroup, spawnGroupLeader } from "./spawn-group.ts";

const BOOTSTRAP = fileURLToPath(new URL("./bootstrap.mjs", import.meta.url));
const SERVER_PRELOAD = pathToFileURL(fileURLToPath(new URL("./server-preload.mjs", import.meta.url))).href;

export interface InstanceSpec {
  deploymentId: string;
  fnName: string;
  kind: HandlerKind;
  /** folder holding the materialized bundle */
  dir: string;
  entry: string;
  memoryMb: number;
  concurrency: number;
  env: Record<string, string>;
  startTimeoutMs: number;
  onLog?: LogSink;
}

export interface ExitInfo {
  code: number | null;
  signal: NodeJS.Signals | null;
}

/** Process groups still alive, killed synchronously if the platform exits. */
const live = new Set<number>();
process.once("exit", () => {
  for (const pid of live) killGroup(pid);
});

/**
 * One child process serving one function, reused across requests. It runs in its own process
 * group (so a server app's own children die with it), with only the function's environment,
 * and is reached over a keep-alive connection pool sized to its concurrency.
 */
export class Instance {
  readonly proc: ChildProcess;
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
   * `address`: a server app is told a TCP port (it listens where PORT says); a function's
   * bootstrap listens on a Unix socket in a folder only the platform's user can enter, so nothing
   * else on the machine can reach the instance around the router, and each request costs less
   * than over loopback TCP.
   */
  constructor(readonly spec: InstanceSpec, readonly address: { port: number } | { socket: string }) {
    const memory = `--max-old-space-size=${spec.memoryMb}`;
    const entry = join(spec.dir, spec.entry);
    const args =
      spec.kind === "server"
        ? ["--enable-source-maps", memory, "--import", SERVER_PRELOAD, entry]
        : ["--enable-source-maps", memory, BOOTSTRAP, entry, "socket" in address ? address.socket : ""];
    const env: Record<string, string> = { NODE_ENV: "production", ...spec.env, PATH: process.env.PATH ?? "/usr/local/bin:/usr/bin:/bin" };
    if ("port" in address) env.PORT = String(address.port);
    this.proc = spawnGroupLeader(args, { cwd: spec.dir, env, stdio: ["ignore", "pipe", "pipe", "ipc"] });
    if (this.proc.pid) live.add(this.proc.pid);

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
        if (this.proc.pid) live.delete(this.proc.pid);
        this.exitInfo = { code, signal };
        if ("socket" in address) rmSync(address.socket, { force: true });
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
    this.ready.catch(() => this.kill("failed to start"));
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
    const address = this.address;
    let origin: string;
    let socketPath: string | undefined;
    if ("port" in address) {
      const host = await Promise.race([waitForPort(address.port, () => this.state === "dead"), timeout, died]);
      origin = host.includes(":") ? `http://[${host}]:${address.port}` : `http://${host}:${address.port}`;
    } else {
      await Promise.race([
        new Promise<void>((resolve, reject) => {
          this.proc.on("message", (m: { type?: string; message?: string }) => {
            if (m?.type === "ready") resolve();
            else if (m?.type === "error") reject(new FerryError("function_load_failed", `${who} failed to load: ${m.message}`, 502));
          });
        }),
        timeout,
        died,
      ]);
      // the origin only names the pool; every request carries the visitor's Host header
      origin = "http://localhost";
      socketPath = address.socket;
    }
    if (this.state === "dead") throw new FerryError("function_crashed", `${who} exited during start`, 502);
    this.pool = new Pool(origin, {
      socketPath,
      connections: this.spec.concurrency,
      pipelining: 1,
      keepAliveTimeout: 60_000,
      // maxDuration is enforced by the host; a long stream must not be cut by undici's own timers
      headersTimeout: 0,
      bodyTimeout: 0,
    });
    this.state = "ready";
  }

  /** Stops the process group now. Idempotent. */
  kill(reason: string) {
    this.stopReason ??= reason;
    if (this.proc.pid && this.state !== "dead") killGroup(this.proc.pid);
    this.state = "dead";
    const pool = this.pool;
    this.pool = null;
    pool?.destroy().catch(() => {});
  }

  /** The visitor-facing error for requests that were in flight when the process went away. */
  crashError(): FerryError {
    const who = `function ${this.spec.fnName} of deployment ${this.spec.deploymentId}`;
    if (this.stopReason) return new FerryError("function_crashed", `${who} was stopped: ${this.stopReason}`, 502);
    const info = this.exitInfo;
    const oom = this.outOfMemory ? ` (out of memory: limit ${this.spec.memoryMb} MB)` : "";
    return new FerryError(
      "function_crashed",
      `${who} crashed (${info ? describeExit(info) : "connection lost"})${oom}${this.lastStderr ? `: ${this.lastStderr}` : ""}`,
      502,
    );
  }
}

export function describeExit(info: ExitInfo): string {
  return info.signal ? `signal ${info.signal}` : `exit code ${info.code}`;
}

