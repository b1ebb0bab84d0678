import { generateApp } from "./bench/builder.ts";
import * as esbuild from "esbuild";
import { mkdtemp, mkdir, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
const root = await mkdtemp(join(tmpdir(), "zzb-"));
const app = generateApp(1000);
const src = join(root, "src");
for (const [file, text] of Object.entries(app)) { await mkdir(join(src, file, ".."), { recursive: true }); await writeFile(join(src, file), text); }
const base = { entryPoints: [join(src, "api/index.ts")], bundle: true, platform: "node" as const, format: "esm" as const, target: "node20", sourcemap: "linked" as const, logLevel: "silent" as const };
const variants: Record<string, esbuild.BuildOptions> = {
  raw: { outdir: join(root, "o") },
  nowrite: { outdir: join(root, "o"), write: false },
  meta: { outdir: join(root, "o"), write: false, metafile: true },
  ours: { absWorkingDir: src, entryPoints: [{ in: "./api/index.ts", out: "__f0" }], outdir: src, outExtension: { ".js": ".mjs" }, write: false, metafile: true, charset: "utf8", banner: { js: "import x from 'y';" }, define: { __dirname: "__d" } },
  oursNoMeta: { absWorkingDir: src, entryPoints: [{ in: "./api/index.ts", out: "__f0" }], outdir: src, outExtension: { ".js": ".mjs" }, write: false, charset: "utf8", banner: { js: "import x from 'y';" }, define: { __dirname: "__d" } },
};
const res: Record<string, number[]> = Object.fromEntries(Object.keys(variants).map((k) => [k, []]));
for (let r = 0; r < 15; r++) for (const [k, v] of Object.entries(variants)) { const t = performance.now(); await esbuild.build({ ...base, ...v }); res[k]!.push(performance.now() - t); }
const med = (a: number[]) => a.sort((x, y) => x - y)[a.length >> 1]!.toFixed(0);
console.log(Object.fromEntries(Object.entries(res).map(([k, v]) => [k, med(v)])));
