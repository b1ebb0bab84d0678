// The helpers @vercel/node gives `(req, res)` handlers, with its semantics:
//   req.query, req.cookies, req.body (lazy, parsed by Content-Type), res.status(), res.json(),
//   res.send(), res.redirect(). Runs inside the function's child process.
//
// They live on subclasses of IncomingMessage/ServerResponse handed to http.createServer, so a
// request pays nothing for a helper it does not touch: no per-request property setup, and the
// platform's own http client objects stay untouched.
import http from "node:http";
import { hash } from "node:crypto";
import { parse as parseQs } from "node:querystring";
import { parseCookie } from "cookie";
import contentType from "content-type";

const BODY = Symbol("ferry.body");

/** What reading a malformed JSON body throws; the bootstrap answers it with its status. */
export class BodyError extends Error {
  constructor(statusCode, message) {
    super(message);
    this.statusCode = statusCode;
  }
}

/** Route params as the host sends them (visitors cannot set the header). */
function routeParams(req) {
  const raw = req.headers["x-ferry-params"];
  if (!raw) return {};
  try {
    return JSON.parse(raw);
  } catch {
    return {};
  }
}

/**
 * Vercel rewrites `api/users/[id].js` to `/api/users/[id]?id=42`, so params arrive as query keys;
 * a catch-all `[...slug]` keeps its dots (`req.query["...slug"]`) and its path as one string.
 * The visitor's own query wins over a param of the same name, as in Vercel's router.
 */
function parseQuery(req) {
  const query = {};
  const params = routeParams(req);
  for (const k in params) {
    const v = params[k];
    if (Array.isArray(v)) query[`...${k}`] = v.join("/");
    else query[k] = v;
  }
  const url = req.url;
  const q = url.indexOf("?");
  if (q < 0) return query;
  const own = {};
  for (const [k, v] of new URLSearchParams(url.slice(q + 1))) {
    // `__proto__` would re-parent the object instead of adding a key
    if (k === "__proto__") continue;
    const prev = own[k];
    own[k] = prev === undefined ? v : Array.isArray(prev) ? [...prev, v] : [prev, v];
  }
  return Object.assign(query, own);
}

// cookie@0.7 (what @vercel/node uses) drops the quotes around a quoted value; cookie@2 keeps them
function decodeCookie(value) {
  const v = value.length > 1 && value.charCodeAt(0) === 34 && value.charCodeAt(value.length - 1) === 34 ? value.slice(1, -1) : value;
  if (!v.includes("%")) return v;
  try {
    return decodeURIComponent(v);
  } catch {
    return v;
  }
}

function parseCookies(req) {
  const header = req.headers.cookie;
  if (!header) return {};
  const parsed = parseCookie(Array.isArray(header) ? header.join(";") : header, { decode: decodeCookie });
  // a plain object, as Vercel's (names an object already has, like `constructor`, are skipped there too)
  const out = {};
  for (const k in parsed) if (out[k] === undefined) out[k] = parsed[k];
  return out;
}

const mimes = new Map();
function mimeOf(type) {
  let mime = mimes.get(type);
  if (mime === undefined) {
    mime = contentType.parse(type).type;
    if (mimes.size < 100) mimes.set(type, mime);
  }
  return mime;
}

function parseBody(req) {
  const type = req.headers["content-type"];
  if (!type) return undefined;
  const body = req[BODY] ?? Buffer.alloc(0);
  const mime = mimeOf(type);
  if (mime === "application/json") {
    const text = body.toString();
    if (!text) return {};
    try {
      return JSON.parse(text);
    } catch {
      throw new BodyError(400, "Invalid JSON");
    }
  }
  if (mime === "application/octet-stream") return body;
  if (mime === "application/x-www-form-urlencoded") return parseQs(body.toString());
  if (mime === "text/plain") return body.toString();
  return undefined;
}

/** A getter computed on first use and then kept on the request; assigning replaces it. */
function lazy(name, compute) {
  const own = (obj, value) => Object.defineProperty(obj, name, { value, writable: true, configurable: true, enumerable: true });
  return {
    configurable: true,
    get() {
      const value = compute(this);
      own(this, value);
      return value;
    },
    set(value) {
      own(this, value);
    },
  };
}

export class VercelRequest extends http.IncomingMessage {}
Object.defineProperties(VercelRequest.prototype, {
  query: lazy("query", parseQuery),
  cookies: lazy("cookies", parseCookies),
  body: lazy("body", parseBody),
  // Ferry's own: the route params as matched, catch-alls as arrays
  params: lazy("params", routeParams),
});

const REDIRECT_USAGE =
  "Invalid redirect arguments. Please use a single argument URL, e.g. res.redirect('/destination') or use a status code and URL, e.g. res.redirect(307, '/destination').";

// the `etag` package's weak form: W/"<length hex>-<first 27 of base64 sha1>"
function weakEtag(chunk, encoding, len) {
  const digest = hash("sha1", Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk, encoding), "base64");
  return `W/"${len.toString(16)}-${digest.slice(0, 27)}"`;
}

// a function sends the same few Content-Types over and over: parse each once
const charsetOf = new Map();
function withUtf8(type) {
  let out = charsetOf.get(type);
  if (out === undefined) {
    const parsed = contentType.parse(type);
    parsed.parameters.charset = "utf-8";
    out = contentType.format(parsed);
    if (charsetOf.size < 100) charsetOf.set(type, out);
  }
  return out;
}

export class VercelResponse extends http.ServerResponse {
  status(statusCode) {
    this.statusCode = statusCode;
    return this;
  }

  redirect(statusOrUrl, url) {
    if (typeof statusOrUrl === "string") {
      url = statusOrUrl;
      statusOrUrl = 307;
    }
    if (typeof statusOrUrl !== "number" || typeof url !== "string") throw new Error(REDIRECT_USAGE);
    this.writeHead(statusOrUrl, { Location: url }).end();
    return this;
  }

  json(value) {
    const body = JSON.stringify(value);
    if (!this.getHeader("content-type")) this.setHeader("content-type", "application/json; charset=utf-8");
    return this.send(body);
  }

  send(body) {
    let chunk = body;
    let encoding;
    switch (typeof chunk) {
      case "string":
        if (!this.getHeader("content-type")) this.setHeader("content-type", "text/html");
        break;
      case "boolean":
      case "number":
      case "object":
        if (chunk === null) chunk = "";
        else if (Buffer.isBuffer(chunk)) {
          if (!this.getHeader("content-type")) this.setHeader("content-type", "application/octet-stream");
        } else return this.json(chunk);
        break;
    }
    if (typeof chunk === "string") {
      encoding = "utf8";
      const type = this.getHeader("content-type");
      if (typeof type === "string") this.setHeader("content-type", withUtf8(type));
    }
    let len;
    if (chunk !== undefined) {
      if (Buffer.isBuffer(chunk)) len = chunk.length;
      else if (typeof chunk === "string") len = Buffer.byteLength(chunk, encoding);
      else throw new Error("`body` is not a valid string, object, boolean, number, Stream, or Buffer");
      this.setHeader("content-length", len);
    }
    if (!this.getHeader("etag") && len !== undefined) this.setHeader("etag", weakEtag(chunk, encoding, len));
    if (this.statusCode === 204 || this.statusCode === 304) {
      this.removeHeader("Content-Type");
      this.removeHeader("Content-Length");
      this.removeHeader("Transfer-Encoding");
      chunk = "";
    }
    if (this.req?.method === "HEAD") this.end();
    else if (encoding) this.end(chunk, encoding);
    else this.end(chunk);
    return this;
  }
}

/**
 * Receives the whole body before the handler runs, as @vercel/node does when a Content-Type is
 * set, so `req.body` can be parsed synchronously. The chunks are seen as Node's parser pushes
 * them, without reading the stream: handlers that read `req` themselves (`for await`, pipe,
 * body parsers) still get every byte. Backpressure is held off until the end, since nobody
 * reads yet; the router has already bounded the body.
 */
export function receiveBody(req) {
  if (req.complete) return Promise.resolve(drainBuffered(req));
  return new Promise((resolve, reject) => {
    const chunks = [];
    const push = http.IncomingMessage.prototype.push;
    req.push = function (chunk, encoding) {
      if (chunk === null) {
        delete this.push;
        this.removeListener("close", gone);
        this[BODY] = Buffer.concat(chunks);
        resolve();
        return push.call(this, chunk, encoding);
      }
      chunks.push(chunk);
      push.call(this, chunk, encoding);
      return true;
    };
    // a visitor who leaves mid-body: the handler is not called
    const gone = () => {
      delete req.push;
      reject(new Error("the request ended before its body was received"));
    };
    req.once("close", gone);
  });
}

// the parser already finished before the handler was called: read what is buffered, then put it back
function drainBuffered(req) {
  const chunks = [];
  for (let c = req.read(); c !== null; c = req.read()) chunks.push(c);
  const body = Buffer.concat(chunks);
  if (body.length) req.unshift(body);
  req[BODY] = body;
}

/** An Express app exported as the handler swaps in its own request/response prototypes; placing
 * ours beneath them keeps the helpers (Express's own methods still win where it has them). */
export function adoptExpress(app) {
  reparent(app.request, http.IncomingMessage.prototype, VercelRequest.prototype);
  reparent(app.response, http.ServerResponse.prototype, VercelResponse.prototype);
}

function reparent(obj, base, ours) {
  for (let o = obj; o; o = Object.getPrototypeOf(o)) {
    if (Object.getPrototypeOf(o) === base) return void Object.setPrototypeOf(o, ours);
    if (o === ours) return;
  }
}

/** 400 "Invalid JSON" for a malformed body, as @vercel/node answers it (reason phrase and body). */
export function answerBodyError(res, err) {
  if (res.headersSent) return void res.end();
  res.statusCode = err.statusCode;
  res.statusMessage = err.message;
  res.setHeader("content-type", "text/plain; charset=utf-8");
  res.end(err.message);
}
