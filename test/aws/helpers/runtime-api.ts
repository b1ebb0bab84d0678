// The Lambda Runtime API on loopback, as a function's sandbox sees it: the runtime client
// long-polls GET /2018-06-01/runtime/invocation/next and answers on
// POST /2018-06-01/runtime/invocation/<id>/response | error (or /init/error). A streamed answer
// is handed on as the InvokeWithResponseStream events Lambda makes of it (a PayloadChunk per
// chunk as it arrives, then InvokeComplete with the error trailers, if any), each chunk also
// recorded with its arrival time.
import { spawn, type ChildProcess } from "node:child_process";
import { createServer, type IncomingMessage, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import type { InvokeStreamEvent } from "../../../runtime/lambda/stream-response.ts";

export interface Invocation {
  /** headers of the runtime's POST */
  headers: IncomingHttpHeaders;
  /** the answer as Lambda streams it to an InvokeWithResponseStream caller; read it once */
  events: AsyncIterable<InvokeStreamEvent>;
  /** what arrived, when (filled while `events` is read) */
  chunks: { at: number; data: Buffer }[];
  /** the error trailers, or the /error body of a failed buffered invoke */
  error?: { type?: string; body?: string };
}

export async function startRuntimeApi() {
  const queue: { id: string; event: unknown; answer: (inv: Invocation) => void }[] = [];
  const waiting: ((item: (typeof queue)[number]) => void)[] = [];
  const pending = new Map<string, (inv: Invocation) => void>();
  let initError: string | undefined;
  let exit: string | undefined;
  let seq = 0;

  const server = createServer((req, res) => {
    const url = req.url ?? "";
    if (req.method === "GET" && url === "/2018-06-01/runtime/invocation/next") {
      const send = (item: (typeof queue)[number]) => {
        pending.set(item.id, item.answer);
        res.writeHead(200, {
          "content-type": "application/json",
          "lambda-runtime-aws-request-id": item.id,
          "lambda-runtime-deadline-ms": String(Date.now() + 30_000),
          "lambda-runtime-invoked-function-arn": "arn:aws:lambda:us-east-1:123456789012:function:ferry-test:dpl_test",
          "lambda-runtime-trace-id": "Root=1-00000000-000000000000000000000000",
        });
        res.end(JSON.stringify(item.event));
      };
      const item = queue.shift();
      if (item) send(item);
      else waiting.push(send);
      return;
    }
    const m = /^\/2018-06-01\/runtime\/invocation\/([^/]+)\/(response|error)$/.exec(url);
    if (req.method === "POST" && m) {
      const answer = pending.get(decodeURIComponent(m[1]!));
      pending.delete(decodeURIComponent(m[1]!));
      if (!answer) return void res.writeHead(400).end();
      const done = () => res.writeHead(202, { "content-type": "application/json" }).end('{"status":"OK"}');
      answer(invocationOf(req, m[2] === "error", done));
      return;
    }
    if (req.method === "POST" && url === "/2018-06-01/runtime/init/error") {
      let body = "";
      req.on("data", (c) => (body += c)).on("end", () => {
        initError = body;
        res.writeHead(202).end();
      });
      return;
    }
    res.writeHead(404).end();
  });
  // Lambda's Runtime API keeps a runtime's connections however long it waits between writes (a
  // streamed answer may send nothing for a while); node's 5 s idle timeout would cut them
  server.keepAliveTimeout = 0;
  await new Promise<void>((ok) => server.listen(0, "127.0.0.1", ok));
  const address = `127.0.0.1:${(server.address() as AddressInfo).port}`;

  return {
    address,
    get initError() {
      return initError;
    },
    get exited() {
      return exit !== undefined;
    },
    /**
     * The runtime process is gone: the event it was running, and any queued, end as Lambda ends
     * them (Runtime.ExitError), and nothing more is sent here.
     */
    exit(details: string) {
      exit = details;
      for (const answer of pending.values()) answer(exited(details));
      pending.clear();
      for (const item of queue.splice(0)) item.answer(exited(details));
    },
    /** queues one event; resolves when the runtime starts answering it */
    invoke(event: unknown): Promise<Invocation> {
      return new Promise((answer) => {
        const item = { id: `req-${++seq}`, event, answer };
        if (exit !== undefined) return answer(exited(exit));
        const w = waiting.shift();
        if (w) w(item);
        else queue.push(item);
      });
    },
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}

/** What an invoke gets when the runtime process died under it. */
function exited(details: string): Invocation {
  const inv: Invocation = { headers: {}, chunks: [], error: { type: "Runtime.ExitError", body: details }, events: null as never };
  inv.events = (async function* () {
    yield { InvokeComplete: { ErrorCode: "Runtime.ExitError", ErrorDetails: details } };
  })();
  return inv;
}

function invocationOf(req: IncomingMessage, failed: boolean, done: () => void): Invocation {
  const inv: Invocation = { headers: req.headers, chunks: [], events: null as never };
  inv.events = (async function* () {
    for await (const c of req as AsyncIterable<Buffer>) {
      inv.chunks.push({ at: Date.now(), data: c });
      if (!failed) yield { PayloadChunk: { Payload: new Uint8Array(c) } };
    }
    done();
    const type = failed ? String(req.headers["lambda-runtime-function-error-type"] ?? "Unhandled") : req.trailers["lambda-runtime-function-error-type"];
    if (type) {
      inv.error = { type, body: failed ? Buffer.concat(inv.chunks.map((c) => c.data)).toString("utf8") : Buffer.from(req.trailers["lambda-runtime-function-error-body"] ?? "", "base64").toString("utf8") };
      yield { InvokeComplete: { ErrorCode: type, ErrorDetails: inv.error.body } };
    } else yield { InvokeComplete: {} };
  })();
  return inv;
}

/** Reads a whole invocation: the bytes the runtime POSTed, and how it ended. */
export async function drain(inv: Invocation): Promise<{ body: Buffer; complete: InvokeStreamEvent["InvokeComplete"] }> {
  let complete: InvokeStreamEvent["InvokeComplete"];
  for await (const e of inv.events) if (e.InvokeComplete) complete = e.InvokeComplete;
  return { body: Buffer.concat(inv.chunks.map((c) => c.data)), complete };
}

const OWN_CLIENT = fileURLToPath(new URL("./runtime-client.mjs", import.meta.url));

/**
 * Lambda's own Node runtime interface client (aws-lambda-ric, what the managed nodejs runtimes
 * run), when its native part built on this machine (an optional dependency: it needs autoconf,
 * automake and libtool). Without it, runtime-client.mjs, written after its code, stands in.
 */
export const REAL_RUNTIME_CLIENT: string | null = (() => {
  try {
    return join(dirname(createRequire(import.meta.url).resolve("aws-lambda-ric/package.json")), "bin", "index.mjs");
  } catch {
    return null;
  }
})();

/** A sandbox: the runtime client in a child process, its cwd and task root the unpacked zip. */
export function startSandbox(taskRoot: string, runtimeApi: string, env: Record<string, string> = {}, handler = "ferry-lambda.handler"): ChildProcess & { output(): string } {
  const child = spawn(process.execPath, [REAL_RUNTIME_CLIENT ?? OWN_CLIENT, handler], {
    cwd: taskRoot,
    env: { PATH: process.env.PATH ?? "", AWS_LAMBDA_RUNTIME_API: runtimeApi, LAMBDA_TASK_ROOT: taskRoot, _HANDLER: handler, ...env },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (out += d));
  return Object.assign(child, { output: () => out });
}
