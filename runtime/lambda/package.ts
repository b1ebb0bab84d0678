import { createHash } from "node:crypto";
import type { BlobStore } from "../../core/blobs/port.ts";
import { confinePath } from "../../core/paths.ts";
import type { BuiltFunction } from "../../core/types.ts";
import { RUNTIME_DIR, runtimeEntries } from "./runtime-files.ts";
import { zipFiles, type ZipEntry } from "./zip.ts";

export const LAMBDA_HANDLER = "ferry-lambda.handler";
const HANDLER_FILE = "ferry-lambda.mjs";
/** Lambda takes a zip of at most 50 MB in CreateFunction / UpdateFunctionCode. */
export const MAX_ZIP_BYTES = 50 * 1024 * 1024;

/** The entry's path from the app root: the bundle sits in its source's folder (`artifact.dir`). */
const entryPath = (fn: BuiltFunction) => (fn.artifact.dir ? `${confinePath(fn.artifact.dir)}/` : "") + confinePath(fn.artifact.entry);

/** The generated Lambda entry: binds the bootstrap to this bundle's entry and handler kind (and a
 * server app's entry and arguments, for its process.argv). The entry is imported as a URL
 * relative to this file, so `[id]`, `#` or `%` in a path stay literal. */
export function handlerModule(fn: BuiltFunction): string {
  const url = "./" + entryPath(fn).split("/").map(encodeURIComponent).join("/");
  const server = fn.handler === "server" ? `, { entry, args: ${JSON.stringify(fn.args ?? [])} }` : "";
  return [
    `import { createHandler } from "./${RUNTIME_DIR}/lambda/bootstrap.mjs";`,
    `const entry = new URL(${JSON.stringify(url)}, import.meta.url);`,
    `export const handler = createHandler(() => import(entry.href), ${JSON.stringify(fn.handler)}${server});`,
    "",
  ].join("\n");
}

/**
 * The function's zip, laid out as the local host materializes the function's folder
 * (runtime/local/materialize.ts): the folder is the app root (Lambda's task root, the function's
 * cwd), the bundle files in `artifact.dir`, the files it reads at run time (`artifact.assets`) at
 * their app paths, plus Ferry's bootstrap under `.ferry/` and the generated handler. Returns the
 * base64 SHA-256 Lambda reports as CodeSha256 for it.
 */
export async function packageFunction(blobs: BlobStore, fn: BuiltFunction): Promise<{ zip: Buffer; sha256: string }> {
  const entries: ZipEntry[] = [...(await runtimeEntries()), { path: HANDLER_FILE, data: Buffer.from(handlerModule(fn)) }];
  const taken = new Set(entries.map((e) => e.path));
  const bundleDir = fn.artifact.dir ? `${confinePath(fn.artifact.dir)}/` : "";
  const wanted = [
    ...fn.artifact.files.map((file) => ({ path: bundleDir + confinePath(file), key: `${fn.artifact.prefix}/${confinePath(file)}`, mode: 0o644, bundle: true })),
    ...(fn.artifact.assets ?? []).map((a) => ({ path: confinePath(a.path), key: a.key, mode: a.executable ? 0o755 : 0o644, bundle: false })),
  ];
  const files = wanted.filter((w) => {
    if (w.path === HANDLER_FILE || w.path === RUNTIME_DIR || w.path.startsWith(`${RUNTIME_DIR}/`)) throw new Error(`${fn.name}: the file ${w.path} collides with Ferry's bootstrap files`);
    // an asset at a bundle file's path: the bundle wins, as on the local host
    if (taken.has(w.path)) return false;
    taken.add(w.path);
    return true;
  });
  for (let i = 0; i < files.length; i += 16) {
    // a few at a time: a server app may ship thousands of files
    const batch = await Promise.all(
      files.slice(i, i + 16).map(async (w) => {
        const data = await blobs.get(w.key);
        if (!data) throw new Error(`artifact ${w.key} of ${fn.name} is missing`);
        return { path: w.path, data, mode: w.mode };
      }),
    );
    entries.push(...batch);
  }
  const zip = await zipFiles(entries);
  if (zip.length > MAX_ZIP_BYTES) throw new Error(`${fn.name}: the zipped function is ${zip.length} bytes, over Lambda's ${MAX_ZIP_BYTES}`);
  return { zip, sha256: createHash("sha256").update(zip).digest("base64") };
}
