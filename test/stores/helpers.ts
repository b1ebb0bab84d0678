import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { randomId } from "../../core/ids.ts";
import type { StoreSpec } from "../../stores/port.ts";

const APP_CLIENT = fileURLToPath(new URL("./fixtures/app-client.mjs", import.meta.url));

/**
 * Runs plain AWS SDK code in a child `node` whose environment is only what Ferry hands a
 * function (plus PATH), so the test proves the variables alone are enough.
 */
export function runAppClient<T = Record<string, unknown>>(env: Record<string, string>, cmd: Record<string, unknown>): Promise<T> {
  return new Promise((resolve, reject) => {
    execFile(
      process.execPath,
      [APP_CLIENT, JSON.stringify(cmd)],
      { env: { PATH: process.env.PATH ?? "", ...env }, maxBuffer: 1 << 20, timeout: 60_000 },
      (err, stdout, stderr) => {
        if (err) return reject(new Error(`app client ${JSON.stringify(cmd)} failed: ${stderr || err.message}`));
        resolve(JSON.parse(stdout) as T);
      },
    );
  });
}

/** A fresh project per test keeps tests independent on one shared set of services. */
export const spec = (over: Partial<StoreSpec> & Pick<StoreSpec, "type" | "name">): StoreSpec => ({
  accountId: "acc_test",
  project: `p-${randomId(8)}`,
  environment: "production",
  ...over,
});
