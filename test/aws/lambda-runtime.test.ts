// A function's zip, unpacked and run the way Lambda runs it: Lambda's own runtime interface client
// (aws-lambda-ric; test/aws/helpers/runtime-client.mjs only where it could not be built) in a child
// process against the
// Runtime API served on loopback, its cwd and task root the unpacked zip. The events are the ones
// the Lambda host sends (requestToEvent), the answers are read back the way the host reads an
// InvokeWithResponseStream (responseFromStream): the whole invoke path, buffered and streaming,
// without AWS.
import { execFileSync } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createFsBlobStore } from "../../core/blobs/fs.ts";
import type { BuiltFunction, HandlerKind } from "../../core/types.ts";
import { requestToEvent } from "../../runtime/lambda/event.ts";
import { packageFunction } from "../../runtime/lambda/package.ts";
import { responseFromStream } from "../../runtime/lambda/stream-response.ts";
import { REAL_RUNTIME_CLIENT, startRuntimeApi, startSandbox } from "./helpers/runtime-api.ts";

const NODE_HANDLER = `
import { readFileSync } from "node:fs";
export default function handler(req, res) {
  res.setHeader("set-cookie", ["a=1; Path=/", "b=2"]);
  res.status(201).json({
    method: req.method, url: req.url, query: req.query, cookies: req.cookies, body: req.body, params: req.params,
    cwd: process.cwd(),
    byCwd: readFileSync("data/greeting.txt", "utf8"),
    byOwnPath: readFileSync(new URL("../../data/greeting.txt", import.meta.url), "utf8"),
  });
}`;
const SSE = `
export default () => {
  const enc = new TextEncoder();
  let i = 0;
  return new Response(new ReadableStream({
    async pull(c) {
      if (i > 0) await new Promise((r) => setTimeout(r, 250));
      c.enqueue(enc.encode("data: " + i + "\\n\\n"));
      if (++i === 3) c.close();
    },
  }), { headers: { "content-type": "text/event-stream" } });
};
export const config = {};`;
const WEB = `
export const POST = async (req) => new Response(new Uint8Array(await req.arrayBuffer()).reverse(), { headers: { "content-type": "application/octet-stream", "x-params": req.headers.get("x-ferry-params") ?? "" } });
export const GET = () => { throw new Error("boom"); };
export const DELETE = () => new Response(null, { status: 204 });`;
const SERVER = `
import http from "node:http";
// listens on the port its --port argument names
const args = process.argv.slice(2);
const argv = JSON.stringify({ entry: process.argv[1], args, port: process.env.PORT });
http.createServer((req, res) => res.end("server " + req.method + " " + req.url + " " + req.headers["x-forwarded-host"] + " " + argv)).listen(Number(args[args.indexOf("--port") + 1]));`;

describe("a function's zip through the Lambda Runtime API", () => {
  let dir: string;
  let api: Awaited<ReturnType<typeof startRuntimeApi>>;
  const blobs = () => createFsBlobStore(join(dir, "blobs"));
  const sandboxes: ReturnType<typeof startSandbox>[] = [];
  const apis: Awaited<ReturnType<typeof startRuntimeApi>>[] = [];

  /** Stores a bundle (and assets) as the builder would, packages it, unzips it, starts its sandbox. */
  async function deploy(name: string, handler: HandlerKind, source: string, artifactDir: string | undefined, assets: Record<string, string> = {}, env: Record<string, string> = {}, args?: string[]) {
    const b = blobs();
    const prefix = `deployments/dpl_zip/functions/${encodeURIComponent(name)}`;
    await b.put(`${prefix}/index.mjs`, source);
    await b.put(`${prefix}/index.mjs.map`, "{}");
    const fnAssets = [];
    for (const [path, text] of Object.entries(assets)) {
      await b.put(`files/acc/${path}`, text);
      fnAssets.push({ path, key: `files/acc/${path}`, sha: "0".repeat(40), size: text.length, ...(path.endsWith(".sh") ? { executable: true } : {}) });
    }
    const fn: BuiltFunction = {
      name,
      route: `/${name}`,
      source: `${name}.mjs`,
      handler,
      ...(args ? { args } : {}),
      artifact: { prefix, entry: "index.mjs", files: ["index.mjs", "index.mjs.map"], ...(artifactDir ? { dir: artifactDir } : {}), ...(fnAssets.length ? { assets: fnAssets } : {}) },
      config: { memory: 256, maxDuration: 10, maxConcurrency: 10 },
    };
    const { zip } = await packageFunction(b, fn);
    const file = join(dir, `${name.replace(/\W/g, "_")}.zip`);
    await writeFile(file, zip);
    const root = join(dir, `${name.replace(/\W/g, "_")}-task`);
    execFileSync("unzip", ["-q", file, "-d", root]);
    const runtimeApi = await startRuntimeApi();
    apis.push(runtimeApi);
    const sandbox = startSandbox(root, runtimeApi.address, env);
    sandboxes.push(sandbox);
    const listing = execFileSync("unzip", ["-l", file], { encoding: "utf8" });
    const paths = listing.split("\n").map((l) => /^\s*\d+\s+\S+\s+\S+\s+(.+)$/.exec(l)?.[1]).filter((p): p is string => !!p && p !== "Name");
    return { root, api: runtimeApi, sandbox, paths, listing, file };
  }

  const invoke = async (a: typeof api, request: Request, params?: Record<string, unknown>) => {
    const event = await requestToEvent(request, { params });
    const inv = await a.invoke(event);
    return { inv, response: await responseFromStream(inv.events) };
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "ferry-lambda-rt-"));
  });
  afterAll(async () => {
    for (const s of sandboxes) s.kill("SIGKILL");
    for (const a of apis) await a.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("packages the function as the local host lays it out: bundle in its folder, assets at their paths, Ferry's runtime under .ferry", async () => {
    const fn = await deploy("api/users/[id]", "function", NODE_HANDLER, "api/users", { "data/greeting.txt": "hello from a traced file", "bin/run.sh": "#!/bin/sh\necho hi\n" });
    expect(fn.paths.sort()).toEqual(
      [
        ".ferry/lambda/bootstrap.mjs",
        ".ferry/local/child-helpers.mjs",
        ".ferry/local/vercel-helpers.mjs",
        ".ferry/node_modules/content-type/LICENSE",
        ".ferry/node_modules/content-type/dist/index.js",
        ".ferry/node_modules/content-type/package.json",
        ".ferry/node_modules/cookie/LICENSE",
        ".ferry/node_modules/cookie/dist/index.js",
        ".ferry/node_modules/cookie/package.json",
        "api/users/index.mjs",
        "api/users/index.mjs.map",
        "bin/run.sh",
        "data/greeting.txt",
        "ferry-lambda.mjs",
      ].sort(),
    );
    // modes survive: the shipped script stays executable
    expect(execFileSync("zipinfo", [fn.file, "bin/run.sh"], { encoding: "utf8" })).toMatch(/^-rwxr-xr-x/);
    expect(execFileSync("unzip", ["-p", fn.file, "ferry-lambda.mjs"], { encoding: "utf8" })).toContain('"./api/users/index.mjs"');

    // the Node handler gets Vercel's helpers, its cwd is the app root, its traced file is there
    const req = new Request("https://shop-abc.apps.example.com/api/users/42?x=1&x=2", {
      method: "POST",
      headers: { "content-type": "application/json", cookie: "theme=dark; sid=s%20p" },
      body: JSON.stringify({ hello: "world" }),
    });
    const { inv, response } = await invoke(fn.api, req, { id: "42" });
    expect(response.status).toBe(201);
    expect(response.headers.getSetCookie()).toEqual(["a=1; Path=/", "b=2"]);
    expect(response.headers.get("content-type")).toBe("application/json; charset=utf-8");
    const json = await response.json();
    expect(json).toMatchObject({
      method: "POST",
      url: "/api/users/42?x=1&x=2",
      query: { id: "42", x: ["1", "2"] },
      cookies: { theme: "dark", sid: "s p" },
      body: { hello: "world" },
      params: { id: "42" },
      cwd: fn.root,
      byCwd: "hello from a traced file",
      byOwnPath: "hello from a traced file",
    });

    // the wire: one streaming POST in the HTTP integration format, byte for byte
    expect(inv.headers["lambda-runtime-function-response-mode"]).toBe("streaming");
    expect(inv.headers["content-type"]).toBe("application/vnd.awslambda.http-integration-response");
    expect(inv.headers["transfer-encoding"]).toBe("chunked");
    const bytes = Buffer.concat(inv.chunks.map((c) => c.data));
    const at = bytes.indexOf(Buffer.alloc(8));
    const prelude = JSON.parse(bytes.subarray(0, at).toString("utf8"));
    expect(prelude).toMatchObject({ statusCode: 201, cookies: ["a=1; Path=/", "b=2"], headers: { "content-type": "application/json; charset=utf-8" } });
    expect(Object.keys(prelude.headers)).not.toContain("connection");
    expect(Object.keys(prelude.headers)).not.toContain("set-cookie");
    expect(bytes.equals(Buffer.concat([Buffer.from(JSON.stringify(prelude)), Buffer.alloc(8), Buffer.from(JSON.stringify(json))]))).toBe(true);
    expect(inv.error).toBeUndefined();

    // the same sandbox takes the next event: the handler's loopback server does not hold the runtime client back
    const again = await invoke(fn.api, new Request("https://shop-abc.apps.example.com/api/users/7"), { id: "7" });
    expect(await again.response.json()).toMatchObject({ method: "GET", params: { id: "7" } });
  }, 20_000);

  it("runs under Lambda's real runtime interface client (required in CI, where .ci/run installs what it builds with)", async () => {
    if (process.env.CI) expect(REAL_RUNTIME_CLIENT, "aws-lambda-ric did not install: apt-get install autoconf automake libtool, then npm ci").not.toBeNull();
    if (!REAL_RUNTIME_CLIENT) return;
    const fn = await deploy("ric", "function", `export default () => new Response("ok");`, undefined);
    const { response } = await invoke(fn.api, new Request("https://x.example/ric"));
    expect(await response.text()).toBe("ok");
    // the real client's start-up line, which the stand-in does not print
    expect(fn.sandbox.output()).toContain(`Executing 'ferry-lambda.handler' in function directory '${fn.root}'`);
  });

  it("streams server-sent events as the function writes them", async () => {
    const fn = await deploy("api/events", "function", SSE, "api");
    const { inv, response } = await invoke(fn.api, new Request("https://app.example.com/api/events"));
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = response.body!.getReader();
    const seen: { at: number; text: string }[] = [];
    const dec = new TextDecoder();
    for (let r = await reader.read(); !r.done; r = await reader.read()) seen.push({ at: Date.now(), text: dec.decode(r.value) });
    expect(seen.map((s) => s.text).join("")).toBe("data: 0\n\ndata: 1\n\ndata: 2\n\n");
    // each event reached the reader on its own, about 250 ms apart, not all at the end
    const first = seen.find((s) => s.text.includes("data: 0"))!;
    const last = seen.find((s) => s.text.includes("data: 2"))!;
    expect(last.at - first.at).toBeGreaterThanOrEqual(400);
    expect(inv.chunks.length).toBeGreaterThanOrEqual(3);
  }, 20_000);

  it("web handlers: binary bodies both ways, params, 204 without a body, a throw is a 500; the sandbox stays warm", async () => {
    const fn = await deploy("api/bytes", "function", WEB, undefined);
    const sent = Uint8Array.from([0, 1, 2, 255, 254, 0, 10]);
    const a = await invoke(fn.api, new Request("https://app.example.com/api/bytes", { method: "POST", body: sent }), { slug: ["a", "b"] });
    expect(new Uint8Array(await a.response.arrayBuffer())).toEqual(sent.slice().reverse());
    expect(JSON.parse(a.response.headers.get("x-params")!)).toEqual({ slug: ["a", "b"] });
    const b = await invoke(fn.api, new Request("https://app.example.com/api/bytes", { method: "DELETE" }));
    expect(b.response.status).toBe(204);
    expect(b.response.body).toBeNull();
    const c = await invoke(fn.api, new Request("https://app.example.com/api/bytes"));
    expect(c.response.status).toBe(500);
    expect(await c.response.text()).toBe("Internal Server Error");
    expect(fn.sandbox.output()).toContain("boom");
    const d = await invoke(fn.api, new Request("https://app.example.com/api/bytes", { method: "PUT" }));
    expect(d.response.status).toBe(405);
    expect(d.response.headers.get("allow")).toBe("GET, POST, DELETE, HEAD");
  }, 20_000);

  it("a server app gets its arguments (${PORT} filled in) as process.argv, listens on PORT and serves every path", async () => {
    const fn = await deploy("server", "server", SERVER, undefined, {}, { PORT: "3917" }, ["--name", "a b", "--port", "${PORT}", "--url=http://localhost:${PORT}/"]);
    expect(execFileSync("unzip", ["-p", fn.file, "ferry-lambda.mjs"], { encoding: "utf8" })).toContain('"server", { entry, args: ["--name","a b","--port","${PORT}","--url=http://localhost:${PORT}/"] }');
    const { response } = await invoke(fn.api, new Request("https://shop.apps.example.com/any/path?q=1"));
    const argv = { entry: join(fn.root, "index.mjs"), args: ["--name", "a b", "--port", "3917", "--url=http://localhost:3917/"], port: "3917" };
    expect(await response.text()).toBe(`server GET /any/path?q=1 shop.apps.example.com ${JSON.stringify(argv)}`);
    // the same sandbox takes the next event: its listening server does not hold the runtime client back
    const next = await invoke(fn.api, new Request("https://shop.apps.example.com/next", { method: "POST", body: "x" }));
    expect(await next.response.text()).toBe(`server POST /next shop.apps.example.com ${JSON.stringify(argv)}`);
  }, 20_000);

  it("an error after the response began reaches the caller as the stream's error", async () => {
    const fn = await deploy(
      "api/broken",
      "function",
      `export default () => new Response(new ReadableStream({ start(c) { c.enqueue(new TextEncoder().encode("partial")); setTimeout(() => c.error(new Error("mid-stream")), 50); } }));`,
      undefined,
    );
    const { inv, response } = await invoke(fn.api, new Request("https://app.example.com/api/broken"));
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    expect(inv.error?.type).toBeTruthy();
  }, 20_000);
});
