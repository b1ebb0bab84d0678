import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import type { BlobStore } from "../../core/blobs/port.ts";
import type { BuiltFunction } from "../../core/types.ts";
import { zipFiles, type ZipEntry } from "./zip.ts";

export const LAMBDA_HANDLER = "ferry-lambda.handler";
/** Lambda takes a zip of at most 50 MB in CreateFunction / UpdateFunctionCode. */
export const MAX_ZIP_BYTES = 50 * 1024 * 1024;

const here = new URL(".", import.meta.url);
let runtimeFiles: Promise<ZipEntry[]> | undefined;

/** The bootstrap files every zip carries, read once: from this folder in the repository, or
 * from beside the bundled platform code (cdk/bundle.ts copies them there). */
function bootstrapFiles(): Promise<ZipEntry[]> {
  const first = (...names: string[]) => readFile(new URL(names[0]!, here)).catch(() => readFile(new URL(names[1]!, here)));
  runtimeFiles ??= Promise.all([
    first("bootstrap.mjs", "ferry-runtime.mjs").then((data) => ({ path: "ferry-runtime.mjs", data })),
    first("ferry-node-helpers.mjs", "../local/child-helpers.mjs").then((data) => ({ path: "ferry-node-helpers.mjs", data })),
  ]);
  return runtimeFiles;
}

/** The generated Lambda entry: binds the bootstrap to this bundle's entry and handler kind. */
export function handlerModule(fn: BuiltFunction): string {
  const entry = JSON.stringify("./" + fn.artifact.entry.replace(/^\.?\//, ""));
  return [
    `import { createHandler } from "./ferry-runtime.mjs";`,
    `export const handler = createHandler(() => import(${entry}), ${JSON.stringify(fn.handler)}, { nodeHelpers: () => import("./ferry-node-helpers.mjs") });`,
    "",
  ].join("\n");
}

/** The function's zip: its bundle files from the blob store plus the bootstrap, and the
 * base64 SHA-256 Lambda reports as CodeSha256 for it. */
export async function packageFunction(blobs: BlobStore, fn: BuiltFunction): Promise<{ zip: Buffer; sha256: string }> {
  const entries: ZipEntry[] = [...(await bootstrapFiles()), { path: "ferry-lambda.mjs", data: Buffer.from(handlerModule(fn)) }];
  for (const file of fn.artifact.files) {
    const data = await blobs.get(`${fn.artifact.prefix}/${file}`);
    if (!data) throw new Error(`artifact ${fn.artifact.prefix}/${file} of ${fn.name} is missing`);
    if (file.startsWith("ferry-")) throw new Error(`bundle file ${file} collides with Ferry's bootstrap files`);
    entries.push({ path: file, data });
  }
  const zip = zipFiles(entries);
  if (zip.length > MAX_ZIP_BYTES) throw new Error(`${fn.name}: the zipped function is ${zip.length} bytes, over Lambda's ${MAX_ZIP_BYTES}`);
  return { zip, sha256: createHash("sha256").update(zip).digest("base64") };
}
