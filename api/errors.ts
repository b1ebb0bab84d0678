import type { Context } from "hono";
import { FerryError } from "../core/errors.ts";

/** The API's single error edge: FerryError -> its status and `{ error: { code, message } }`;
 * anything else is a 500 whose details stay in the server log. */
export function onApiError(err: Error, c: Context) {
  if (err instanceof FerryError) {
    return c.json(err.toJSON(), err.status as 400);
  }
  console.error("[api] unexpected error:", err);
  return c.json({ error: { code: "internal_error", message: "internal error" } }, 500);
}

export const notFound = (c: Context) =>
  c.json({ error: { code: "not_found", message: `no route for ${c.req.method} ${new URL(c.req.url).pathname}` } }, 404);
