import { createHash } from "node:crypto";
import { createServer, request as httpRequest, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Router } from "../../router/app.ts";
import type { FunctionHost } from "../../runtime/port.ts";
import { nodeListener } from "../../router/node.ts";
import type { BlobStore } from "../../core/blobs/port.ts";
import type { BuildOutput, BuiltFunction, Deployment, RouteConfig, StaticFile } from "../../core/types.ts";
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
