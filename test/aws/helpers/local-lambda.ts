// A Lambda service on loopback for functions that run on this machine: the invoke APIs run each
// event in a sandbox (Lambda's Node runtime client in a child process + a Runtime API,
// helpers/runtime-api.ts), and, when a control plane is given (moto), every other Lambda API
// call is passed to it while the code and configuration it is handed are kept, so the versions
// and aliases the platform publishes run exactly the zip and environment it published.
//
// - InvokeWithResponseStream (POST /2021-11-15/functions/<n>/response-streaming-invocations)
//   answers in the AWS event stream encoding: a PayloadChunk per chunk the function wrote, as it
//   is written, then InvokeComplete. The real SDK client decodes it.
// - Invoke (POST /2015-03-31/functions/<n>/invocations): RequestResponse answers the result (and
//   X-Amz-Function-Error), Event answers 202 and runs in the background.
// Each function keeps a pool of sandboxes: one event at a time each, a new one when all are busy.
import { execFileSync } from "node:child_process";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { crc32 } from "node:zlib";
import { drain, startRuntimeApi, startSandbox, type Invocation } from "./runtime-api.ts";

/** One event stream message: total and headers lengths, prelude CRC, string headers, payload, CRC. */
export function eventMessage(headers: Record<string, string>, payload: Uint8Array): Buffer {
  const hs = Buffer.concat(
    Object.entries(headers).map(([k, v]) => {
      const name = Buffer.from(k);
      const value = Buffer.from(v);
      const h = Buffer.alloc(1 + name.length + 1 + 2 + value.length);
      h.writeUInt8(name.length, 0);
      name.copy(h, 1);
      h.writeUInt8(7, 1 + name.length); // string
      h.writeUInt16BE(value.length, 2 + name.length);
      value.copy(h, 4 + name.length);
      return h;
    }),
  );
  const total = 12 + hs.length + payload.length + 4;
  const prelude = Buffer.alloc(12);
  prelude.writeUInt32BE(total, 0);
  prelude.writeUInt32BE(hs.length, 4);
  prelude.writeUInt32BE(crc32(prelude.subarray(0, 8)), 8);
  const body = Buffer.concat([prelude, hs, Buffer.from(payload)]);
  const end = Buffer.alloc(4);
  end.writeUInt32BE(crc32(body), 0);
  return Buffer.concat([body, end]);
}

const event = (type: string, contentType: string, payload: Uint8Array) => eventMessage({ ":event-type": type, ":message-type": "event", ":content-type": contentType }, payload);

/** What one function (or one published version of it) runs. */
export interface LocalCode {
  root: string;
  env: Record<string, string>;
  /** module.export, default Ferry's zip entry */
  handler?: string;
}

export interface LocalLambdaOptions {
  /** a Lambda control plane (moto) for every call that is not an invocation */
  controlPlane?: string;
  /** added to every sandbox's environment (endpoints and credentials of the local stand-ins) */
  env?: Record<string, string>;
  /** sandbox output, line by line, for debugging a failing test */
  onOutput?: (name: string, text: string) => void;
}

type Sandbox = { api: Awaited<ReturnType<typeof startRuntimeApi>>; kill: () => void; busy: boolean; output: () => string };

export async function startLocalLambda(opts: LocalLambdaOptions = {}) {
  const work = await mkdtemp(join(tmpdir(), "ferry-local-lambda-"));
  /** `name:qualifier` -> code; a name alone is `$LATEST` (the platform's own functions) */
  const functions = new Map<string, LocalCode>();
  const pools = new Map<string, Sandbox[]>();
  // what the control plane was handed, per function: its current code, versions and aliases
  const latest = new Map<string, { zip?: Buffer; env: Record<string, string> }>();
  const versions = new Map<string, Map<string, { zip: Buffer; env: Record<string, string> }>>();
  const aliases = new Map<string, Map<string, string>>();
  const unpacked = new Map<string, string>();
  const calls: { name: string; qualifier: string | null; event: any }[] = [];
  /** every control-plane request, `METHOD path` */
  const requests: string[] = [];
  const background = new Set<Promise<unknown>>();
  let seq = 0;

  /** The code `name:qualifier` runs: registered, or published through the control plane. */
  async function codeOf(name: string, qualifier: string | null): Promise<LocalCode | null> {
    const key = qualifier && qualifier !== "$LATEST" ? `${name}:${qualifier}` : name;
    const own = functions.get(key);
    if (own) return own;
    const version = qualifier && /^\d+$/.test(qualifier) ? qualifier : qualifier ? aliases.get(name)?.get(qualifier) : undefined;
    const v = version ? versions.get(name)?.get(version) : undefined;
    if (!v) return null;
    const dirKey = `${name}:${version}`;
    let root = unpacked.get(dirKey);
    if (!root) {
      root = join(work, `fn-${++seq}`);
      await mkdir(root, { recursive: true });
      await writeFile(`${root}.zip`, v.zip);
      execFileSync("unzip", ["-q", `${root}.zip`, "-d", root]);
      unpacked.set(dirKey, root);
    }
    return { root, env: { ...v.env, AWS_LAMBDA_FUNCTION_NAME: name, AWS_LAMBDA_FUNCTION_VERSION: version! } };
  }

  /** An idle sandbox of this code, or a new one: one event at a time each, as on Lambda. */
  async function acquire(key: string, code: LocalCode): Promise<Sandbox> {
    const pool = pools.get(key) ?? [];
    pools.set(key, pool);
    const idle = pool.find((s) => !s.busy && !s.api.initError && !s.api.exited);
    if (idle) return ((idle.busy = true), idle);
    const api = await startRuntimeApi();
    const child = startSandbox(code.root, api.address, { ...opts.env, ...code.env }, code.handler);
    if (opts.onOutput) {
      child.stdout!.on("data", (d) => opts.onOutput!(key, String(d)));
      child.stderr!.on("data", (d) => opts.onOutput!(key, String(d)));
    }
    const s: Sandbox = { api, kill: () => child.kill("SIGKILL"), busy: true, output: () => child.output() };
    pool.push(s);
    // a runtime that exits (an unhandled rejection does that) fails its event; the next event
    // gets a new sandbox, as on Lambda
    child.on("exit", (code, signal) => {
      const why = `Runtime exited with error: ${signal ? `signal: ${signal}` : `exit status ${code}`}`;
      opts.onOutput?.(key, `${why}\n`);
      if (pool.includes(s)) pool.splice(pool.indexOf(s), 1);
      s.api.exit(why);
      void s.api.close();
    });
    return s;
  }

  /** Runs one event; the sandbox is free again once its answer has been read to the end. */
  async function run(name: string, qualifier: string | null, payload: unknown): Promise<Invocation | null> {
    const code = await codeOf(name, qualifier);
    if (!code) return null;
    calls.push({ name, qualifier, event: payload });
    const s = await acquire(`${name}:${qualifier ?? "$LATEST"}:${code.root}`, code);
    const inv = await s.api.invoke(payload);
    const events = inv.events;
    inv.events = (async function* () {
      try {
        yield* events;
      } finally {
        s.busy = false;
      }
    })();
    return inv;
  }

  const notFound = (res: ServerResponse, what: string) => {
    res.writeHead(404, { "content-type": "application/json", "x-amzn-errortype": "ResourceNotFoundException" });
    res.end(JSON.stringify({ Type: "User", message: `Function not found: ${what}` }));
  };

  async function invokeStreaming(res: ServerResponse, name: string, qualifier: string | null, payload: unknown) {
    const inv = await run(name, qualifier, payload);
    if (!inv) return notFound(res, `${name}:${qualifier}`);
    res.writeHead(200, { "content-type": String(inv.headers["content-type"] ?? "application/octet-stream"), "x-amz-executed-version": "1" });
    for await (const e of inv.events) {
      if (e.PayloadChunk?.Payload) res.write(event("PayloadChunk", "application/octet-stream", e.PayloadChunk.Payload));
      if (e.InvokeComplete) res.write(event("InvokeComplete", "application/json", Buffer.from(JSON.stringify(e.InvokeComplete))));
    }
    res.end();
  }

  async function invokeBuffered(res: ServerResponse, name: string, qualifier: string | null, payload: unknown, type: string) {
    if (!(await codeOf(name, qualifier))) return notFound(res, `${name}:${qualifier}`);
    if (type === "DryRun") return void res.writeHead(204).end();
    if (type === "Event") {
      // accepted at once; the function runs on, as Lambda's asynchronous invocation does
      const done = run(name, qualifier, payload).then((inv) => inv && drain(inv)).catch(() => {});
      background.add(done);
      void done.finally(() => background.delete(done));
      return void res.writeHead(202, { "content-type": "application/json" }).end();
    }
    const inv = (await run(name, qualifier, payload))!;
    const { body, complete } = await drain(inv);
    res.writeHead(200, { "content-type": "application/json", "x-amz-executed-version": "1", ...(complete?.ErrorCode ? { "x-amz-function-error": "Unhandled" } : {}) });
    res.end(body);
  }

  /** Passes a control-plane call to moto, keeping the code and configuration it carries. */
  async function proxy(req: IncomingMessage, res: ServerResponse, url: URL, body: Buffer) {
    if (!opts.controlPlane) return notFound(res, url.pathname);
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) if (typeof v === "string" && !["host", "content-length", "connection", "transfer-encoding"].includes(k)) headers[k] = v;
    const answer = await fetch(`${opts.controlPlane}${url.pathname}${url.search}`, { method: req.method, headers, body: body.length ? new Uint8Array(body) : undefined });
    const out = Buffer.from(await answer.arrayBuffer());
    if (answer.ok) record(req.method!, url.pathname, body, out);
    const back: Record<string, string> = {};
    answer.headers.forEach((v, k) => {
      if (!["content-length", "content-encoding", "transfer-encoding", "connection"].includes(k)) back[k] = v;
    });
    res.writeHead(answer.status, back).end(out);
  }

  function record(method: string, path: string, body: Buffer, out: Buffer) {
    const json = (b: Buffer) => (b.length ? JSON.parse(b.toString("utf8")) : {});
    const m = /^\/2015-03-31\/functions(?:\/([^/]+)(?:\/(code|configuration|versions|aliases)(?:\/([^/]+))?)?)?$/.exec(path);
    if (!m) return;
    const [, rawName, what, sub] = m;
    const name = rawName ? decodeURIComponent(rawName).replace(/^arn:[^:]+:lambda:[^:]+:\d+:function:/, "") : "";
    const state = () => latest.get(name) ?? (latest.set(name, { env: {} }), latest.get(name)!);
    if (method === "POST" && !rawName) {
      const b = json(body);
      latest.set(b.FunctionName, { zip: Buffer.from(b.Code.ZipFile, "base64"), env: b.Environment?.Variables ?? {} });
    } else if (method === "PUT" && what === "code") state().zip = Buffer.from(json(body).ZipFile, "base64");
    else if (method === "PUT" && what === "configuration" && json(body).Environment) state().env = json(body).Environment.Variables ?? {};
    else if (method === "POST" && what === "versions") {
      const s = state();
      const v = json(out).Version as string;
      const all = versions.get(name) ?? new Map();
      versions.set(name, all);
      if (!all.has(v)) all.set(v, { zip: s.zip!, env: { ...s.env } });
    } else if (what === "aliases" && (method === "POST" || method === "PUT")) {
      const a = json(out) as { Name: string; FunctionVersion: string };
      const all = aliases.get(name) ?? new Map();
      aliases.set(name, all);
      all.set(a.Name ?? sub, a.FunctionVersion);
    } else if (what === "aliases" && method === "DELETE" && sub) aliases.get(name)?.delete(decodeURIComponent(sub));
    else if (method === "DELETE" && !what) {
      latest.delete(name);
      versions.delete(name);
      aliases.delete(name);
    }
  }

  const server = createServer(async (req, res) => {
    try {
      const url = new URL(req.url ?? "/", "http://x");
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const body = Buffer.concat(chunks);
      const streaming = /^\/\d{4}-\d{2}-\d{2}\/functions\/([^/]+)\/response-streaming-invocations$/.exec(url.pathname);
      const buffered = /^\/2015-03-31\/functions\/([^/]+)\/invocations$/.exec(url.pathname);
      const target = streaming ?? buffered;
      if (!target) {
        requests.push(`${req.method} ${url.pathname}`);
        return await proxy(req, res, url, body);
      }
      const name = decodeURIComponent(target[1]!);
      const qualifier = url.searchParams.get("Qualifier");
      const payload = body.length ? JSON.parse(body.toString("utf8")) : {};
      if (streaming) await invokeStreaming(res, name, qualifier, payload);
      else await invokeBuffered(res, name, qualifier, payload, String(req.headers["x-amz-invocation-type"] ?? "RequestResponse"));
    } catch (e) {
      if (!res.headersSent) res.writeHead(500, { "content-type": "application/json", "x-amzn-errortype": "ServiceException" });
      res.end(JSON.stringify({ message: String((e as Error).message) }));
    }
  });
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  return {
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    calls,
    requests,
    /** serves `name:qualifier` (or `name` alone, any qualifier) from an unpacked folder */
    add(name: string, qualifier: string | null, root: string, env: Record<string, string> = {}, handler?: string) {
      functions.set(qualifier ? `${name}:${qualifier}` : name, { root, env, handler });
    },
    /** runs one event to the end in process, as a function URL would hand it over */
    run,
    /** every sandbox's output so far, for a failing test's message */
    output: () => [...pools.entries()].map(([k, p]) => p.map((s) => `--- ${k}\n${s.output()}`).join("\n")).join("\n"),
    /** asynchronous invocations still running */
    idle: async () => {
      while (background.size) await Promise.allSettled([...background]);
    },
    async close() {
      for (const pool of pools.values())
        for (const s of pool) {
          s.kill();
          await s.api.close();
        }
      server.closeAllConnections();
      await new Promise<void>((ok) => server.close(() => ok()));
      await rm(work, { recursive: true, force: true });
    },
  };
}
export type LocalLambda = Awaited<ReturnType<typeof startLocalLambda>>;
