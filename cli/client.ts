import { Agent, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage } from "node:http";
import type { Readable } from "node:stream";
import { CliError } from "./io.ts";
import type { Target } from "./config.ts";

export interface ApiErrorBody {
  error: { code: string; message: string; [k: string]: unknown };
}

/** An HTTP error from the API, keeping its stable code and extra fields (e.g. `missing`). */
export class ApiError extends CliError {
  constructor(
    readonly status: number,
    readonly body: ApiErrorBody,
  ) {
    super(body.error.message, body.error.code);
  }
}

/** A successful API response; `body` yields the bytes as they arrive (NDJSON streams). */
export interface ApiResponse {
  status: number;
  headers: IncomingHttpHeaders;
  body: AsyncIterable<Buffer>;
  text(): Promise<string>;
  json<T>(): Promise<T>;
}

export type RequestBody = string | Buffer | Readable;

export type Client = ReturnType<typeof createClient>;

/**
 * The API over node:http rather than fetch: the CLI is a short-lived process, and loading fetch
 * (undici) costs more than the rest of a `ferry ls` together. One keep-alive agent per client,
 * so a deploy's many upload requests reuse a few connections.
 */
export function createClient(target: Target) {
  let transport: Promise<{ agent: Agent; send: typeof httpRequest }> | undefined;
  // https (and its TLS stack) is loaded only for an https API
  const transportFor = (url: URL) =>
    (transport ??= url.protocol === "https:" ? import("node:https").then((https) => ({ agent: new https.Agent({ keepAlive: true }), send: https.request })) : Promise.resolve({ agent: new Agent({ keepAlive: true }), send: httpRequest }));

  const send = async (method: string, path: string, headers: Record<string, string>, body: RequestBody | undefined, retry: boolean): Promise<IncomingMessage> => {
    const url = new URL(target.apiUrl + path);
    const { agent, send: sendVia } = await transportFor(url);
    return new Promise<IncomingMessage>((resolve, reject) => {
      const req = sendVia(url, { method, headers, agent }, resolve);
      req.on("error", (e: NodeJS.ErrnoException) => {
        // a kept-alive connection the server closed just as it was reused: once more on a new one
        // (a streamed body cannot be sent twice)
        const replayable = body === undefined || typeof body === "string" || Buffer.isBuffer(body);
        if (retry && replayable && req.reusedSocket && e.code === "ECONNRESET") resolve(send(method, path, headers, body, false));
        else reject(e);
      });
      if (body === undefined || typeof body === "string" || Buffer.isBuffer(body)) req.end(body);
      else body.on("error", (e) => req.destroy(e)).pipe(req);
    });
  };

  const request = async (method: string, path: string, init: { json?: unknown; body?: RequestBody; headers?: Record<string, string> } = {}): Promise<ApiResponse> => {
    const headers: Record<string, string> = { authorization: `Bearer ${target.token}`, ...init.headers };
    let body = init.body;
    if (init.json !== undefined) {
      headers["content-type"] = "application/json";
      body = JSON.stringify(init.json);
    }
    if (typeof body === "string" || Buffer.isBuffer(body)) headers["content-length"] = String(Buffer.byteLength(body));
    let res: IncomingMessage;
    try {
      res = await send(method, path, headers, body, true);
    } catch (e) {
      // the body's own failure (a file that changed while it was read) says what it is
      if (e instanceof CliError) throw e;
      throw new CliError(`cannot reach the Ferry API at ${target.apiUrl} (${(e as Error).message}); is it running?`, "api_unreachable");
    }
    const status = res.statusCode ?? 0;
    if (status < 200 || status > 299) {
      const text = await readText(res);
      let errBody: ApiErrorBody;
      try {
        errBody = JSON.parse(text) as ApiErrorBody;
        if (!errBody?.error?.code) throw new Error();
      } catch {
        errBody = { error: { code: `http_${status}`, message: `${method} ${path} failed with HTTP ${status}: ${text.slice(0, 200)}` } };
      }
      throw new ApiError(status, errBody);
    }
    return { status, headers: res.headers, body: res, text: () => readText(res), json: async <T>() => JSON.parse(await readText(res)) as T };
  };
  return {
    target,
    request,
    json: async <T>(method: string, path: string, json?: unknown): Promise<T> => (await request(method, path, { json })).json<T>(),
  };
}

async function readText(res: IncomingMessage) {
  const chunks: Buffer[] = [];
  for await (const chunk of res) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString("utf8");
}
