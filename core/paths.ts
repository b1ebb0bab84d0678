import { posix } from "node:path";
import { FerryError } from "./errors.ts";

/**
 * Normalizes an uploaded file path and confines it to the deployment root.
 * Rejects what could escape or alias another file: absolute paths, `..`, NUL, backslashes,
 * empty segments. Returns the normalized relative POSIX path.
 */
export function confinePath(file: unknown): string {
  if (typeof file !== "string" || file.length === 0) {
    throw new FerryError("invalid_file_path", `file path must be a non-empty string`, 400, { file });
  }
  if (file.includes("\0")) throw bad(file, "contains a NUL byte");
  if (file.includes("\\")) throw bad(file, "contains a backslash");
  if (file.startsWith("/") || /^[a-zA-Z]:/.test(file)) throw bad(file, "is absolute");
  if (file.length > 1024) throw bad(file, "is longer than 1024 characters");
  const segments = file.split("/");
  if (segments.some((s) => s === "..")) throw bad(file, "contains '..'");
  const normalized = posix.normalize(file);
  if (normalized.startsWith("../") || normalized === ".." || normalized === "." || normalized.startsWith("/")) {
    throw bad(file, "escapes the deployment root");
  }
  return normalized.replace(/\/$/, "");
}

function bad(file: string, why: string) {
  return new FerryError("invalid_file_path", `file path ${JSON.stringify(file)} ${why}`, 400, { file });
}
