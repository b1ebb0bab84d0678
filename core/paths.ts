import { posix } from "node:path";
import { FerryError } from "./errors.ts";

/** Limits of one uploaded path, in UTF-8 bytes: what every filesystem a build runs on accepts. */
export const MAX_PATH_BYTES = 1024;
export const MAX_SEGMENT_BYTES = 255;

/** Which rule an uploaded path breaks; `rule` is stable, `message` says it to a person. */
export interface PathProblem {
  rule: "path" | "nul" | "backslash" | "absolute" | "path_length" | "segment" | "segment_length";
  message: string;
}

/**
 * The strict rule for a path in a deployment's file list: relative, `/`-separated, already
 * normal. No NUL, no backslash (a separator on Windows), not absolute, at most 1024 bytes, and
 * every segment 1-255 bytes and neither `.` nor `..`. Returns what is wrong, or null.
 */
export function uploadPathProblem(file: unknown): PathProblem | null {
  if (typeof file !== "string" || file.length === 0) return { rule: "path", message: "must be a non-empty string" };
  if (file.includes("\0")) return { rule: "nul", message: "contains a NUL byte" };
  if (file.includes("\\")) return { rule: "backslash", message: "contains a backslash" };
  if (file.startsWith("/") || /^[a-zA-Z]:/.test(file)) return { rule: "absolute", message: "is absolute" };
  const bytes = Buffer.byteLength(file);
  if (bytes > MAX_PATH_BYTES) return { rule: "path_length", message: `is ${bytes} bytes long, over the limit of ${MAX_PATH_BYTES}` };
  for (const s of file.split("/")) {
    if (s === "") return { rule: "segment", message: "has an empty segment (a leading, trailing or doubled '/')" };
    if (s === "." || s === "..") return { rule: "segment", message: `contains '${s}' as a segment` };
    const n = Buffer.byteLength(s);
    if (n > MAX_SEGMENT_BYTES) return { rule: "segment_length", message: `has a segment of ${n} bytes, over the limit of ${MAX_SEGMENT_BYTES}` };
  }
  return null;
}

/**
 * Normalizes an uploaded file path and confines it to the deployment root (for readers of
 * stored lists, which may hold `a/./b` from before the strict rule above).
 * Rejects what could escape or alias another file: absolute paths, `..`, NUL, backslashes,
 * empty results, names too long for a filesystem. Returns the normalized relative POSIX path.
 */
export function confinePath(file: unknown): string {
  if (typeof file !== "string" || file.length === 0) {
    throw new FerryError("invalid_file_path", `file path must be a non-empty string`, 400, { file });
  }
  if (file.includes("\0")) throw bad(file, "contains a NUL byte");
  if (file.includes("\\")) throw bad(file, "contains a backslash");
  if (file.startsWith("/") || /^[a-zA-Z]:/.test(file)) throw bad(file, "is absolute");
  if (Buffer.byteLength(file) > MAX_PATH_BYTES) throw bad(file, `is longer than ${MAX_PATH_BYTES} bytes`);
  const segments = file.split("/");
  if (segments.some((s) => s === "..")) throw bad(file, "contains '..'");
  const normalized = posix.normalize(file).replace(/\/$/, "");
  if (normalized.startsWith("../") || normalized === ".." || normalized === "." || normalized === "" || normalized.startsWith("/")) {
    throw bad(file, "does not name a file inside the deployment root");
  }
  if (normalized.split("/").some((s) => Buffer.byteLength(s) > MAX_SEGMENT_BYTES)) throw bad(file, `has a segment longer than ${MAX_SEGMENT_BYTES} bytes`);
  return normalized;
}

function bad(file: string, why: string) {
  return new FerryError("invalid_file_path", `file path ${JSON.stringify(file)} ${why}`, 400, { file });
}
