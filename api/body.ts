import type { z } from "zod";
import { FerryError } from "../core/errors.ts";
import { jsonPath } from "../core/config/schema.ts";

/**
 * The one strict JSON body parser of the API. A body is read up to a byte limit (413
 * `body_too_large` from Content-Length before anything is read, or as soon as the bytes read pass
 * it), decoded as UTF-8, parsed as JSON (400 `invalid_json`) and checked against the route's zod
 * schema (400 `invalid_request` naming the field). Nothing falls back to defaults.
 */

export const KiB = 1024;
export const MiB = 1024 * KiB;
/** Every JSON route but the deployment file list. */
export const JSON_BODY_LIMIT = MiB;
/** Bytes allowed per file of the file limit in POST /v1/deployments: a file entry is about 90
 * bytes of JSON plus its path, so this leaves room for paths of 700 bytes on average. */
export const BYTES_PER_LISTED_FILE = 800;

/** The body limit of POST /v1/deployments: 16 MB at the default 20,000 files, never under 1 MiB. */
export const deploymentBodyLimit = (maxFiles: number) => Math.max(JSON_BODY_LIMIT, maxFiles * BYTES_PER_LISTED_FILE);

export const bodyTooLarge = (limit: number) =>
  new FerryError("body_too_large", `the request body is larger than the limit of ${limit} bytes for this route`, 413, { limit });

/** Reads a whole request body of at most `limit` bytes. */
export async function readLimited(req: Request, limit: number): Promise<Uint8Array> {
  const declared = req.headers.get("content-length");
  if (declared !== null && Number(declared) > limit) {
    await req.body?.cancel().catch(() => {});
    throw bodyTooLarge(limit);
  }
  if (!req.body) return new Uint8Array(0);
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      await reader.cancel().catch(() => {});
      throw bodyTooLarge(limit);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size);
}

/** Decodes and parses JSON text strictly; 400 `invalid_json` on anything that is not JSON. */
export function decodeJson(bytes: Uint8Array): { text: string; value: unknown } {
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new FerryError("invalid_json", "the request body is not valid UTF-8", 400);
  }
  if (!text.trim()) throw new FerryError("invalid_json", "the request body is empty: it must be a JSON object", 400);
  try {
    return { text, value: JSON.parse(text) };
  } catch (e) {
    throw new FerryError("invalid_json", `the request body is not valid JSON: ${(e as Error).message}`, 400);
  }
}

export interface BodyIssue {
  field: string;
  message: string;
}

/** zod issues as `{ field, message }`, naming unknown keys themselves rather than their parent. */
export function describeIssues(issues: z.ZodError["issues"]): BodyIssue[] {
  const field = (path: readonly PropertyKey[]) => (path.length ? jsonPath(path) : "body");
  return issues.flatMap((i) =>
    i.code === "unrecognized_keys" ? i.keys.map((k) => ({ field: field([...i.path, k]), message: "unknown field" })) : [{ field: field(i.path), message: i.message }],
  );
}

/** Checks a parsed body against a schema; 400 `invalid_request` naming the first fields at fault. */
export function validateBody<S extends z.ZodType>(value: unknown, schema: S): z.infer<S> {
  const r = schema.safeParse(value);
  if (r.success) return r.data;
  const issues = describeIssues(r.error.issues);
  const shown = issues.slice(0, 3).map((i) => `${i.field}: ${i.message}`).join("; ");
  throw new FerryError("invalid_request", issues.length > 3 ? `${shown} (and ${issues.length - 3} more)` : shown, 400, { field: issues[0]!.field, issues });
}
