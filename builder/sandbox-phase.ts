import { constants } from "node:os";
import type { BuildOutput } from "../core/types.ts";
import type { Mount, Sandbox } from "../sandbox/port.ts";
import { readLines } from "../core/lines.ts";
import { checkErrors, GateViolation, type BlobGate } from "./blob-gate.ts";
import type { BuildPlan } from "./build.ts";
import { limitMessages, type BuildLimits } from "./build-limits.ts";
import { watchDisk } from "./disk-usage.ts";
import { BuildCanceled, UserBuildError, type BuildErrorItem } from "./errors.ts";
import type { BundleLimits } from "./limits.ts";
import type { BuildRequest } from "./port.ts";
import { workerFiles } from "./worker-bundle.ts";
import { frameChannel } from "./frames.ts";
import type { Duplex } from "node:stream";

/** The largest message a build process may send: a function bundle at its limit, or a static
 * file of up to 256 MB, plus room for the envelope. */
const maxMessage = (limits: BundleLimits) => Math.max(limits.maxUnzippedBytes, 256 * 1024 * 1024) + 1024 * 1024;
import { INSIDE, type ParentMessage, type Phase, type WorkerMessage } from "./worker-protocol.ts";

export interface PhaseOptions {
  phase: Phase;
  req: BuildRequest;
  plan: BuildPlan;
  sandbox: Sandbox;
  gate: BlobGate;
  workDir: string;
  /** the account's folder the sandbox may write (npm's cache); null when nothing will run */
  tenantCache: string | null;
  limits: BuildLimits;
  bundleLimits: BundleLimits;
  /** when the whole build must be over (ms since the epoch) */
  deadline: number;
  /** MB the account's cache folder held when the build began (its growth counts against the disk limit) */
  cacheBaseMb: number;
  log: (line: string) => void;
  signal?: AbortSignal;
  /** the workspace being written: the process starts now and is told to begin once it settles
   * (a failure stops the process and is what runPhase throws) */
  ready?: Promise<void>;
}

const MAX_LOG_LINE = 16 * 1024;

type Outcome = { kind: "done"; output: unknown } | { kind: "failed"; errors: BuildErrorItem[] } | { kind: "internal"; message: string; stack?: string };

/** A fault the build process reported (its stack is for the build log, its message for the result). */
export class WorkerFault extends Error {
  constructor(message: string, readonly detail: string | undefined) {
    super(message);
    this.name = "WorkerFault";
  }
}
type Stop = { kind: "canceled" } | { kind: "prepare"; error: unknown } | { kind: "time" } | { kind: "disk"; usedMb: number } | { kind: "violation"; message: string };

/**
 * Runs one phase of a build (the install, or everything after it) in the sandbox and waits until
 * every process of it has ended. The sandbox sees the workspace at /workspace (read-only when no
 * command runs), the account's cache folder at /cache, the bundled worker and esbuild. Returns the
 * checked output (build phase) or null (install); throws UserBuildError for the app's failures and
 * for a limit it ran into, BuildCanceled, or another Error for a fault of the platform.
 */
export async function runPhase(o: PhaseOptions): Promise<BuildOutput | null> {
  const prepared = (o.ready ?? Promise.resolve()).then(() => null, (error: unknown) => ({ error }));
  try {
    return await runProcess(o, prepared);
  } finally {
    // the workspace is never written after the phase ends
    await prepared;
  }
}

async function runProcess(o: PhaseOptions, prepared: Promise<{ error: unknown } | null>): Promise<BuildOutput | null> {
  const remaining = o.deadline - Date.now();
  if (remaining <= 0) throw new UserBuildError(limitMessages.time(o.limits));
  const files = await workerFiles();
  const writable = !o.plan.link;
  const mounts: Mount[] = [
    { source: o.workDir, target: INSIDE.workspace, writable },
    { source: files.worker, target: INSIDE.worker },
    { source: files.esbuild, target: INSIDE.esbuild },
  ];
  const env: Record<string, string> = { PATH: "/usr/local/bin:/usr/bin:/bin", HOME: "/tmp", ESBUILD_BINARY_PATH: INSIDE.esbuild, FERRY_WORKSPACE: INSIDE.workspace };
  if (o.tenantCache) {
    mounts.push({ source: o.tenantCache, target: INSIDE.cache, writable: true });
    env.FERRY_NPM_CACHE = `${INSIDE.cache}/npm`;
  }
  const disk = writable ? [o.workDir, ...(o.tenantCache ? [o.tenantCache] : [])] : [];

  const sb = o.sandbox.spawn({
    name: `build-${o.req.deploymentId}-${o.phase}`,
    command: process.execPath,
    args: [INSIDE.worker],
    cwd: INSIDE.workspace,
    env,
    mounts,
    limits: { memoryMb: o.limits.memoryMb, pids: o.limits.pids, tmpMb: o.limits.tmpMb },
    // fd 3: framed messages (frames.ts), not Node IPC, so no message is read whole whatever its size
    stdio: ["ignore", "pipe", "pipe", "pipe"],
  });
  const { proc } = sb;
  const log = (line: string) => o.log(line.length > MAX_LOG_LINE ? line.slice(0, MAX_LOG_LINE) : line);
  readLines(proc.stdout!, log);
  readLines(proc.stderr!, log);

  let outcome: Outcome | null = null;
  let stop: Stop | null = null;
  const halt = (why: Stop) => {
    stop ??= why;
    sb.kill();
  };
  const onAbort = () => halt({ kind: "canceled" });
  o.signal?.addEventListener("abort", onAbort, { once: true });
  const timer = setTimeout(() => halt({ kind: "time" }), remaining);
  const watch = disk.length ? watchDisk(disk, { everyMs: o.limits.diskCheckMs, limitMb: o.limits.diskMb, baseMb: o.cacheBaseMb, onOver: (usedMb) => halt({ kind: "disk", usedMb }) }) : null;

  const channel = frameChannel<WorkerMessage, ParentMessage>(proc.stdio[3] as Duplex, {
    maxBytes: maxMessage(o.bundleLimits),
    onMessage: (msg) => handle(msg),
    onError: (e) => halt({ kind: "violation", message: `the build process broke its channel to the platform: ${e.message}` }),
  });
  const reply = (msg: ParentMessage) => void channel.send(msg);
  const handle = (raw: unknown): Promise<void> | void => {
    const msg = raw as WorkerMessage;
    if (stop || outcome || !msg || typeof msg !== "object") return;
    switch (msg.type) {
      case "log":
        if (typeof msg.line === "string") log(msg.line);
        return;
      case "blob": {
        const id = msg.id;
        const kind: unknown = msg.op;
        const op =
          msg.op === "put"
            ? o.gate.put(String(msg.key), msg.bytes).then(() => undefined)
            : msg.op === "get"
              ? o.gate.get(String(msg.key))
              : Promise.reject(new GateViolation(`the build process asked for the blob operation ${JSON.stringify(kind)}`));
        // the next message is read once this one is done: a flood of puts waits in the sandbox
        return op.then(
          (bytes) => reply({ type: "blob-reply", id, ok: true, bytes }),
          (e: Error) => {
            if (e instanceof GateViolation) halt({ kind: "violation", message: e.message });
            reply({ type: "blob-reply", id, ok: false, error: e.message });
          },
        );
      }
      case "done":
        outcome = { kind: "done", output: msg.output };
        return;
      case "failed":
        outcome = { kind: "failed", errors: msg.errors };
        return;
      case "internal":
        outcome = { kind: "internal", message: String(msg.message), stack: typeof msg.stack === "string" ? msg.stack : undefined };
        return;
    }
  };

  const start: ParentMessage = { type: "start", phase: o.phase, request: o.req, plan: o.plan, limits: o.bundleLimits };
  void prepared.then((failed) => (failed ? halt({ kind: "prepare", error: failed.error }) : stop || reply(start)));

  const exit = await new Promise<{ code: number | null; signal: NodeJS.Signals | null; error?: Error }>((resolve) => {
    proc.once("error", (error) => resolve({ code: null, signal: null, error }));
    proc.once("exit", (code, signal) => {
      // the last messages and output lines come before `close`; the timer covers a pipe held open
      const t = setTimeout(() => resolve({ code, signal }), 2000);
      proc.once("close", () => {
        clearTimeout(t);
        resolve({ code, signal });
      });
    });
  });
  clearTimeout(timer);
  watch?.stop();
  o.signal?.removeEventListener("abort", onAbort);
  // nothing of the build may outlive it; after this the workspace holds still
  sb.kill();
  const hit = sb.limitHit();
  sb.dispose();

  const stopped = stop as Stop | null;
  const result = outcome as Outcome | null;
  if (stopped?.kind === "canceled") throw new BuildCanceled();
  if (stopped?.kind === "prepare") throw stopped.error;
  if (stopped?.kind === "violation") throw new GateViolation(stopped.message);
  if (stopped?.kind === "time") throw new UserBuildError(limitMessages.time(o.limits));
  if (stopped?.kind === "disk") throw new UserBuildError(limitMessages.disk(o.limits, stopped.usedMb));
  if (exit.error) throw new Error(`could not start the build process: ${exit.error.message}`);
  if (result?.kind === "done") {
    if (hit) log(`Warning: a process of the build was stopped by the ${hit.limit === "memory" ? `memory limit of ${o.limits.memoryMb} MB` : `process limit of ${o.limits.pids}`}`);
    return o.phase === "build" ? o.gate.checkOutput(result.output) : null;
  }
  const limit = hit ? [{ message: hit.limit === "memory" ? limitMessages.memory(o.limits) : limitMessages.pids(o.limits) }] : [];
  if (result?.kind === "failed") throw new UserBuildError([...limit, ...checkErrors(result.errors)]);
  if (limit.length) throw new UserBuildError(limit);
  if (result?.kind === "internal") throw new WorkerFault(result.message, result.stack);
  const { code, signal } = describeExit(exit.code, exit.signal, o.sandbox.status.mode === "bwrap");
  throw new UserBuildError(`build process exited unexpectedly (code ${code} / signal ${signal})`);
}

/** bwrap reports a program killed by a signal as exit code 128 + the signal's number. */
function describeExit(code: number | null, signal: NodeJS.Signals | null, bwrap: boolean): { code: number | null; signal: string | null } {
  if (bwrap && code !== null && code > 128) {
    const name = Object.entries(constants.signals).find(([, n]) => n === code - 128)?.[0];
    if (name) return { code: null, signal: name };
  }
  return { code, signal };
}
