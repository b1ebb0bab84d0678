import { createHash } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import { connect, type AddressInfo, type Socket } from "node:net";
import { blobKeys } from "../../core/blobs/port.ts";
import type { Router } from "../../router/app.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { nodeListener } from "../../router/node.ts";
import type { BlobStore } from "../../core/blobs/port.ts";
import type { BuildOutput, BuiltFunction, Deployment, FunctionConfig, HandlerKind, RouteConfig, StaticFile } from "../../core/types.ts";
import type { Resolved } from "../../router/resolver.ts";

/** Stores `content` as a static file of a deployment, content-addressed like uploads. */
export async function staticFile(blobs: BlobStore, path: string, content: string | Buffer, contentType = "text/html; charset=utf-8"): Promise<StaticFile> {
  const sha = createHash("sha1").update(content).digest("hex");
  const key = `files/acct_test/${sha}`;
  await blobs.put(key, content);
  return { path, key, sha, size: Buffer.byteLength(content), contentType };
}

export function deployment(over: Partial<Deployment> = {}): Deployment {
  return {
    id: "dpl_test",
    accountId: "acct_test",
    projectId: "prj_test",
    project: "site",
    host: "site-abc12345",
    state: "READY",
    target: "preview",
    fileCount: 1,
    config: {},
    inputHash: "x",
    createdAt: 1,
    updatedAt: 1,
    ...over,
  } as Deployment;
}

export function output(files: StaticFile[], functions: BuiltFunction[] = [], routes: RouteConfig = {}): BuildOutput {
  return { version: 1, static: files, functions, routes };
}

/** A resolve() over a fixed table of labels. */
export function fakeResolve(table: Record<string, Resolved>) {
  return async (label: string) => table[label] ?? null;
}

export const ready = (out: BuildOutput, over: Partial<Deployment> = {}, env: Record<string, string> = {}): Resolved => ({
  deployment: deployment(over),
  output: out,
  env,
});

/** How a test talks to a router: Hono's `app.request()` signature, whatever serves it. */
export interface RouterClient {
  request(url: string, init?: RequestInit): Promise<Response>;
  close(): Promise<void>;
}

/**
 * The ways the router is served, for suites that must hold for each: Hono's in-process
 * `app.request()`, and the Node listener the platform runs, over real loopback HTTP (where the
 * request target is sent exactly as written, without URL normalization).
 */
export const ADAPTERS: [string, (router: Router) => RouterClient][] = [
  ["in-process app.request", (router) => ({ request: async (url, init) => router.app.request(url, init), close: async () => {} })],
  ["Node listener over loopback", nodeClient],
];

function nodeClient(router: Router): RouterClient {
  let started: Promise<{ server: Server; port: number }> | null = null;
  const start = () =>
    (started ??= new Promise((resolve) => {
      const server = createServer(nodeListener(router.fetch));
      server.listen(0, "127.0.0.1", () => resolve({ server, port: (server.address() as AddressInfo).port }));
    }));
  return {
    async request(url, init = {}) {
      const { port } = await start();
      const from = url.indexOf("//") + 2;
      const slash = url.indexOf("/", from);
      const headers: Record<string, string> = { host: url.slice(from, slash < 0 ? undefined : slash) };
      new Headers(init.headers).forEach((v, k) => (headers[k] = v));
      // node:http sends the path exactly as given (undici would normalize `..` and backslashes)
      const res = await new Promise<IncomingMessage>((resolve, reject) => {
        const req = httpRequest({ host: "127.0.0.1", port, path: slash < 0 ? "/" : url.slice(slash), method: init.method ?? "GET", headers }, resolve);
        req.once("error", reject);
        req.end(init.body as string | Buffer | undefined);
      });
      const out = new Headers();
      for (const [k, v] of Object.entries(res.headers)) for (const one of [v].flat()) if (one !== undefined) out.append(k, one);
      const chunks: Buffer[] = [];
      for await (const c of res) chunks.push(c as Buffer);
      const bytes = Buffer.concat(chunks);
      const nullBody = [101, 103, 204, 205, 304].includes(res.statusCode!);
      return new Response(nullBody ? null : bytes, { status: res.statusCode, headers: out });
    },
    async close() {
      if (!started) return;
      const { server } = await started;
      server.closeAllConnections();
      await new Promise((r) => server.close(r));
    },
  };
}

/** A function host for deployments that have no functions. */
export const noFunctions: FunctionHost = {
  invoke: async () => {
    throw new Error("no functions here");
  },
  evict: async () => {},
  stats: () => ({ instances: 0, byDeployment: {} }),
  close: async () => {},
};

/** A function whose bundle is `code` itself, stored the way the builder would have. */
export async function codeFunction(
  blobs: BlobStore,
  deploymentId: string,
  name: string,
  code: string,
  opts: { route?: string; handler?: HandlerKind; config?: Partial<FunctionConfig> } = {},
): Promise<BuiltFunction> {
  const prefix = blobKeys.artifactPrefix(deploymentId, name);
  await blobs.put(`${prefix}/index.mjs`, code);
  return {
    name,
    route: opts.route ?? `/${name}`,
    source: `${name}.mjs`,
    handler: opts.handler ?? "function",
    artifact: { prefix, entry: "index.mjs", files: ["index.mjs"] },
    config: { memory: 256, maxDuration: 10, maxConcurrency: 10, ...opts.config },
  };
}

export interface RawResponse {
  status: number;
  /** header names lower-cased; repeats joined with ", " */
  headers: Record<string, string>;
  body: string;
}

/**
 * One HTTP exchange over a bare TCP socket: `head` (request line and headers, without the blank
 * line) is sent byte for byte, so nothing normalizes it first. `body` chunks follow, `gapMs` apart.
 * Resolves once one response has fully arrived; `closed` settles when the server closes.
 */
export function rawHttp(port: number, head: string, opts: { body?: (string | Buffer)[]; gapMs?: number; timeoutMs?: number } = {}) {
  const sock: Socket = connect(port, "127.0.0.1");
  const closed = new Promise<void>((r) => sock.once("close", () => r()));
  const response = new Promise<RawResponse>((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => reject(new Error(`no response within ${opts.timeoutMs ?? 5_000} ms`)), opts.timeoutMs ?? 5_000);
    const parse = () => {
      const end = buf.indexOf("\r\n\r\n");
      if (end < 0) return;
      const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
      const status = Number(lines[0]!.split(" ")[1]);
      const headers: Record<string, string> = {};
      for (const l of lines.slice(1)) {
        const i = l.indexOf(":");
        const k = l.slice(0, i).trim().toLowerCase();
        const v = l.slice(i + 1).trim();
        headers[k] = k in headers ? `${headers[k]}, ${v}` : v;
      }
      if (status < 200) {
        buf = buf.subarray(end + 4); // an interim response: the answer follows
        return parse();
      }
      const rest = buf.subarray(end + 4);
      let body: Buffer | null = rest;
      const length = headers["content-length"];
      if (length !== undefined) body = rest.length < Number(length) ? null : rest.subarray(0, Number(length));
      else if (headers["transfer-encoding"]?.includes("chunked")) body = dechunk(rest);
      if (body === null) return;
      clearTimeout(timer);
      resolve({ status, headers, body: body.toString("utf8") });
    };
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      parse();
    });
    sock.on("error", (e) => (clearTimeout(timer), reject(e)));
    sock.on("close", () => {
      clearTimeout(timer);
      reject(new Error(`connection closed before a response: ${JSON.stringify(buf.toString("latin1"))}`));
    });
  });
  response.catch(() => {});
  let stopped = false;
  void (async () => {
    await new Promise((r) => sock.once("connect", r));
    sock.write(`${head}\r\n\r\n`);
    for (const chunk of opts.body ?? []) {
      if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      if (stopped || sock.destroyed) return;
      sock.write(chunk);
    }
  })().catch(() => {});
  return {
    response,
    closed,
    /** stops sending and closes the connection */
    destroy() {
      stopped = true;
      sock.destroy();
    },
  };
}

/** A complete chunked body decoded, or null while it is still arriving. */
function dechunk(data: Buffer): Buffer | null {
  const out: Buffer[] = [];
  let at = 0;
  for (;;) {
    const eol = data.indexOf("\r\n", at);
    if (eol < 0) return null;
    const size = parseInt(data.subarray(at, eol).toString("latin1"), 16);
    if (size === 0) return Buffer.concat(out);
    if (data.length < eol + 2 + size + 2) return null;
    out.push(data.subarray(eol + 2, eol + 2 + size));
    at = eol + 2 + size + 2;
  }
}
