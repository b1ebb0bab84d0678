import { spawn, execFileSync } from "node:child_process";
import { join } from "node:path";
import { Readable } from "node:stream";
import type { ReadableStream as WebReadableStream } from "node:stream/web";
import { isolatedGitEnv } from "./run.ts";

let backendPath: string | undefined;
/** git's own smart-HTTP server, a CGI program shipped with git (`git --exec-path`). */
export function httpBackendPath(): string {
  backendPath ??= process.env.FERRY_GIT_HTTP_BACKEND || join(execFileSync("git", ["--exec-path"], { encoding: "utf8" }).trim(), "git-http-backend");
  return backendPath;
}

export interface BackendOptions {
  /** the folder holding the repository; `pathInfo` is relative to it */
  projectRoot: string;
  /** `/<repo>.git/info/refs`, `/<repo>.git/git-receive-pack`, ... */
  pathInfo: string;
  remoteUser: string;
  /** git config for this request only (`core.hooksPath`, ...), passed as GIT_CONFIG_* */
  config: Record<string, string>;
  /** more environment for git and its hooks (the push capability) */
  env?: Record<string, string>;
  /** the CGI process ended: the push (if any) is over, refs included */
  onExit?: (code: number | null) => void;
  log?: (line: string) => void;
}

const HEADER_END = /\r?\n\r?\n/;

/**
 * Runs `git http-backend` as a CGI for one Web request and answers with its output, streamed:
 * receive-pack's progress (and the hooks' `remote:` lines) reach the client while the push runs.
 */
export async function runHttpBackend(req: Request, opts: BackendOptions): Promise<Response> {
  const url = new URL(req.url);
  const config = Object.entries(opts.config);
  const env = isolatedGitEnv({
    GIT_PROJECT_ROOT: opts.projectRoot,
    GIT_HTTP_EXPORT_ALL: "1",
    GATEWAY_INTERFACE: "CGI/1.1",
    PATH_INFO: opts.pathInfo,
    REQUEST_METHOD: req.method,
    QUERY_STRING: url.search.slice(1),
    CONTENT_TYPE: req.headers.get("content-type") ?? "",
    CONTENT_LENGTH: req.headers.get("content-length") ?? undefined,
    HTTP_CONTENT_ENCODING: req.headers.get("content-encoding") ?? undefined,
    GIT_PROTOCOL: req.headers.get("git-protocol") ?? undefined,
    REMOTE_USER: opts.remoteUser,
    REMOTE_ADDR: "127.0.0.1",
    GIT_CONFIG_COUNT: String(config.length),
    ...Object.fromEntries(config.flatMap(([k, v], i) => [[`GIT_CONFIG_KEY_${i}`, k], [`GIT_CONFIG_VALUE_${i}`, v]])),
    ...opts.env,
  });
  const child = spawn(httpBackendPath(), [], { env, stdio: ["pipe", "pipe", "pipe"] });
  let stderr = "";
  child.stderr.on("data", (d: Buffer) => (stderr = (stderr + d).slice(-4096)));
  child.on("close", (code) => {
    if (code && stderr.trim()) opts.log?.(`git http-backend ${opts.pathInfo} exited ${code}: ${stderr.trim()}`);
    opts.onExit?.(code);
  });
  child.stdin.on("error", () => {});
  if (req.body) {
    const body = Readable.fromWeb(req.body as WebReadableStream<Uint8Array>);
    body.on("error", () => child.kill("SIGKILL"));
    body.pipe(child.stdin);
  } else child.stdin.end();

  // the CGI answers `Status: ...` and headers, a blank line, then the body
  const out = child.stdout[Symbol.asyncIterator]();
  let head = Buffer.alloc(0);
  let rest: Buffer | undefined;
  for (;;) {
    const next = await out.next();
    if (next.done) break;
    head = Buffer.concat([head, next.value as Buffer]);
    const m = HEADER_END.exec(head.toString("latin1"));
    if (m) {
      rest = head.subarray(m.index + m[0].length);
      head = head.subarray(0, m.index);
      break;
    }
    if (head.length > 64 * 1024) break;
  }
  if (rest === undefined) {
    child.kill("SIGKILL");
    opts.log?.(`git http-backend ${opts.pathInfo} gave no CGI headers: ${stderr.trim()}`);
    return new Response("git backend failed\n", { status: 500 });
  }
  let status = 200;
  const headers = new Headers();
  for (const line of head.toString("latin1").split(/\r?\n/)) {
    const i = line.indexOf(":");
    if (i < 0) continue;
    const name = line.slice(0, i).trim();
    const value = line.slice(i + 1).trim();
    if (name.toLowerCase() === "status") status = Number.parseInt(value, 10) || 500;
    else headers.append(name, value);
  }
  const first = rest;
  const body = new ReadableStream<Uint8Array>({
    start(controller) {
      if (first.length) controller.enqueue(new Uint8Array(first));
    },
    async pull(controller) {
      const next = await out.next();
      if (next.done) controller.close();
      else controller.enqueue(new Uint8Array(next.value as Buffer));
    },
    cancel() {
      child.kill("SIGKILL");
    },
  });
  return new Response(status === 204 || status === 304 ? null : body, { status, headers });
}
