import type { ServerResponse } from "node:http";
import type { Dispatcher } from "undici";
import { FerryError } from "../../core/errors.ts";

/** Request headers that belong to one connection and must not be forwarded (undici rejects most). */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "transfer-encoding", "te", "upgrade", "proxy-connection", "trailer", "expect", "http2-settings"]);

export interface ForwardOptions {
  method: string;
  /** path and query sent to the instance */
  path: string;
  /** flat [name, value, name, value, ...] */
  headers: string[];
  /** a buffer (a body received whole) or a stream */
  body: Uint8Array | AsyncIterable<Uint8Array> | NodeJS.ReadableStream | null;
  /** set on the response, replacing the function's own of the same name */
  responseHeaders?: Record<string, string>;
}

/** Flattens a Request's headers for undici, dropping hop-by-hop and platform ones, then appends
 * `extra`. Host comes from the URL (a Request built in code has none in its headers), so the
 * function sees the visitor's host rather than the loopback address it is reached on. */
export function flattenHeaders(url: string, headers: Headers, extra: string[]): string[] {
  const from = url.indexOf("//") + 2;
  const to = url.indexOf("/", from);
  const out: string[] = ["host", to < 0 ? url.slice(from) : url.slice(from, to)];
  headers.forEach((value, name) => {
    if (!HOP_BY_HOP.has(name) && name !== "host" && !isPlatformHeader(name)) out.push(name, value);
  });
  for (let i = 0; i < extra.length; i++) out.push(extra[i]!);
  return out;
}

/** The same from Node's raw header list: no Headers object is built (the cheap path). `host`,
 * when given, replaces the visitor's Host: an absolute-form target names the host itself
 * (RFC 9112 §3.2.2), and the function must see the host the router routed on. */
export function flattenRawHeaders(raw: string[], extra: string[], host?: string): string[] {
  const out: string[] = host === undefined ? [] : ["host", host];
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toLowerCase();
    // HTTP/2 pseudo-headers (`:path`...) describe the request line, not headers
    if (!HOP_BY_HOP.has(name) && !isPlatformHeader(name) && name.charCodeAt(0) !== 58 && (host === undefined || name !== "host")) out.push(name, raw[i + 1]!);
  }
  for (let i = 0; i < extra.length; i++) out.push(extra[i]!);
  return out;
}

/** The host (and port) of an absolute URL string. */
export function hostOf(url: string): string {
  const from = url.indexOf("//") + 2;
  const to = url.indexOf("/", from);
  return to < 0 ? url.slice(from) : url.slice(from, to);
}

/** `x-ferry-*` (route params, request id) and `x-forwarded-*` are set by Ferry alone: a visitor
 * sending them could otherwise forge params or pose as another host. */
function isPlatformHeader(name: string): boolean {
  return name.charCodeAt(0) === 120 /* x */ && (name.startsWith("x-ferry-") || name.startsWith("x-forwarded-"));
}

/** The path and query of an absolute URL string, without parsing the whole URL. */
export function pathOf(url: string): string {
  const start = url.indexOf("/", url.indexOf("//") + 2);
  return start < 0 ? "/" : url.slice(start);
}

const NULL_BODY = new Set([101, 103, 204, 205, 304]);

/** Interim responses a function may send before its answer (Node's `writeContinue()`,
 * `writeProcessing()`, `writeEarlyHints()`); they are not passed on. */
const isInterim = (status: number) => status === 100 || status === 102 || status === 103;

/**
 * A function's final status must be one a visitor can be given: 200-599. Anything else (999,
 * a 1xx Node does not send as interim) would reach the visitor as is, or, turned into a Web
 * Response, throw; the exchange is failed with 502 `function_invalid_response` instead.
 */
function invalidStatus(status: number): FerryError {
  return new FerryError("function_invalid_response", `the function answered with HTTP status ${status}, which is not a valid final status (200-599)`, 502);
}

/**
 * Sends one request over `dispatcher` and resolves with a Web Response whose body streams as
 * the instance produces it. The Response is created one microtask after the headers arrive: when
 * the whole body came in the same read (the common small response) it is handed over as one
 * buffer, which the HTTP adapter writes with Content-Length in a single call; otherwise it is a
 * stream and each chunk passes through as it arrives (SSE, chunked bodies), with backpressure.
 *
 * `settle` runs exactly once, when the exchange is over (complete, failed or cancelled), with the
 * status (0 when no response) and the error if any.
 */
export function forward(
  dispatcher: Dispatcher,
  opts: ForwardOptions,
  mapError: (err: Error) => Promise<FerryError> | FerryError,
  settle: (status: number, err: Error | null) => void,
): { response: Promise<Response>; abort: (err: Error) => void } {
  const { promise: response, resolve: resolveRes, reject: rejectRes } = deferred<Response>();
  let abortFn: ((err?: Error) => void) | null = null;
  let pendingAbort: Error | null = null;
  let status = 0;
  let headers: Record<string, string> | Headers | null = null;
  let chunks: Buffer[] | null = null;
  let ended = false;
  let delivered = false;
  let settled = false;
  let stream: ReadableStreamDefaultController<Uint8Array> | null = null;
  let resume: (() => void) | null = null;
  let paused = false;

  const finish = (err: Error | null) => {
    if (settled) return;
    settled = true;
    settle(status, err);
  };

  const deliver = () => {
    if (settled && !ended) return; // failed before the Response was handed over: rejected instead
    try {
      build();
    } catch (e) {
      // headers a Response refuses: the function's answer cannot be passed on
      const err = new FerryError("function_invalid_response", `the function's response could not be passed on: ${(e as Error).message}`, 502);
      if (ended) {
        rejectRes(err);
        return;
      }
      delivered = false;
      if (abortFn) abortFn(err);
      else rejectRes(err);
    }
  };

  const build = () => {
    delivered = true;
    if (NULL_BODY.has(status) || opts.method === "HEAD") {
      resolveRes(new Response(null, { status, headers: headers! }));
      return;
    }
    if (ended) {
      const body = (chunks === null ? null : chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)) as Uint8Array<ArrayBuffer> | null;
      resolveRes(new Response(body, { status, headers: headers! }));
      return;
    }
    const pending = chunks;
    chunks = null;
    const body = new ReadableStream<Uint8Array>({
      start(c) {
        stream = c;
        if (pending) for (const ch of pending) c.enqueue(ch);
      },
      pull() {
        if (paused) {
          paused = false;
          resume?.();
        }
      },
      cancel() {
        abortFn?.(new Error("response cancelled by the client"));
      },
    }, { highWaterMark: 16 });
    resolveRes(new Response(body, { status, headers: headers! }));
  };

  const handler: Dispatcher.DispatchHandler = {
    onConnect(abort) {
      abortFn = abort;
      if (pendingAbort) abort(pendingAbort);
    },
    onHeaders(statusCode, raw, res) {
      if (statusCode < 200 || statusCode > 599) {
        if (isInterim(statusCode)) return true;
        abortFn?.(invalidStatus(statusCode));
        return false;
      }
      status = statusCode;
      headers = toHeaders(raw, opts.responseHeaders);
      resume = res;
      queueMicrotask(deliver);
      return true;
    },
    onData(chunk) {
      // undici reports a zero-length body piece each time a paused parser is resumed with nothing
      // buffered. Queued, it would count as a chunk, fill the stream back to its high-water mark
      // and pause the parser again, so every read would resume it for one more empty chunk: an
      // endless microtask loop that starves I/O and timers and, with a consumer writing each empty
      // chunk to a (corked) socket, grows memory without bound. An empty piece carries nothing.
      if (chunk.length === 0) return !paused;
      if (stream) {
        try {
          stream.enqueue(chunk);
        } catch {
          return false; // cancelled: the abort is on its way
        }
        if ((stream.desiredSize ?? 1) <= 0) paused = true;
        return !paused;
      }
      (chunks ??= []).push(chunk);
      return true;
    },
    onComplete() {
      ended = true;
      try {
        stream?.close();
      } catch {
        /* cancelled meanwhile */
      }
      finish(null);
    },
    onError(err) {
      finish(err);
      if (delivered) {
        try {
          stream?.error(err);
        } catch {
          /* already closed */
        }
        return;
      }
      Promise.resolve(mapError(err)).then(rejectRes, rejectRes);
    },
  };
  dispatcher.dispatch({ method: opts.method, path: opts.path, headers: opts.headers, body: opts.body as never }, handler);
  return {
    response,
    abort(err) {
      if (abortFn) abortFn(err);
      else pendingAbort = err;
    },
  };
}

/** Raw response headers -> a plain object (cheapest for the HTTP adapter), or Headers when a
 * name repeats (Set-Cookie), which a plain object cannot carry. Hop-by-hop headers are dropped;
 * `forced` ones replace the function's. */
function toHeaders(raw: Buffer[], forced: Record<string, string> | undefined): Record<string, string> | Headers {
  const out: Record<string, string> = {};
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString("latin1").toLowerCase();
    if (name === "connection" || name === "keep-alive" || name === "transfer-encoding") continue;
    if (name in out) return toHeadersMulti(raw, forced);
    out[name] = raw[i + 1]!.toString("latin1");
  }
  if (forced) for (const k in forced) out[k] = forced[k]!;
  return out;
}

function toHeadersMulti(raw: Buffer[], forced: Record<string, string> | undefined): Headers {
  const h = new Headers();
  for (let i = 0; i < raw.length; i += 2) {
    const name = raw[i]!.toString("latin1").toLowerCase();
    if (name === "connection" || name === "keep-alive" || name === "transfer-encoding") continue;
    h.append(name, raw[i + 1]!.toString("latin1"));
  }
  if (forced) for (const k in forced) h.set(k, forced[k]!);
  return h;
}

/**
 * The same exchange written straight into a Node response: no Web Response, no extra copy. The
 * promise resolves with `sent` once the status line and headers are written (the body then
 * streams with backpressure); a failure before that rejects, so the caller can still answer
 * with an error page. A visitor who disconnects aborts the exchange.
 */
export function forwardToNode(dispatcher: Dispatcher, opts: ForwardOptions, out: ServerResponse, sent: Response, owner: ExchangeOwner): { response: Promise<Response>; abort: (err: Error) => void } {
  const exchange = new NodeExchange(opts, out, sent, owner);
  // the visitor may have left while the request was being routed: "close" has fired already and
  // will not again, and a write to the dead socket would pause the exchange until maxDuration
  if (out.destroyed) exchange.leftBeforeStart();
  else {
    (out as Exchanging)[EXCHANGE] = exchange;
    out.on("close", exchangeClosed);
    dispatcher.dispatch({ method: opts.method, path: opts.path, headers: opts.headers, body: opts.body as never }, exchange);
  }
  return exchange;
}

/** The caller's side of a Node exchange: `settle` runs exactly once, when it is over (status 0
 * when there was no response); `mapError` turns a transport error into the visitor's. Methods of
 * one object per request rather than closures: the hot path allocates less. */
export interface ExchangeOwner {
  settle(status: number, err: Error | null): void;
  mapError(err: Error): Promise<FerryError> | FerryError;
}

const EXCHANGE = Symbol("ferry.exchange");
type Exchanging = ServerResponse & { [EXCHANGE]?: NodeExchange };
// the response's listeners, shared by all: each finds its exchange on the response
function exchangeClosed(this: Exchanging) {
  this[EXCHANGE]?.onClose();
}
function exchangeDrained(this: Exchanging) {
  this[EXCHANGE]?.onDrain();
}

/** One request's exchange, and its own dispatch handler: one object per request on the hot path
 * rather than a dozen closures. */
class NodeExchange implements Dispatcher.DispatchHandler {
  readonly response: Promise<Response>;
  private clientGone = false;
  private resolveRes!: (r: Response) => void;
  private rejectRes!: (e: unknown) => void;
  private abortFn: ((err?: Error) => void) | null = null;
  private pendingAbort: Error | null = null;
  private status = 0;
  private started = false;
  private settled = false;
  private resume: (() => void) | null = null;
  /** "drain" is listened for only once a write backs up: most responses never fill the buffer */
  private waitingForDrain = false;

  constructor(
    private readonly opts: ForwardOptions,
    private readonly out: ServerResponse,
    private readonly sent: Response,
    private readonly owner: ExchangeOwner,
  ) {
    this.response = new Promise<Response>((resolve, reject) => {
      this.resolveRes = resolve;
      this.rejectRes = reject;
    });
  }

  /** The visitor was gone before anything was sent: nothing is, and the exchange ends as 499. */
  leftBeforeStart() {
    this.clientGone = true;
    this.finish(null);
    this.resolveRes(this.sent);
  }

  private finish(err: Error | null) {
    if (this.settled) return;
    this.settled = true;
    this.out.off("close", exchangeClosed);
    if (this.waitingForDrain) this.out.off("drain", exchangeDrained);
    // 499: the visitor closed the connection first (nginx's convention), not a function failure
    this.owner.settle(this.clientGone ? 499 : this.status, err);
  }

  abort(err: Error) {
    if (this.abortFn) this.abortFn(err);
    else this.pendingAbort = err;
  }

  onClose() {
    if (this.settled) return;
    this.clientGone = true;
    this.abort(new Error("the client went away"));
  }

  onDrain() {
    this.resume?.();
  }

  onConnect(abort: (err?: Error) => void) {
    this.abortFn = abort;
    if (this.pendingAbort) abort(this.pendingAbort);
  }

  onHeaders(statusCode: number, raw: Buffer[], resume: () => void): boolean {
    if (statusCode < 200 || statusCode > 599) {
      if (isInterim(statusCode)) return true;
      this.abort(invalidStatus(statusCode));
      return false;
    }
    this.status = statusCode;
    this.resume = resume;
    const headers: string[] = [];
    const forced = this.opts.responseHeaders;
    for (let i = 0; i < raw.length; i += 2) {
      const name = raw[i]!.toString("latin1");
      const lower = name.toLowerCase();
      if (lower === "connection" || lower === "keep-alive" || lower === "transfer-encoding" || (forced && lower in forced)) continue;
      headers.push(name, raw[i + 1]!.toString("latin1"));
    }
    if (forced) for (const k in forced) headers.push(k, forced[k]!);
    try {
      this.out.writeHead(statusCode, headers);
    } catch (e) {
      // a header Node refuses to send (ERR_INVALID_CHAR...): nothing was written yet
      this.abort(new FerryError("function_invalid_response", `the function's response could not be passed on: ${(e as Error).message}`, 502));
      return false;
    }
    this.started = true;
    if (NULL_BODY.has(statusCode) || this.opts.method === "HEAD") this.out.end();
    this.resolveRes(this.sent);
    return true;
  }

  onData(chunk: Buffer): boolean {
    if (this.out.write(chunk)) return true;
    if (!this.waitingForDrain) {
      this.waitingForDrain = true;
      this.out.on("drain", exchangeDrained);
    }
    return false;
  }

  onComplete() {
    if (!this.out.writableEnded) this.out.end();
    this.finish(null);
  }

  onError(err: Error) {
    this.finish(err);
    if (this.started) {
      this.out.destroy(err);
      return;
    }
    Promise.resolve(this.owner.mapError(err)).then(this.rejectRes, this.rejectRes);
  }
}

/** A promise with its resolve and reject at hand (Promise.withResolvers, which Node 20 lacks). */
function deferred<T>() {
  let resolve!: (v: T) => void;
  let reject!: (e: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}
