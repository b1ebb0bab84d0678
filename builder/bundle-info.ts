import { init, parse } from "es-module-lexer";

// What the build output records about a bundle, read from the bundle itself: asking esbuild for a
// metafile costs a fifth of the bundling time on a large app, and these two facts are cheap to read.

/** Export names of an ESM bundle, e.g. ["GET", "POST"] or ["default"] (a CommonJS module's `module.exports`). */
export async function exportNames(js: Uint8Array): Promise<string[]> {
  await init;
  const [, exports] = parse(Buffer.from(js.buffer, js.byteOffset, js.byteLength).toString("utf8"));
  return exports.map((e) => e.n).sort();
}

const SOURCES = '"sources": [';

/**
 * The `sources` of an esbuild source map: the files that went into the bundle, relative to the map
 * (the workspace root, where bundles are named). esbuild writes `sources` before `sourcesContent`,
 * so only the head of the map is decoded.
 */
export function mapSources(map: Uint8Array): string[] {
  const text = Buffer.from(map.buffer, map.byteOffset, map.byteLength);
  const start = text.indexOf(SOURCES);
  if (start < 0) return [];
  const end = text.indexOf('],\n  "sourcesContent"', start);
  const json = end > 0 ? text.subarray(start + SOURCES.length - 1, end + 1).toString("utf8") : null;
  if (json) return JSON.parse(json) as string[];
  return (JSON.parse(text.toString("utf8")) as { sources?: string[] }).sources ?? [];
}
