// A Lambda Node.js runtime interface client for tests, run as the child process a Lambda
// sandbox would run: `node runtime-client.mjs <module.handler>` with AWS_LAMBDA_RUNTIME_API and
// LAMBDA_TASK_ROOT set. It follows aws-lambda-ric 3.x (the client Lambda's nodejs20.x/22.x images
// run), which needs a native build this machine's packages do not include:
// - `awslambda.streamifyResponse` marks the handler with Symbol.for("aws.lambda.runtime.handler.streaming");
// - `awslambda.HttpResponseStream.from(stream, prelude)` sets the content type
//   application/vnd.awslambda.http-integration-response and writes JSON.stringify(prelude) plus 8 NUL
//   bytes just before the first write;
// - a streaming response is one chunked POST to /invocation/<id>/response with
//   `Lambda-Runtime-Function-Response-Mode: streaming` and the error trailers announced; an error
//   after the stream began goes out as those trailers; a buffered handler POSTs its JSON result.
import http from "node:http";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";

const HANDLER_STREAMING = Symbol.for("aws.lambda.runtime.handler.streaming");
export const PRELUDE_CONTENT_TYPE = "application/vnd.awslambda.http-integration-response";
const ERROR_TYPE = "Lambda-Runtime-Function-Error-Type";
const ERROR_BODY = "Lambda-Runtime-Function-Error-Body";

/** The `awslambda` global the runtime gives handler modules. */
export function awslambdaGlobal() {
  return {
    streamifyResponse(handler) {
      handler[HANDLER_STREAMING] = "response";
      return handler;
    },
    HttpResponseStream: {
      from(underlying, prelude) {
        underlying.setContentType(PRELUDE_CONTENT_TYPE);
        const json = JSON.stringify(prelude);
        underlying._onBeforeFirstWrite = (write) => {
          write(json);
          write(new Uint8Array(8));
        };
        return underlying;
      },
    },
  };
}

/** Gives a writable the response stream's behaviour: content type settable until the first
 * write, `_onBeforeFirstWrite` run once, non-binary chunks JSON-encoded. */
export function asResponseStream(inner, setHeader) {
  let started = false;
  inner.contentType = "application/octet-stream";
  inner.setContentType = (type) => {
    if (started) throw new Error("Cannot set content-type, too late.");
    inner.contentType = type;
    setHeader?.(type);
  };
  const write = inner.write.bind(inner);
  inner.write = (chunk, encoding, cb) => {
    if (typeof chunk !== "string" && !Buffer.isBuffer(chunk) && chunk?.constructor !== Uint8Array) chunk = JSON.stringify(chunk);
    if (!started && typeof inner._onBeforeFirstWrite === "function") inner._onBeforeFirstWrite((c) => write(c));
    started = true;
    return write(chunk, encoding, cb);
  };
  return inner;
}

async function run(handlerString) {
  const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const base = { hostname: host, port: Number(port), agent };
  const call = (method, path, headers, body) =>
    new Promise((ok, fail) => {
      const req = http.request({ ...base, method, path, headers }, (res) => {
        const chunks = [];
        res.on("data", (c) => chunks.push(c));
        res.on("end", () => ok({ headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }));
      });
      req.on("error", fail);
      req.end(body);
    });
  const toError = (e) => ({ errorType: e?.name ?? "Error", errorMessage: String(e?.message ?? e), trace: String(e?.stack ?? "").split("\n") });
  const postError = (path, e) => call("POST", path, { "content-type": "application/json", [ERROR_TYPE]: toError(e).errorType }, JSON.stringify(toError(e)));

  globalThis.awslambda = awslambdaGlobal();
  let handler;
  try {
    const [, moduleName, fnName] = /^([^.]*)\.(.*)$/.exec(handlerString);
    const root = process.env.LAMBDA_TASK_ROOT;
    const file = [".mjs", ".js"].map((ext) => join(root, moduleName + ext)).find((f) => existsSync(f));
    const mod = await import(pathToFileURL(file).href);
    handler = fnName.split(".").reduce((o, k) => o?.[k], mod);
    if (typeof handler !== "function") throw new Error(`${handlerString} is not a function`);
  } catch (e) {
    await postError("/2018-06-01/runtime/init/error", e);
    process.exit(1);
  }
  for (;;) {
    const next = await call("GET", "/2018-06-01/runtime/invocation/next");
    const id = next.headers["lambda-runtime-aws-request-id"];
    const event = JSON.parse(next.body);
    const context = { awsRequestId: id, getRemainingTimeInMillis: () => Number(next.headers["lambda-runtime-deadline-ms"]) - Date.now() };
    const path = `/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/response`;
    if (handler[HANDLER_STREAMING] !== "response") {
      try {
        await call("POST", path, { "content-type": "application/json" }, JSON.stringify((await handler(event, context)) ?? null));
      } catch (e) {
        await postError(`/2018-06-01/runtime/invocation/${encodeURIComponent(id)}/error`, e);
      }
      continue;
    }
    const req = http.request({
      ...base,
      method: "POST",
      path,
      headers: { "Lambda-Runtime-Function-Response-Mode": "streaming", Trailer: [ERROR_TYPE, ERROR_BODY], "Content-Type": "application/octet-stream" },
    });
    const done = new Promise((ok, fail) => {
      req.on("response", (res) => res.resume().on("end", ok));
      req.on("error", fail);
    });
    const stream = asResponseStream(req, (type) => req.setHeader("Content-Type", type));
    try {
      await handler(event, stream, context);
      await done;
      if (!req.writableFinished) throw new Error("Response stream is not finished.");
    } catch (e) {
      const err = toError(e);
      req.addTrailers({ [ERROR_TYPE]: err.errorType, [ERROR_BODY]: Buffer.from(JSON.stringify(err)).toString("base64") });
      req.end();
      await done.catch(() => {});
    }
  }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) await run(process.argv[2] ?? process.env._HANDLER);
