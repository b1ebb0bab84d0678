import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { randomId } from "../../core/ids.ts";
import type { Grant } from "../../stores/gateway/index.ts";
import type { LinkedStore, StoreSpec } from "../../stores/port.ts";

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

/**
 * Store gateway grants for tests that have no deployments: `authorize` for the gateway, and
 * `access(...stores)` for the variables a function granted exactly those stores would get.
 */
export function testGrants() {
  const keys = new Map<string, Grant>();
  return {
    authorize: async (accessKeyId: string) => keys.get(accessKeyId) ?? null,
    credentials(...resources: string[]): Record<string, string> {
      const id = `FERRYTEST${randomId(16).toUpperCase()}`;
      const secret = randomBytes(24).toString("base64url");
      keys.set(id, { secret, resources: new Set(resources) });
      return { AWS_ACCESS_KEY_ID: id, AWS_SECRET_ACCESS_KEY: secret };
    },
    /** a linked store's env plus credentials for it alone */
    access(...stores: LinkedStore[]): Record<string, string> {
      return Object.assign({}, ...stores.map((s) => s.env), this.credentials(...stores.map((s) => s.resource)));
    },
  };
}
