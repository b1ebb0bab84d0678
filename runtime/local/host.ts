import { chown, mkdir, mkdtemp, readdir, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { BlobStore } from "../../core/blobs/port.ts";
import { FerryError, isFerryError } from "../../core/errors.ts";
import type { FunctionHost, FunctionTarget, InvokeContext } from "../port.ts";
import { Instance } from "./instance.ts";
import type { LogSink } from "./logs.ts";
import { createMaterializer, entryPath } from "./materialize.ts";
import { FunctionPool } from "./pool.ts";
import type { Sandbox } from "../../sandbox/port.ts";
import { defaultSandbox } from "../../sandbox/default.ts";
import { flattenHeaders, flattenRawHeaders, forward, forwardToNode, hostOf, pathOf, type ExchangeOwner } from "./proxy.ts";
import { DEFAULT_BODY_TIMEOUT_MS, DEFAULT_MAX_BODY_BYTES, receiveBody, type BodyLimits } from "./body.ts";

export interface LocalHostOptions {
  blobs: BlobStore;
  /** where bundles are written before they run */
  cacheDir: string;
  /** stop instances idle this long (scale to zero); default 5 minutes */
  idleTimeoutMs?: number;
  /** default 4 */
  maxInstancesPerFunction?: number;
  /** how long a new instance may take to become ready; default 10 s */
  startTimeoutMs?: number;
  /** instances of one deployment, all its functions together; default 16 */
  maxInstancesPerDeployment?: number;
  /** instances on this machine, all deployments together; default 64 */
  maxInstancesTotal?: number;
  /** processes and threads one instance may have; default 128 */
  maxProcessesPerInstance?: number;
  /** the largest request body a function is sent (it is received whole first); default 6 MB,
   * Lambda's payload limit. Functions with `streamingBody` are not held to it. */
  maxRequestBodyBytes?: number;
  /** how long a request body may take to arrive in all; default 30 s */
  requestBodyTimeoutMs?: number;
  /** where tenant code runs; default: the platform's sandbox (bubblewrap + cgroups) */
  sandbox?: Sandbox;
  onLog?: LogSink;
}

// used when a build output predates a setting; the builder normally fills all three
const DEFAULTS = { memory: 1024, maxDuration: 30, maxConcurrency: 10 };

/** Runs functions as pooled, reused child processes on this machine. */
export function createLocalHost(opts: LocalHostOptions): FunctionHost {
  const idleMs = opts.idleTimeoutMs ?? 5 * 60_000;
  const maxInstances = opts.maxInstancesPerFunction ?? 4;
  const perDeployment = opts.maxInstancesPerDeployment ?? 16;
  const total = opts.maxInstancesTotal ?? 64;
  const sandbox = opts.sandbox ?? defaultSandbox();
  const materializer = createMaterializer(opts.blobs, opts.cacheDir);
  const onLog = opts.onLog;
  const bodyLimits: BodyLimits = {
    maxBytes: positive(opts.maxRequestBodyBytes, DEFAULT_MAX_BODY_BYTES),
    timeoutMs: positive(opts.requestBodyTimeoutMs, DEFAULT_BODY_TIMEOUT_MS),
  };
  /** deploymentId -> function name -> pool; two lookups, no key string built per request */
  const pools = new Map<string, Map<string, FunctionPool>>();
  let closed = false;
  // functions' Unix sockets: a short path (socket paths are limited to ~100 bytes, FERRY_HOME may
  // be deep) in a folder mkdtemp creates private to this user. Leftovers of killed platforms are
  // swept from the start, so the first cold start does not wait for it.
  const swept = sweepStaleSocketDirs();
  let sockets: Promise<string> | null = null;
  let instanceSeq = 0;
  const socketDir = () => (sockets ??= swept.then(() => mkdtemp(join(tmpdir(), `${SOCKET_DIR_PREFIX}${process.pid}-`))));

  const reaper = setInterval(() => {
    const now = Date.now();
    for (const [dep, byFn] of pools) {
      for (const [name, pool] of byFn) {
        // a refused fork does not end an instance: its log line is written from here
        for (const inst of pool.instances) inst.checkLimits();
        pool.reap(now, idleMs);
        if (pool.idle) byFn.delete(name);
      }
      if (!byFn.size) pools.delete(dep);
    }
  }, Math.min(Math.max(idleMs / 4, 10), 5_000));
  reaper.unref();

  function poolFor(target: FunctionTarget): FunctionPool {
    let byFn = pools.get(target.deploymentId);
    if (!byFn) pools.set(target.deploymentId, (byFn = new Map()));
    let pool = byFn.get(target.fn.name);
    if (!pool) {
      const fn = target.fn;
      const concurrency = positive(fn.config?.maxConcurrency, DEFAULTS.maxConcurrency);
      const create = async () => {
        if (closed) throw new FerryError("host_closed", "the function host is shut down", 503);
        const dir = await materializer.ensure(target.deploymentId, fn);
        const n = ++instanceSeq;
        // the instance's own folder, bound at /run/ferry: it listens there, and sees no other's
        const runDir = join(await socketDir(), String(n));
        await mkdir(runDir, { mode: 0o700 });
        if (sandbox.owner) await chown(runDir, sandbox.owner.uid, sandbox.owner.gid);
        return new Instance(
          {
            deploymentId: target.deploymentId,
            fnName: fn.name,
            kind: fn.handler,
            dir,
            entry: entryPath(fn),
            args: fn.args,
            memoryMb: positive(fn.config?.memory, DEFAULTS.memory),
            concurrency,
            env: target.env,
            startTimeoutMs: opts.startTimeoutMs ?? 10_000,
            maxProcesses: opts.maxProcessesPerInstance ?? 128,
            onLog,
          },
          runDir,
          sandbox,
          `${target.deploymentId}-${n}`,
        );
      };
      const room = () => capacity(target.deploymentId);
      byFn.set(fn.name, (pool = new FunctionPool(create, concurrency, maxInstances, room)));
    }
    return pool;
  }

  const liveIn = (byFn: Map<string, FunctionPool> | undefined) => {
    let n = 0;
    for (const pool of byFn?.values() ?? []) n += pool.size;
    return n;
  };

  /**
   * Whether one more instance of a deployment may start: under its own cap and the machine's, so
   * one app cannot take every core and all memory. At a cap the instance idle longest (of that
   * deployment, or of any at the machine's cap) makes room; with none idle the start is refused.
   */
  function capacity(deploymentId: string): FerryError | null {
    const own = pools.get(deploymentId);
    if (liveIn(own) >= perDeployment && !stopIdlest(own ? [own] : [])) {
      return new FerryError("deployment_instance_limit", `deployment ${deploymentId} already runs its maximum of ${perDeployment} instances, all busy`, 503);
    }
    let all = 0;
    for (const byFn of pools.values()) all += liveIn(byFn);
    if (all < total || stopIdlest([...pools.values()])) return null;
    return new FerryError("platform_at_capacity", `this platform already runs its maximum of ${total} function instances, all busy`, 503);
  }

  function stopIdlest(groups: Map<string, FunctionPool>[]): boolean {
    let idlest: { pool: FunctionPool; at: number } | null = null;
    for (const byFn of groups) {
      for (const pool of byFn.values()) {
        for (const inst of pool.instances) {
          if (inst.state === "ready" && inst.inflight === 0 && (!idlest || inst.lastUsed < idlest.at)) idlest = { pool, at: inst.lastUsed };
        }
      }
    }
    return !!idlest && idlest.pool.reap(Date.now(), Date.now() - idlest.at) > 0;
  }

  // not async: on the warm path the Response promise comes straight from the exchange
  function invoke(target: FunctionTarget, request: Request, ctx: InvokeContext): Promise<Response> {
    if (closed) return Promise.reject(new FerryError("host_closed", "the function host is shut down", 503));
    const pool = poolFor(target);
    const method = request.method;
    if (method !== "GET" && method !== "HEAD" && target.fn.config?.streamingBody !== true) {
      // the body first, then an instance: a slow sender must not hold a slot while it trickles in
      const received = Date.now();
      return receiveBody(request, ctx.incoming, bodyLimits).then(
        (body) => {
          const inst = pool.tryAcquire();
          if (inst) return send(pool, inst, target, request, ctx, body);
          return pool.acquire().then((i) => send(pool, i, target, request, ctx, body), noInstance(target, ctx, method, request, received));
        },
        (err: FerryError) => {
          logRequest(target, ctx, method, ctx.path ?? pathOf(request.url), err.status, received, err.message);
          // a visitor who left is owed nothing: no answer is written to the closed connection
          if (err.status === 499 && ctx.outgoing && ctx.sent) return ctx.sent;
          throw err;
        },
      );
    }
    const inst = pool.tryAcquire();
    if (inst) return send(pool, inst, target, request, ctx, undefined);
    return pool.acquire().then((i) => send(pool, i, target, request, ctx, undefined), noInstance(target, ctx, method, request, Date.now()));
  }

  /** A request that got no instance (a failed start, a cap) still gets its request log line. */
  function noInstance(target: FunctionTarget, ctx: InvokeContext, method: string, request: Request, start: number) {
    return (err: FerryError): never => {
      logRequest(target, ctx, method, ctx.path ?? pathOf(request.url), isFerryError(err) ? err.status : 502, start, `${isFerryError(err) ? err.code : "function_error"}: ${err.message}`);
      throw err;
    };
  }

  function logRequest(target: FunctionTarget, ctx: InvokeContext, method: string, path: string, status: number, start: number, detail: string | null) {
    onLog?.({
      ts: Date.now(),
      deploymentId: target.deploymentId,
      function: target.fn.name,
      requestId: ctx.requestId,
      stream: "request",
      text: `${method} ${path} ${status}${detail ? ` ${detail}` : ""}`,
      status,
      durationMs: Date.now() - start,
      method,
      path,
    });
  }

  /** `received` is the body when it was received whole beforehand (null: there was none);
   * undefined when it streams from the request (GET and HEAD have none, `streamingBody`). */
  function send(pool: FunctionPool, inst: Instance, target: FunctionTarget, request: Request, ctx: InvokeContext, received: Buffer | null | undefined): Promise<Response> {
    if (!inst.pool) {
      pool.release(inst);
      return Promise.reject(inst.crashError());
    }
    const start = Date.now();
    const method = request.method;
    const path = ctx.path ?? pathOf(request.url);

    const extra = ["x-ferry-request-id", ctx.requestId];
    if (ctx.params) extra.push("x-ferry-params", JSON.stringify(ctx.params));
    if (ctx.headers) for (const k in ctx.headers) extra.push(k, ctx.headers[k]!);
    const bodyless = method === "GET" || method === "HEAD";
    const incoming = ctx.incoming;
    // an absolute-form target names the host itself: the function sees the one routed on
    const headers = incoming
      ? flattenRawHeaders(incoming.rawHeaders, extra, incoming.url?.charCodeAt(0) === 47 ? undefined : hostOf(request.url))
      : flattenHeaders(request.url, request.headers, extra);
    const body = received !== undefined ? received : bodyless ? null : incoming ?? (request.body as AsyncIterable<Uint8Array> | null);

    const call = new Call(pool, inst, target, ctx, method, path, start);
    const maxMs = positive(target.fn.config?.maxDuration, DEFAULTS.maxDuration) * 1000;
    call.timer = setTimeout(timeOut, maxMs, call, maxMs);
    const fwd = { method, path, headers, body, responseHeaders: ctx.responseHeaders };
    // with the Node response at hand, stream into it directly (the warm hot path)
    call.exchange =
      ctx.outgoing && ctx.sent
        ? forwardToNode(inst.pool!, fwd, ctx.outgoing, ctx.sent, call)
        : forward(inst.pool!, fwd, (err) => call.mapError(err), (status, err) => call.settle(status, err));
    return call.exchange.response;
  }

  /** One request on an instance: its maxDuration timer and what happens when it is over. One
   * object per request rather than a closure for each part. */
  class Call implements ExchangeOwner {
    timer: NodeJS.Timeout | undefined;
    timedOut = false;
    exchange: { abort: (err: Error) => void; response: Promise<Response> } | null = null;
    constructor(
      readonly pool: FunctionPool,
      readonly inst: Instance,
      readonly target: FunctionTarget,
      readonly ctx: InvokeContext,
      readonly method: string,
      readonly path: string,
      readonly start: number,
    ) {}

    mapError(err: Error): Promise<FerryError> | FerryError {
      return isFerryError(err) ? err : crashError(this.inst, err);
    }

    settle(status: number, err: Error | null): void {
      clearTimeout(this.timer);
      this.pool.release(this.inst);
      if (!onLog) return;
      const { target, ctx } = this;
      if (err && isFerryError(err) && err.code === "function_invalid_response") {
        onLog({ ts: Date.now(), deploymentId: target.deploymentId, function: target.fn.name, requestId: ctx.requestId, stream: "stderr", text: `[ferry] function ${target.fn.name}: ${err.message}; the visitor got 502` });
      }
      logRequest(target, ctx, this.method, this.path, status || (this.timedOut ? 504 : 502), this.start, err && !status ? err.message : null);
    }
  }

  async function stopDeployment(deploymentId: string, err: FerryError) {
    const byFn = pools.get(deploymentId);
    pools.delete(deploymentId);
    const waits: Promise<unknown>[] = [];
    for (const pool of byFn?.values() ?? []) {
      waits.push(...pool.instances.map((i) => i.exited));
      pool.stop(err);
    }
    await Promise.all(waits);
  }

  return {
    invoke,
    async evict(deploymentId) {
      await stopDeployment(deploymentId, new FerryError("deployment_removed", `deployment ${deploymentId} was removed`, 410));
      await materializer.remove(deploymentId);
    },
    stats() {
      const byDeployment: Record<string, number> = {};
      let instances = 0;
      for (const [dep, byFn] of pools) {
        let n = 0;
        for (const pool of byFn.values()) n += pool.instances.filter((i) => i.state !== "dead").length;
        if (n) byDeployment[dep] = n;
        instances += n;
      }
      return { instances, byDeployment };
    },
    async close() {
      closed = true;
      clearInterval(reaper);
      await Promise.all([...pools.keys()].map((d) => stopDeployment(d, new FerryError("host_closed", "the function host is shut down", 503))));
      await swept;
      if (sockets) await rm(await sockets, { recursive: true, force: true });
    },
  };
}

/** A request past maxDuration fails with 504, and its instance is killed: a hung instance cannot
 * be trusted with the next request. */
function timeOut(call: { timedOut: boolean; target: FunctionTarget; inst: Instance; exchange: { abort: (err: Error) => void } | null }, maxMs: number) {
  call.timedOut = true;
  const { target } = call;
  call.exchange?.abort(new FerryError("function_timeout", `function ${target.fn.name} of deployment ${target.deploymentId} did not finish within maxDuration (${maxMs / 1000} s)`, 504));
  call.inst.kill(`a request exceeded maxDuration (${maxMs / 1000} s)`);
}

const SOCKET_DIR_PREFIX = "ferry-sockets-";

/** Socket folders of platforms that are gone (killed, so never closed): removed, so the temp
 * folder does not collect them. Only a folder whose pid no longer exists is touched. */
async function sweepStaleSocketDirs(): Promise<void> {
  const names = await readdir(tmpdir()).catch(() => [] as string[]);
  for (const name of names) {
    const m = name.startsWith(SOCKET_DIR_PREFIX) ? /^(\d+)-/.exec(name.slice(SOCKET_DIR_PREFIX.length)) : null;
    if (!m || alive(Number(m[1]))) continue;
    await rm(join(tmpdir(), name), { recursive: true, force: true }).catch(() => {});
  }
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: it exists, under another user
    return (e as NodeJS.ErrnoException).code !== "ESRCH";
  }
}

/** The error a visitor sees when the connection to an instance broke: a crash names the exit. */
async function crashError(inst: Instance, err: Error): Promise<FerryError> {
  if (inst.state !== "dead") {
    // the socket usually drops a moment before the exit is reported
    await Promise.race([inst.exited, new Promise((r) => setTimeout(r, 500))]);
  } else await Promise.race([inst.exited, new Promise((r) => setTimeout(r, 200))]);
  if (inst.state === "dead") return inst.crashError();
  return new FerryError("function_error", `function ${inst.spec.fnName} of deployment ${inst.spec.deploymentId} failed: ${err.message}`, 502);
}

function positive(v: number | undefined, fallback: number): number {
  return typeof v === "number" && Number.isFinite(v) && v > 0 ? v : fallback;
}
