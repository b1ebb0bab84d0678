import { spawn, spawnSync } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ROOT, removeHome, startPlatformProcess } from "../test/helpers/platform-process.ts";
import { fmt, median, type BenchResult } from "./stats.ts";

const BIN = join(ROOT, "bin/ferry.mjs");
const FROM_SOURCES = join(ROOT, "bench/targets/cli-from-sources.mjs");

/** Wall time of one process from spawn to exit, in ms; throws unless it exits 0. */
function timed(args: string[], env: Record<string, string>, cwd: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const t0 = performance.now();
    const p = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    p.stderr.on("data", (d) => (stderr += d));
    p.on("error", reject);
    p.on("exit", (code) => (code === 0 ? resolve(performance.now() - t0) : reject(new Error(`node ${args.join(" ")} exited ${code}: ${stderr}`))));
  });
}

/**
 * `ferry --help` and `ferry ls --json` (against a running platform) against `node -e 0`, the
 * floor of any Node command: wall time from spawn to exit, median of `runs`, the contenders
 * taking turns so a noisy moment of the shared machine hits them alike. The compiled CLI is
 * built first, as `npm install` would have; the same commands from the TypeScript sources (what
 * `ferry` runs when dist/ is stale) are printed beside them.
 */
export async function benchCli(opts: { runs?: number } = {}): Promise<BenchResult[]> {
  const runs = opts.runs ?? 15;
  const build = spawnSync(process.execPath, [join(ROOT, "scripts/build.mjs"), "cli"], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(`the CLI build failed:\n${build.stderr}`);
  const platform = await startPlatformProcess({ compiled: true });
  // a folder of no project: `ls` lists everything, as it does for a folder never deployed
  const cwd = await mkdtemp(join(tmpdir(), "ferry-bench-cli-"));
  const env = { FERRY_HOME: platform.home, FERRY_API_URL: "", FERRY_TOKEN: "" };
  try {
    const contenders: Record<string, string[]> = {
      node: ["-e", "0"],
      help: [BIN, "--help"],
      ls: [BIN, "ls", "--json"],
      "help from sources": [FROM_SOURCES, "--help"],
      "ls from sources": [FROM_SOURCES, "ls", "--json"],
    };
    const samples: Record<string, number[]> = Object.fromEntries(Object.keys(contenders).map((k) => [k, []]));
    // one unmeasured round: disk caches, the platform's first requests
    for (const args of Object.values(contenders)) await timed(args, env, cwd);
    for (let i = 0; i < runs; i++) {
      for (const [name, args] of Object.entries(contenders)) samples[name]!.push(await timed(args, env, cwd));
    }
    const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)])) as Record<keyof typeof contenders, number>;
    const node = m.node!;
    const result = (name: string, ms: number, fromSources: number): BenchResult => ({
      name,
      ratio: ms / node,
      target: "<= 2x node -e 0",
      ok: ms / node <= 2,
      details: {
        [`median of ${runs} (ms)`]: `${fmt(ms)} vs node -e 0 ${fmt(node)}`,
        "from the TypeScript sources via tsx (ms)": `${fmt(fromSources)} (${fmt(fromSources / node, 2)}x)`,
      },
    });
    return [result("cli start-up: ferry --help", m.help!, m["help from sources"]!), result("cli start-up: ferry ls --json (running platform)", m.ls!, m["ls from sources"]!)];
  } finally {
    await platform.stop();
    await removeHome(platform.home);
    await rm(cwd, { recursive: true, force: true });
  }
}
