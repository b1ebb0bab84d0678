import { generateApp } from "./bench/builder.ts";
import { mkdtemp, link, mkdir } from "node:fs/promises";
import { linkSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsBlobStore } from "./core/blobs/fs.ts";
import { blobKeys } from "./core/blobs/port.ts";
import { sha1 } from "./core/ids.ts";
import { materialize } from "./builder/workspace.ts";
import { eachLimit } from "./builder/concurrency.ts";
const root = await mkdtemp(join(tmpdir(), "zzb-"));
const app = generateApp(1000);
const blobs = createFsBlobStore(join(root, "blobs"));
const files = [];
for (const [file, text] of Object.entries(app)) { const sha = sha1(text); await blobs.put(blobKeys.file("a", sha), text); files.push({ file, sha, size: text.length, mode: 0o100644 }); }
const res: Record<string, number[]> = {};
const add = (k: string, v: number) => (res[k] ??= []).push(v);
for (let r = 0; r < 11; r++) {
  let t = performance.now();
  await materialize(files, "a", blobs, join(root, `m${r}`), { link: true });
  add("materialize", performance.now() - t);
  const d1 = join(root, `s${r}`); mkdirSync(join(d1, "lib"), { recursive: true }); mkdirSync(join(d1, "api"), { recursive: true });
  t = performance.now();
  for (const f of files) linkSync(join(root, "blobs", "files", "a", f.sha), join(d1, f.file));
  add("linkSync", performance.now() - t);
  const d2 = join(root, `a${r}`); mkdirSync(join(d2, "lib"), { recursive: true }); mkdirSync(join(d2, "api"), { recursive: true });
  t = performance.now();
  await eachLimit(files, 32, async (f) => link(join(root, "blobs", "files", "a", f.sha), join(d2, f.file)));
  add("linkAsync32", performance.now() - t);
  const d3 = join(root, `b${r}`); mkdirSync(join(d3, "lib"), { recursive: true }); mkdirSync(join(d3, "api"), { recursive: true });
  t = performance.now();
  await eachLimit(files, 4, async (f) => link(join(root, "blobs", "files", "a", f.sha), join(d3, f.file)));
  add("linkAsync4", performance.now() - t);
}
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!.toFixed(1);
console.log(Object.fromEntries(Object.entries(res).map(([k, v]) => [k, med(v)])));
