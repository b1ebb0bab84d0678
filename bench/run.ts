import { benchBuilder } from "./builder.ts";
import { benchColdStart, benchRouter } from "./router.ts";
import { benchIdleApps } from "./idle.ts";
import { benchSandboxWarm } from "./sandbox.ts";
import { benchCli } from "./cli.ts";
import { benchDeployFiles } from "./deploy-files.ts";
import type { BenchResult } from "./stats.ts";

// `npm run bench [name...]`: each benchmark measures Ferry against a baseline in the same run and
// prints the ratio. Exits 0 either way: the numbers are for people, not a pass/fail gate.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

const benches: Record<string, () => Promise<BenchResult | BenchResult[]>> = {
  builder: () => benchBuilder(),
  router: () => benchRouter(),
  "cold-start": () => benchColdStart(),
  sandbox: () => benchSandboxWarm(),
  "idle-apps": () => benchIdleApps(),
  cli: () => benchCli(),
  "deploy-files": () => benchDeployFiles(),
};

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const json = process.argv.includes("--json");
const results: BenchResult[] = [];
for (const [name, run] of Object.entries(benches)) {
  if (wanted.length && !wanted.includes(name)) continue;
  process.stderr.write(`running ${name}...\n`);
  const r = await run();
  for (const one of Array.isArray(r) ? r : [r]) {
    results.push(one);
    if (!json) {
      console.log(`${one.ok ? "ok  " : "MISS"} ${one.name}: ${one.unit ? `${one.ratio} ${one.unit}` : `${one.ratio.toFixed(2)}x`} (target ${one.target})`);
      for (const [k, v] of Object.entries(one.details)) console.log(`       ${k}: ${v}`);
    }
  }
}
if (json) console.log(JSON.stringify(results, null, 2));
