import type { IncomingMessage, ServerResponse } from "node:http";
import type { BuiltFunction } from "../core/types.ts";

/** What a host needs to run one function of one deployment. */
export interface FunctionTarget {
  deploymentId: string;
  /** project name, for logs */
  project: string;
  fn: BuiltFunction;
  /** the function's whole environment: project env, FERRY_* facts, store endpoints. Nothing else
   * from the platform's own environment reaches the function. */
  env: Record<string, string>;
}

export interface InvokeContext {
  requestId: string;
  /** route params matched by the router (`/api/users/:id` -> { id }) */
  params?: Record<string, string | string[] | undefined>;
  /** path and query to send when it differs from `request.url` (a rewrite to a function) */
  path?: string;
  /** request headers the router adds (x-forwarded-host, x-forwarded-proto...). Passing them here
   * instead of building a second Request keeps the per-request cost of the router down. */
  headers?: Record<string, string>;
  /** headers the response must carry (request id, `server`, the deployment's header rules),
   * replacing same-named ones from the function. Every host applies them. */
  responseHeaders?: Record<string, string>;
  /** the Node request behind `request`, when the router is served by Node: a host that speaks
   * HTTP may forward its raw headers and body stream instead of converting the Web Request */
  incoming?: IncomingMessage;
  /** the Node response to write to directly: a host that can stream the function's answer
   * straight into it does so and then resolves with `sent` instead of building a Response */
  outgoing?: ServerResponse;
  /** what to resolve with after writing to `outgoing` (the HTTP adapter's "already sent" marker) */
  sent?: Response;
}

/**
 * Runs functions. `local` runs them in pooled child processes; `lambda` invokes one Lambda per
 * function. Errors a visitor should see come back as FerryError with status 502 (crash) or
 * 504 (maxDuration exceeded), never as an unhandled rejection.
 */
export interface FunctionHost {
  invoke(target: FunctionTarget, request: Request, ctx: InvokeContext): Promise<Response>;
  /** stops every instance of a deployment (deployment removed) */
  evict(deploymentId: string): Promise<void>;
  /** live instances, for tests, benchmarks and `scale to zero` checks */
  stats(): { instances: number; byDeployment: Record<string, number> };
  close(): Promise<void>;
}
