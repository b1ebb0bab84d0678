// Domain types shared by every component. Plain data: these are stored as-is in metadata
// and sent as-is over the HTTP API.
import type { ConfigSource } from "./config/source.ts";
import type { Header, Redirect, Rewrite, Route } from "@vercel/routing-utils";

export type DeploymentState = "QUEUED" | "BUILDING" | "READY" | "ERROR" | "CANCELED";
export type Target = "production" | "preview";

export interface FileEntry {
  /** relative POSIX path inside the app folder */
  file: string;
  /** SHA-1 hex of the content */
  sha: string;
  size: number;
  /** POSIX mode bits, e.g. 0o100644 */
  mode: number;
}

export interface Account {
  id: string;
  name: string;
  createdAt: number;
}

export interface TokenRecord {
  /** sha256 of the secret token */
  hash: string;
  id: string;
  accountId: string;
  name: string;
  scopes: string[];
  createdAt: number;
}

export interface Project {
  id: string;
  accountId: string;
  name: string;
  createdAt: number;
  productionDeploymentId?: string;
  /** previous production deployments, newest first, for rollback */
  productionHistory?: string[];
}

/** What a deployment records of its git origin. */
export interface GitMeta {
  sha: string;
  branch?: string;
  /** the commit's subject line */
  message?: string;
  /** `Name <email>` */
  author?: string;
  /** deployed from a work tree with uncommitted changes (CLI deploys only) */
  dirty?: boolean;
  /** where the commit came from: a linked repository's URL, or the CLI's `origin` remote */
  repo?: string;
}

export interface Deployment {
  id: string;
  accountId: string;
  projectId: string;
  project: string;
  /** the deployment's own host label: `<project>-<suffix>` */
  host: string;
  state: DeploymentState;
  target: Target;
  /** number of files; the list itself lives in the blob store (`blobKeys.fileList`) */
  fileCount: number;
  /** parsed ferry.json or vercel.json (validated) */
  config: Record<string, unknown>;
  /** which config file was read and which of its keys were ignored, for the build log */
  configSource?: ConfigSource;
  /** the function environment (ferry.json env < project env < --env, plus linked stores),
   * encrypted as one JSON object: fixed at deploy time, so existing deployments never change */
  envCipher?: string;
  /** build-time env (`build.env`, `--build-env`), encrypted; reaches the build only */
  buildEnvCipher?: string;
  /** names of the env vars, for display (values stay encrypted) */
  envKeys?: string[];
  /** hash of files + config: identical inputs reuse a previous build output */
  inputHash: string;
  /** blob key of the build output manifest once READY */
  outputKey?: string;
  errorMessage?: string;
  errorCode?: string;
  /** set when a no-change redeploy reused the build output of an earlier deployment */
  reusedFrom?: string;
  /** the commit it was made from, when it came from git (a push, a hook, or `ferry` in a work tree) */
  git?: GitMeta;
  createdAt: number;
  updatedAt: number;
  /** set by `ferry rm`: its host no longer serves */
  removedAt?: number;
  buildingAt?: number;
  readyAt?: number;
}

/** `function`: a module exporting a handler (kind found at run time from its exports);
 * `server`: an app that listens on process.env.PORT. */
export type HandlerKind = "function" | "server";

export interface FunctionConfig {
  memory: number;
  maxDuration: number;
  maxConcurrency: number;
  /** the request body streams to the function as it arrives, instead of being received whole
   * (up to the payload limit) before an instance is taken; for uploads larger than the limit */
  streamingBody?: boolean;
}

export interface BuiltFunction {
  /** stable name, e.g. `api/users/[id]` or `server` */
  name: string;
  /** path-to-regexp pattern it serves, e.g. `/api/users/:id` (`/*path` for server apps) */
  route: string;
  /** source file it was built from */
  source: string;
  handler: HandlerKind;
  /**
   * A server app's arguments after its file (`web: node app.js --port $PORT`), started with
   * `process.argv` = [node, entry, ...args]; each `${PORT}` in them is the PORT value, filled in at
   * run time. Absent: none (also in outputs built before arguments were kept).
   */
  args?: string[];
  /** export names of the entry (from the esbuild metafile), e.g. ["default"] or ["GET","POST"] */
  exports?: string[];
  /**
   * The function's folder is its app root (its working folder at run time, as a Lambda's task
   * root). `files` are the bundle's, stored under `prefix` (`entry` is one of them) and placed in
   * the folder `dir` of it, its source's folder (`api/users`), so paths relative to `__dirname`
   * hold; absent: the root. `assets` are the app's files it reads at run time (traced,
   * `includeFiles`, or a server app's whole folder), stored content-addressed like static files.
   */
  artifact: { prefix: string; entry: string; files: string[]; dir?: string; assets?: FunctionAsset[] };
  config: FunctionConfig;
}

/** A file shipped beside a function's bundle, at `path` relative to the app root. */
export interface FunctionAsset {
  path: string;
  /** blob key holding the bytes (`files/<account>/<sha>`) */
  key: string;
  sha: string;
  size: number;
  /** kept executable (a script a server app runs) */
  executable?: boolean;
}

export interface StaticFile {
  /** URL path without the leading slash, e.g. `index.html`, `docs/a b.html` */
  path: string;
  /** blob key holding the bytes */
  key: string;
  sha: string;
  size: number;
  contentType: string;
}

export interface BuildOutput {
  version: 1;
  functions: BuiltFunction[];
  static: StaticFile[];
  /** routing config carried from ferry.json, already validated */
  routes: RouteConfig;
}

/**
 * A deployment's routing. Builds store `routes`, Vercel's normalized routes array (compiled by
 * core/config/routing.ts), which the router executes, with `cleanUrls` and `trailingSlash` beside
 * it; all absent when the config has no routing rules. Outputs built before that carry only the
 * config's keys as written, and the router compiles them on load.
 */
export interface RouteConfig {
  routes?: Route[];
  redirects?: Redirect[];
  rewrites?: Rewrite[];
  headers?: Header[];
  cleanUrls?: boolean;
  trailingSlash?: boolean;
}

export type BuildResult =
  | { type: "success"; output: BuildOutput }
  | { type: "error"; errors: { message: string; file?: string; line?: number; column?: number }[] };
