// Lightweight Web Request and Response for the function bootstrap (runs in the child process).
//
// Building a real Request (URL parsing, a validated Headers copy of every header) and reading a
// real Response back (its Headers iterated, its body through a stream reader) cost more CPU than
// a hello-world handler itself. So, as @hono/node-server does, the handler gets a Request that is
// a view over Node's request, and `new Response(...)` made in the child records its arguments:
// the bootstrap writes a string or bytes body straight into Node's response. Anything else either
// asks for (method, url, headers, status) is answered from what was recorded; everything else
// (bodies, clone(), signal, ...) builds the real object once and is answered by it. `instanceof`
// holds for both classes and the real ones.
import { Readable } from "node:stream";

const GlobalRequest = globalThis.Request;
const GlobalResponse = globalThis.Response;
const REAL = Symbol("ferry.real");
const INCOMING = Symbol("ferry.incoming");
const HEADERS = Symbol("ferry.headers");
const URL_KEY = Symbol("ferry.url");
const METHOD = Symbol("ferry.method");
const STATUS = Symbol("ferry.status");
const STATUS_TEXT = Symbol("ferry.statusText");
const BODY = Symbol("ferry.body");

/** A path and query the URL parser would keep exactly as they are (no dot segments, nothing it
 * percent-encodes, no fragment), on a lower-case host: then the URL is the string as is. */
const PLAIN_HOST = /^[a-z0-9.-]+(:\d{1,5})?$/;
const PLAIN_TARGET = /^\/[A-Za-z0-9\-._~!$&()*+,;=:@%/?]*$/;
const DOT_SEGMENT = /\/\.|%2e/i;

/** The visitor's request as a Web Request, over Node's. */
export class LiteRequest {
  constructor(incoming, proto) {
    this[INCOMING] = incoming;
    this[METHOD] = incoming.method;
    const host = incoming.headers.host || "localhost";
    const target = incoming.url;
    const url = `${proto}://${host}${target}`;
    this[URL_KEY] = PLAIN_HOST.test(host) && PLAIN_TARGET.test(target) && !DOT_SEGMENT.test(target) ? url : new URL(url).href;
  }
  get method() {
    return this[METHOD];
  }
  get url() {
    return this[URL_KEY];
  }
  get headers() {
    return (this[HEADERS] ??= this[REAL] ? this[REAL].headers : headersOf(this[INCOMING].rawHeaders));
  }
}

function headersOf(raw) {
  const h = new Headers();
  for (let i = 0; i < raw.length; i += 2) h.append(raw[i], raw[i + 1]);
  return h;
}

/** The real Request, built once, with the body streaming from Node's request. */
function realRequest(lite) {
  if (lite[REAL]) return lite[REAL];
  const init = { method: lite.method, headers: lite.headers };
  if (lite.method !== "GET" && lite.method !== "HEAD") {
    init.body = Readable.toWeb(lite[INCOMING]);
    init.duplex = "half";
  }
  return (lite[REAL] = new GlobalRequest(lite.url, init));
}

delegate(LiteRequest, GlobalRequest, realRequest, ["method", "url", "headers"]);

/** `new Response(body, init)` in the child: recorded, built for real only when asked for more. */
export class LiteResponse {
  constructor(body, init) {
    if (
      (body === undefined || body === null || typeof body === "string" || body instanceof Uint8Array) &&
      (init === undefined || (init !== null && typeof init === "object" && !(init instanceof GlobalResponse)))
    ) {
      const status = init?.status ?? 200;
      // the checks the real constructor makes, so a handler fails the same way
      if (!Number.isInteger(status) || status < 200 || status > 599) throw new RangeError(`init["status"] must be in the range of 200 to 599, inclusive.`);
      if (body != null && (status === 204 || status === 205 || status === 304)) throw new TypeError("Response constructor: Invalid response status code " + status);
      this[STATUS] = status;
      this[STATUS_TEXT] = init?.statusText === undefined ? "" : String(init.statusText);
      this[BODY] = body ?? null;
      // headers given are checked now, as the real constructor does; none cost nothing
      if (init?.headers !== undefined) this[HEADERS] = withDefaultType(new Headers(init.headers), this[BODY]);
      return;
    }
    const real = (this[REAL] = new GlobalResponse(body, init));
    this[STATUS] = real.status;
    this[STATUS_TEXT] = real.statusText;
  }
  get status() {
    return this[STATUS];
  }
  get statusText() {
    return this[STATUS_TEXT];
  }
  get ok() {
    return this.status >= 200 && this.status <= 299;
  }
  get headers() {
    return (this[HEADERS] ??= this[REAL] ? this[REAL].headers : withDefaultType(new Headers(), this[BODY]));
  }
  static json(data, init) {
    const body = JSON.stringify(data);
    if (body === undefined) throw new TypeError("Value is not JSON serializable");
    const headers = new Headers(init?.headers);
    if (!headers.has("content-type")) headers.set("content-type", "application/json");
    return new LiteResponse(body, { status: init?.status, statusText: init?.statusText, headers });
  }
}

/** The Content-Type the real constructor would add for a string body. */
function withDefaultType(headers, body) {
  if (typeof body === "string" && !headers.has("content-type")) headers.set("content-type", "text/plain;charset=UTF-8");
  return headers;
}

function realResponse(lite) {
  if (lite[REAL]) return lite[REAL];
  const real = new GlobalResponse(lite[BODY], { status: lite.status, statusText: lite.statusText, headers: lite.headers });
  // from now on the real one answers for the headers too: it is what gets sent
  lite[HEADERS] = real.headers;
  return (lite[REAL] = real);
}

delegate(LiteResponse, GlobalResponse, realResponse, ["status", "statusText", "ok", "headers"]);

/**
 * What the bootstrap sends for a handler's answer: `{ status, headers, body }` for a recorded
 * Response (headers: a Headers, or null for none set; body: a string, bytes or null), or null
 * when it is a real Response (made by fetch(), Response.redirect(), a stream body...), which is
 * then read as one.
 */
export function recorded(response) {
  if (!isLite(response) || response[REAL]) return null;
  return { status: response[STATUS], headers: response[HEADERS] ?? null, body: response[BODY] };
}

/** The answer's real Response: the one recorded, or the one it always was. */
export function realOf(response) {
  return isLite(response) ? realResponse(response) : response;
}

// not `instanceof LiteResponse`, which real Responses answer too
const isLite = (x) => x !== null && typeof x === "object" && STATUS in x;

/** In the child, `Response` is the lightweight one (and so is what `Request`s come as). */
export function install() {
  globalThis.Response = LiteResponse;
}

/**
 * Every other member of the real prototype (getters and methods) on the lite one, answered by
 * the real object, built on first use. Both classes chain to the real ones, so `instanceof
 * Request/Response` holds for lite objects, and `instanceof` the lite classes holds for real ones.
 */
function delegate(Lite, Real, real, own) {
  for (const key of Reflect.ownKeys(Real.prototype)) {
    if (key === "constructor" || own.includes(key)) continue;
    const d = Object.getOwnPropertyDescriptor(Real.prototype, key);
    if (d.get) Object.defineProperty(Lite.prototype, key, { configurable: true, get() { return real(this)[key]; } });
    else if (typeof d.value === "function") Object.defineProperty(Lite.prototype, key, { configurable: true, writable: true, value(...args) { return real(this)[key](...args); } });
  }
  Object.setPrototypeOf(Lite.prototype, Real.prototype);
  Object.setPrototypeOf(Lite, Real);
  Object.defineProperty(Lite, Symbol.hasInstance, { value: (x) => x instanceof Real });
  Object.defineProperty(Lite, "name", { value: Real.name });
}
