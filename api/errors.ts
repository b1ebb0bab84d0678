import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import { FerryError } from "../core/errors.ts";
import { randomId } from "../core/ids.ts";

/**
 * The API's single error edge: a FerryError becomes its status and `{ error: { code, message } }`.
 * Anything else is unexpected: its message may hold platform paths or internals, so it is logged
 * here with a request id and answered with a generic 500 carrying only that id.
 */
export function onApiError(err: Error, c: Context) {
  if (err instanceof FerryError) {
    return c.json(err.toJSON(), err.status as 400);
  }
  if (err instanceof HTTPException && err.status < 500) {
    return c.json({ error: { code: "bad_request", message: `the request was refused (${err.status})` } }, err.status);
  }
  const requestId = `req_${randomId(16)}`;
  console.error(`[api] ${requestId} ${c.req.method} ${new URL(c.req.url).pathname}: unexpected error:`, err);
  c.header("x-request-id", requestId);
  return c.json({ error: { code: "internal_error", message: `internal error (request ${requestId}; the platform log has the details)`, requestId } }, 500);
}

export const notFound = (c: Context) =>
  c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404);
