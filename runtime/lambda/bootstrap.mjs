// Ferry's Lambda bootstrap: shipped in every function's zip as `.ferry/lambda/bootstrap.mjs`
// (beside `.ferry/local/`, the child-side files it shares with the local host) and wrapped by a
// generated `ferry-lambda.mjs` (the Lambda handler). Only node: imports and those shared files,
// so a cold start costs little before the app's own import.
//
// A payload-2.0 event (function URL / invoke from Ferry's router) becomes a Web Request, the
// bundle's handler answers, and the Response streams back in Lambda's HTTP streaming format
// (`awslambda.HttpResponseStream`: a JSON prelude, 8 NUL bytes, then the body as it is produced).
import http from "node:http";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { parseParams, resolveHandler } from "../local/child-helpers.mjs";

export { resolveHandler };

/** Event -> Web Request. Cookies come back into one header; a base64 body is decoded. */
export function eventToRequest(event) {
  const h = event.headers ?? {};
  const headers = new Headers();
  for (const [k, v] of Object.entries(h)) if (v !== undefined) headers.set(k, v);
  if (event.cookies?.length) headers.set("cookie", event.cookies.join("; "));
  const method = event.requestContext?.http?.method ?? "GET";
  const host = h["x-forwarded-host"] ?? h.host ?? event.requestContext?.domainName ?? "localhost";
  const proto = h["x-forwarded-proto"] === "http" ? "http" : "https";
  const url = `${proto}://${host}${event.rawPath ?? "/"}${event.rawQueryString ? `?${event.rawQueryString}` : ""}`;
  const init = { method, headers };
  if (event.body !== undefined && event.body !== null && method !== "GET" && method !== "HEAD") {
    init.body = event.isBase64Encoded ? Buffer.from(event.body, "base64") : event.body;
  }
  return new Request(url, init);
}

/** Writes a Response into Lambda's response stream: prelude first, then each chunk as it comes. */
export async function writeResponse(response, responseStream, lambda) {
  const headers = {};
  for (const [k, v] of response.headers) if (k !== "set-cookie") headers[k] = v;
  const stream = lambda.HttpResponseStream.from(responseStream, { statusCode: response.status, headers, cookies: response.headers.getSetCookie() });
  if (response.body) {
    const reader = response.body.getReader();
    for (let r = await reader.read(); !r.done; r = await reader.read()) {
      if (!stream.write(r.value)) await new Promise((ok) => stream.once("drain", ok));
    }
  } else stream.write("");
  await new Promise((ok, fail) => stream.end((e) => (e ? fail(e) : ok())));
}

/** A Node `(req, res)` handler or a server app: served over loopback inside the sandbox and
 * reached with fetch, so Node's own request/response objects are real ones. A server app gets
 * `process.argv` = [node, entry, ...args] (each `${PORT}` in them the port) as under `node`: this
 * process's own argv is the runtime client's. */
async function loopbackServer(kind, load, app = {}) {
  if (kind === "server") {
    const port = Number(process.env.PORT) || 3000;
    process.env.PORT = String(port);
    if (app.entry) process.argv = [process.argv[0], fileURLToPath(app.entry), ...(app.args ?? []).map((a) => a.replaceAll("${PORT}", String(port)))];
    await load();
    await waitForPort(port, 10_000);
    return `http://127.0.0.1:${port}`;
  }
  const server = http.createServer(...(await nodeServer(kind.fn)));
  await new Promise((ok) => server.listen(0, "127.0.0.1", ok));
  return `http://127.0.0.1:${server.address().port}`;
}

function waitForPort(port, ms) {
  const until = Date.now() + ms;
  return new Promise((ok, fail) => {
    const attempt = () => {
      const s = net.connect(port, "127.0.0.1");
      s.once("connect", () => (s.destroy(), ok()));
      s.once("error", () => (Date.now() > until ? fail(new Error(`the server app did not listen on PORT ${port}`)) : setTimeout(attempt, 20)));
    };
    attempt();
  });
}

/**
 * The Lambda handler for one bundle. `load` imports the bundle; `mode` is the build output's
 * handler kind ("function" | "server"). The module is loaded once per sandbox, at the first event.
 * `opts.lambda` is the runtime's `awslambda` global; a server app's `opts.entry` (the bundle's
 * file URL) and `opts.args` make its process.argv.
 */
export function createHandler(load, mode, opts = {}) {
  const lambda = opts.lambda ?? globalThis.awslambda;
  let ready;
  const init = async () => {
    if (mode === "server") return { kind: "proxy", base: await loopbackServer("server", load, opts) };
    const h = resolveHandler(await load());
    if (h.kind === "web") return h;
    return { kind: "proxy", base: await loopbackServer(h, load) };
  };
  return lambda.streamifyResponse(async (event, responseStream, context) => {
    // the runtime client otherwise asks for the next event only once the event loop is empty,
    // which a server listening on loopback (a server app, a Node handler) never lets it be
    if (context) context.callbackWaitsForEmptyEventLoop = false;
    ready ??= init();
    let response;
    try {
      const h = await ready;
      const request = eventToRequest(event);
      if (h.kind === "web") response = await h.fn(request, { params: parseParams(request.headers.get("x-ferry-params")) });
      else response = await proxy(h.base, request);
      if (!(response instanceof Response)) throw new Error(`the handler returned ${typeof response}, not a Response`);
    } catch (e) {
      console.error(e);
      response = new Response("Internal Server Error", { status: 500, headers: { "content-type": "text/plain; charset=utf-8" } });
    }
    await writeResponse(response, responseStream, lambda);
  });
}

/**
 * Options and listener for a Node `(req, res)` handler's server, as the local bootstrap serves it:
 * Vercel's helpers (req.query, req.cookies, req.body, res.status/json/send/redirect) unless
 * NODEJS_HELPERS=0, the body received first when it has a Content-Type, Express adopted.
 */
async function nodeServer(fn) {
  const fail = (res, e) => {
    console.error(e);
    if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain; charset=utf-8" }).end("Internal Server Error");
    else res.destroy();
  };
  const call = (req, res, onError) => {
    Promise.resolve()
      .then(() => fn(req, res))
      .catch((e) => onError(res, e));
  };
  if (process.env.NODEJS_HELPERS === "0") return [{}, (req, res) => call(req, res, fail)];
  const helpers = await import("../local/vercel-helpers.mjs");
  if (typeof fn.handle === "function" && fn.request && fn.response) helpers.adoptExpress(fn);
  const failed = (res, e) => (e instanceof helpers.BodyError ? helpers.answerBodyError(res, e) : fail(res, e));
  const listener = (req, res) => {
    if (req.headers["content-type"] === undefined) call(req, res, failed);
    else helpers.receiveBody(req).then(() => call(req, res, failed), () => res.destroy());
  };
  return [{ IncomingMessage: helpers.VercelRequest, ServerResponse: helpers.VercelResponse }, listener];
}

async function proxy(base, request) {
  const u = new URL(request.url);
  const headers = new Headers(request.headers);
  headers.set("x-forwarded-host", u.host);
  headers.set("x-forwarded-proto", u.protocol.slice(0, -1));
  const init = { method: request.method, headers, redirect: "manual" };
  if (request.body) {
    init.body = request.body;
    init.duplex = "half";
  }
  const r = await fetch(base + u.pathname + u.search, init);
  // fetch decodes compressed bodies; the headers must not claim an encoding the bytes lost
  const out = new Headers(r.headers);
  // the loopback connection's own headers are not the visitor's (function URLs refuse some)
  for (const h of ["connection", "keep-alive", "transfer-encoding", "upgrade"]) out.delete(h);
  if (out.has("content-encoding")) {
    out.delete("content-encoding");
    out.delete("content-length");
  }
  return new Response(r.body, { status: r.status, headers: out });
}
