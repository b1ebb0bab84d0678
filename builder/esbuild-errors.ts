import type { Message } from "esbuild";
import type { BuildErrorItem } from "./errors.ts";

const NATIVE_LOADER = /^No loader is configured for "\.node" files: (.+)$/;

/** Package name from a path inside node_modules (`node_modules/@a/b/x.js` -> `@a/b`). */
export function packageOfPath(path: string): string | null {
  const i = path.lastIndexOf("node_modules/");
  if (i < 0) return null;
  const parts = path.slice(i + "node_modules/".length).split("/");
  return parts[0]?.startsWith("@") ? `${parts[0]}/${parts[1]}` : (parts[0] ?? null);
}

function explain(text: string): string {
  const native = text.match(NATIVE_LOADER);
  if (native) {
    const file = native[1]!;
    const pkg = packageOfPath(file);
    return `${pkg ? `package "${pkg}"` : file} contains a native addon (${file}), which Ferry cannot bundle; use a pure-JavaScript alternative`;
  }
  const missing = text.match(/^Could not resolve "([^"]+)"$/);
  if (missing && !missing[1]!.startsWith(".") && !missing[1]!.startsWith("/")) {
    return `${text} (is it listed in package.json dependencies?)`;
  }
  return text;
}

/**
 * esbuild messages as build errors: `api/hi.ts:3:10: ERROR: Expected ";" but found "}"`, with the
 * position also as fields. Lines and columns are 1-based, as editors count them.
 */
export function toBuildErrors(messages: Message[]): BuildErrorItem[] {
  return messages.map((m) => toItem(m, "ERROR"));
}

function toItem(m: Message, kind: "ERROR" | "WARNING"): BuildErrorItem {
  const text = explain(m.text);
  const loc = m.location;
  if (!loc) return { message: `${kind}: ${text}` };
  const column = loc.column + 1;
  return { message: `${loc.file}:${loc.line}:${column}: ${kind}: ${text}`, file: loc.file, line: loc.line, column };
}

/**
 * Log lines for esbuild warnings about the app's own code. Warnings inside node_modules are the
 * packages' business (dynamic requires of optional deps...), so they are only counted.
 */
export function warningLines(warnings: Message[], max = 20): string[] {
  const own = warnings.filter((w) => !w.location?.file.includes("node_modules/"));
  const lines = own.slice(0, max).map((w) => toItem(w, "WARNING").message);
  if (own.length > max) lines.push(`... and ${own.length - max} more warnings`);
  const deps = warnings.length - own.length;
  if (deps) lines.push(`${deps} warning${deps === 1 ? "" : "s"} in node_modules not shown`);
  return lines;
}
