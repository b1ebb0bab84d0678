import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { renameSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { removeHome, runFerryProcess, startPlatformProcess, type RunningPlatform } from "../test/helpers/platform-process.ts";
import { fmt, median, timeIt, type BenchResult } from "./stats.ts";

const FILES = 2000;
const FILE_BYTES = 1024;

/** A static app of `count` files of `size` random bytes (new bytes each time: no dedup helps). */
async function writeApp(dir: string, count: number, size: number) {
  await rm(dir, { recursive: true, force: true });
  for (let i = 0; i < count; i += 100) {
    const sub = join(dir, `d${Math.floor(i / 100)}`);
    await mkdir(sub, { recursive: true });
    await Promise.all(Array.from({ length: Math.min(100, count - i) }, (_, j) => writeFile(join(sub, `f${i + j}.txt`), randomBytes(size))));
  }
}

/**
 * The floor under the many-file deploy on this disk: creating `count` new files of `size` bytes
 * (write to a temp name, rename into place, as the blob store stores each upload) in a folder
 * beside the platform's home. A file-per-blob store pays this whatever the upload protocol.
 */
async function createFilesMs(near: string, count: number, size: number): Promise<number> {
  const dir = await mkdtemp(join(near, "ferry-bench-create-"));
  try {
    const bytes = randomBytes(size);
    const t0 = performance.now();
    for (let i = 0; i < count; i++) {
      writeFileSync(join(dir, `${i}.part`), bytes, { flag: "wx" });
      renameSync(join(dir, `${i}.part`), join(dir, String(i)));
    }
    return performance.now() - t0;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

async function deployOnce(platform: RunningPlatform, dir: string, name: string) {
  const r = await runFerryProcess([dir, "--name", name, "--json"], { env: { FERRY_HOME: platform.home } });
  if (r.code !== 0) throw new Error(`deploy of ${dir} failed: ${r.stderr}\nplatform output:\n${platform.output().slice(-3000)}`);
}

/**
 * A deploy of 2,000 files of 1 KB against a deploy of the same bytes as one file, through the
 * real CLI and a real platform: wall time of `ferry <dir>` from start to READY (hash, upload,
 * build), fresh bytes every run, the two taking turns; median of `rounds`.
 */
export async function benchDeployFiles(opts: { rounds?: number } = {}): Promise<BenchResult> {
  const rounds = opts.rounds ?? 3;
  const platform = await startPlatformProcess({ compiled: true });
  const work = await mkdtemp(join(tmpdir(), "ferry-bench-files-"));
  const many = join(work, "many");
  const one = join(work, "one");
  try {
    const times = { many: [] as number[], one: [] as number[] };
    // round 0 is a warm-up (the platform's first build, disk caches)
    for (let i = 0; i <= rounds; i++) {
      const order = i % 2 ? (["one", "many"] as const) : (["many", "one"] as const);
      for (const which of order) {
        if (which === "many") await writeApp(many, FILES, FILE_BYTES);
        else await writeApp(one, 1, FILES * FILE_BYTES);
        const ms = await timeIt(() => deployOnce(platform, which === "many" ? many : one, `bench-${which}`));
        if (i > 0) times[which].push(ms);
      }
    }
    const create: number[] = [];
    for (let i = 0; i < 3; i++) create.push(await createFilesMs(dirname(platform.home), FILES, FILE_BYTES));
    const m = { many: median(times.many), one: median(times.one) };
    const ratio = m.many / m.one;
    return {
      name: `deploy: ${FILES} files of ${FILE_BYTES} B vs the same bytes in one file`,
      ratio,
      target: "<= 3x",
      ok: ratio <= 3,
      details: {
        [`${FILES} files, median of ${rounds} (ms)`]: fmt(m.many, 0),
        [`one file of ${(FILES * FILE_BYTES) / 1024} KB (ms)`]: fmt(m.one, 0),
        // where the difference goes: the store makes one new file per upload
        [`creating ${FILES} new files of ${FILE_BYTES} B on this disk, as the blob store does (ms, median of 3)`]: fmt(median(create), 0),
      },
    };
  } finally {
    await platform.stop();
    await removeHome(platform.home);
    await rm(work, { recursive: true, force: true });
  }
}
