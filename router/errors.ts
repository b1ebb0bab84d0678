import { isFerryError } from "../core/errors.ts";

/** What a visitor is told for each failure. Function errors are summarized: their details
 * (exit code, stderr) go to the deployment's logs, not to whoever happens to be browsing. */
const MESSAGES: Record<string, string> = {
  deployment_not_found: "There is no deployment at this address.",
  deployment_building: "This deployment is still being built. Try again in a few seconds.",
  deployment_failed: "This deployment failed to build, so there is nothing to serve.",
  not_found: "The page could not be found.",
  bad_request: "The request path is not valid.",
  invalid_host: "The request does not name a valid host.",
  payload_too_large: "The request body is larger than this function accepts.",
  request_body_timeout: "The request body did not arrive in time.",
  deployment_lookup_failed: "The deployment for this address could not be looked up. Try again in a few seconds.",
  method_not_allowed: "This method is not allowed here.",
  function_crashed: "The function crashed while handling this request.",
  function_timeout: "The function did not respond within its maximum duration.",
  function_load_failed: "The function failed to start.",
  function_start_timeout: "The function did not start in time.",
  function_error: "The function could not handle this request.",
  function_invalid_response: "The function answered with a response that is not valid HTTP.",
  external_rewrite_unsupported: "This rewrite points to another site, which is not supported.",
};

const TITLES: Record<number, string> = {
  400: "Bad Request",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  410: "Gone",
  413: "Content Too Large",
  500: "Internal Server Error",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

export const wantsHtml = (req: Request) => (req.headers.get("accept") ?? "").includes("text/html");

/** A visitor-facing error: an HTML page for browsers, `{ error: { code, message } }` otherwise. */
export function errorResponse(req: Request, status: number, code: string, requestId: string, headers: Record<string, string> = {}, message?: string): Response {
  const text = message ?? MESSAGES[code] ?? (status >= 500 ? "Something went wrong while handling this request." : "The request could not be served.");
  const common = { ...headers, "cache-control": "no-store", "x-ferry-request-id": requestId, server: "ferry" };
  if (req.method === "HEAD") return new Response(null, { status, headers: { ...common, "content-type": wantsHtml(req) ? "text/html; charset=utf-8" : "application/json" } });
  if (wantsHtml(req)) {
    return new Response(page(status, code, text, requestId), { status, headers: { ...common, "content-type": "text/html; charset=utf-8" } });
  }
  return new Response(JSON.stringify({ error: { code, message: text, requestId } }), { status, headers: { ...common, "content-type": "application/json" } });
}

/** Maps an error thrown while serving (usually the function host's FerryError) to a page. */
export function errorFromThrown(req: Request, err: unknown, requestId: string): Response {
  if (isFerryError(err) && err.status >= 400) {
    // the request body was refused before it was all read: the connection cannot carry another
    // request, so it is closed rather than left to drain (or stall) under the next one
    const headers: Record<string, string> = err.status === 408 || err.status === 413 ? { connection: "close" } : {};
    return errorResponse(req, err.status, err.code, requestId, headers);
  }
  return errorResponse(req, 502, "function_error", requestId);
}

const escape = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

function page(status: number, code: string, message: string, requestId: string): string {
  const title = `${status}: ${TITLES[status] ?? "Error"}`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)}</title>
<style>body{font:16px/1.5 system-ui,sans-serif;margin:0;display:grid;place-items:center;min-height:100vh;color:#222;background:#fafafa}
main{max-width:32rem;padding:2rem}h1{font-size:1.5rem;margin:0 0 .5rem}code{background:#eee;padding:.1rem .3rem;border-radius:3px}small{color:#777}</style>
</head><body><main><h1>${escape(title)}</h1><p>${escape(message)}</p>
<p><small>Code: <code>${escape(code)}</code> &middot; Request: <code>${escape(requestId)}</code></small></p></main></body></html>
`;
}
