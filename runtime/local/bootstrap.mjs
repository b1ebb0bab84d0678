// Ferry local function bootstrap: runs inside the function's child process.
// Plain .mjs with only node: imports so a cold start costs one `node` spawn and one import; Node
// `(req, res)` handlers also load vercel-helpers.mjs (Vercel's req/res helpers).
//
//   node bootstrap.mjs <entry.mjs> [socket path]
//
// Serves the bundle's handler on the Unix socket the platform names (or, without one, on
// 127.0.0.1:<random port>) and reports readiness on its control channel ({ type: "ready"[, port] }).
// A module that fails to load reports { type: "error", message }.
import http from "node:http";
import { pathToFileURL } from "node:url";
import { parseParams, resolveHandler, watchParent, tellParent } from "./child-helpers.mjs";
import { install, LiteRequest, realOf, recorded } from "./web-lite.mjs";

watchParent();

/** Web handler: Node's request as a lightweight Request; the answer written into Node's
 * response, straight from what `new Response(...)` recorded when it can be (web-lite.mjs). */
async function serveWeb(handler, req, res) {
  const request = new LiteRequest(req, req.headers["x-forwarded-proto"] === "https" ? "https" : "http");
  const response = await handler(request, { params: parseParams(req.headers["x-ferry-params"]) });
  if (!(response instanceof Response)) throw new Error(`the handler returned ${typeof response}, not a Response`);
  const lite = recorded(response);
  if (lite) writeRecorded(lite, res);
  else await writeResponse(realOf(response), res);
}

/** A string or bytes body in one write with Content-Length (none for a body-less status). */
function writeRecorded({ status, headers, body }, res) {
  const out = [];
  if (headers) {
    for (const [k, v] of headers) if (k !== "set-cookie") out.push(k, v);
    for (const c of headers.getSetCookie()) out.push("set-cookie", c);
  } else if (typeof body === "string") out.push("content-type", "text/plain;charset=UTF-8");
  if (body === null) {
    res.writeHead(status, out);
    res.end();
    return;
  }
  if (!headers?.has("content-length")) out.push("content-length", typeof body === "string" ? Buffer.byteLength(body) : body.byteLength);
  res.writeHead(status, out);
  res.end(body);
}

// a few microtask turns: enough for a body that is already complete to report its end, without
// the extra event-loop turn a timer would cost on every request
const soon = () => Promise.resolve().then(() => {}).then(() => undefined);

async function writeResponse(response, res) {
  const headers = {};
  for (const [k, v] of response.headers) if (k !== "set-cookie") headers[k] = v;
  const cookies = response.headers.getSetCookie();
  if (cookies.length) headers["set-cookie"] = cookies;
  const body = response.body;
  if (!body) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  const reader = body.getReader();
  const first = await reader.read();
  if (first.done) {
    res.writeHead(response.status, headers);
    res.end();
    return;
  }
  // A body that is already complete goes out with Content-Length in one write; a stream that is
  // still producing (SSE) is flushed chunk by chunk as it is produced.
  const pending = reader.read();
  const second = await Promise.race([pending, soon()]);
  if (second?.done) {
    if (!("content-length" in headers)) headers["content-length"] = first.value.byteLength;
    res.writeHead(response.status, headers);
    res.end(first.value);
    return;
  }
  res.writeHead(response.status, headers);
  res.flushHeaders();
  const closed = new Promise((r) => res.once("close", r));
  let cancelled = false;
  closed.then(() => {
    if (!res.writableFinished) {
      cancelled = true;
      reader.cancel().catch(() => {});
    }
  });
  const write = async (chunk) => {
    if (!res.write(chunk)) await Promise.race([new Promise((r) => res.once("drain", r)), closed]);
  };
  await write(first.value);
  let next = second ?? (await pending);
  while (!next.done && !cancelled) {
    await write(next.value);
    next = await reader.read();
  }
  res.end();
}

function fail(res, err) {
  console.error(err);
  if (!res.headersSent) {
    res.writeHead(500, { "content-type": "text/plain; charset=utf-8" });
    res.end("Internal Server Error");
  } else res.destroy();
}

let handler;
try {
  // before the bundle loads, so its `new Response(...)` is the lightweight one
  install();
  const mod = await import(pathToFileURL(process.argv[2]).href);
  handler = resolveHandler(mod);
} catch (e) {
  console.error(e);
  tellParent({ type: "error", message: String(e?.message ?? e).split("\n")[0].slice(0, 2000) }, () => process.exit(1));
  await new Promise(() => {});
}

// Only the platform talks to this server, and its pool closes idle connections itself: no idle
// timeout here, so Node sends no Keep-Alive header for the platform to parse and drop.
const options = { keepAliveTimeout: 0, requestTimeout: 0 };
let listener;
if (handler.kind === "web") listener = (req, res) => serveWeb(handler.fn, req, res).catch((e) => fail(res, e));
// NODEJS_HELPERS=0 turns Vercel's helpers off, as on Vercel: the handler gets Node's own req/res
else if (process.env.NODEJS_HELPERS === "0") listener = (req, res) => callNode(handler.fn, req, res, fail);
else {
  // loaded only for Node handlers, so Web handlers' cold starts do not pay for it
  const helpers = await import("./vercel-helpers.mjs");
  options.IncomingMessage = helpers.VercelRequest;
  options.ServerResponse = helpers.VercelResponse;
  if (typeof handler.fn.handle === "function" && handler.fn.request && handler.fn.response) helpers.adoptExpress(handler.fn);
  const failed = (res, e) => (e instanceof helpers.BodyError ? helpers.answerBodyError(res, e) : fail(res, e));
  listener = (req, res) => {
    // with a Content-Type the body is received first, so req.body can be parsed when read
    if (req.headers["content-type"] === undefined) callNode(handler.fn, req, res, failed);
    else helpers.receiveBody(req).then(() => callNode(handler.fn, req, res, failed), () => res.destroy());
  };
}

function callNode(fn, req, res, onError) {
  try {
    const r = fn(req, res);
    if (r && typeof r.then === "function") r.catch((e) => onError(res, e));
  } catch (e) {
    onError(res, e);
  }
}

// The platform's response to the visitor gets its Date; one from here would only be parsed and
// passed on (a handler that sets Date, or sendDate, still has its way).
const server = http.createServer(options, (req, res) => {
  res.sendDate = false;
  listener(req, res);
});
server.headersTimeout = 0;
// the platform names a Unix socket to listen on; without one (run by hand), a loopback port
const socket = process.argv[3];
const onListening = () => tellParent(socket ? { type: "ready" } : { type: "ready", port: server.address().port });
if (socket) server.listen(socket, onListening);
else server.listen(0, "127.0.0.1", onListening);
