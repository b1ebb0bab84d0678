import { generateApp } from "./bench/builder.ts";
import * as esbuild from "esbuild";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createFsBlobStore } from "./core/blobs/fs.ts";
import { blobKeys } from "./core/blobs/port.ts";
import { sha1 } from "./core/ids.ts";
import { materialize } from "./builder/workspace.ts";
import { bundleFunctions } from "./builder/bundle.ts";
import { detectApiFunctions } from "./builder/detect.ts";
import { DEFAULT_LIMITS } from "./builder/limits.ts";
import { build } from "./builder/build.ts";
const root = await mkdtemp(join(tmpdir(), "zzb-"));
const app = generateApp(1000);
const src = join(root, "src");
for (const [file, text] of Object.entries(app)) { await mkdir(join(src, file, ".."), { recursive: true }); await writeFile(join(src, file), text); }
const blobs = createFsBlobStore(join(root, "blobs"));
const files = [];
for (const [file, text] of Object.entries(app)) { const sha = sha1(text); await blobs.put(blobKeys.file("a", sha), text); files.push({ file, sha, size: text.length, mode: 0o100644 }); }
const res: Record<string, number[]> = {};
const add = (k: string, v: number) => (res[k] ??= []).push(v);
for (let r = 0; r < 21; r++) {
  let t = performance.now();
  await esbuild.build({ entryPoints: [join(src, "api/index.ts")], bundle: true, platform: "node", format: "esm", target: "node20", sourcemap: "linked", outdir: join(root, `raw-${r}`), logLevel: "silent" });
  add("raw", performance.now() - t); t = performance.now();
  const w = join(root, `w${r}`);
  await materialize(files, "a", blobs, w, { link: true });
  add("mat", performance.now() - t); t = performance.now();
  await bundleFunctions({ workDir: w, deploymentId: `d${r}`, functions: detectApiFunctions(files.map((f) => f.file)), config: {}, blobs, limits: DEFAULT_LIMITS, log: () => {} });
  add("bundle", performance.now() - t); t = performance.now();
  await build({ deploymentId: `e${r}`, accountId: "a", project: "b", files, config: {}, buildEnv: {} }, { blobs, log: () => {}, workDir: join(root, `x${r}`), cacheDir: join(root, "c") });
  add("build", performance.now() - t);
}
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!.toFixed(1);
console.log(Object.fromEntries(Object.entries(res).map(([k, v]) => [k, med(v)])));
