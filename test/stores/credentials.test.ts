import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { deploymentId } from "../../core/ids.ts";
import { createStoreCredentials, loadStoreCredentials, storeGatewayKeyPath } from "../../stores/credentials.ts";
import { ACCESS_KEY_ID_RE } from "../../stores/gateway/index.ts";

describe("store gateway credentials", () => {
  const homes: string[] = [];
  afterAll(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

  it("derive an AWS-shaped key id that names its deployment, and a secret only the key file gives", async () => {
    const home = await mkdtemp(join(tmpdir(), "ferry-creds-"));
    homes.push(home);
    const a = await loadStoreCredentials(home);
    expect((await stat(storeGatewayKeyPath(home))).mode & 0o777).toBe(0o600);
    const id = deploymentId();
    const key = a.accessKeyIdFor(id);
    expect(key).toMatch(ACCESS_KEY_ID_RE);
    expect(key.startsWith("FERRY")).toBe(true);
    expect(a.deploymentIdOf(key)).toBe(id);
    expect(a.secretFor(key)).toHaveLength(43);

    // the same key file, the same credentials; another key file, other secrets
    const again = await loadStoreCredentials(home);
    expect(again.secretFor(key)).toBe(a.secretFor(key));
    expect(createStoreCredentials(randomBytes(32)).secretFor(key)).not.toBe(a.secretFor(key));
    expect(a.secretFor(a.accessKeyIdFor(deploymentId()))).not.toBe(a.secretFor(key));
  });

  it("recognize only canonical key ids of deployment ids", () => {
    const c = createStoreCredentials(randomBytes(32));
    for (const k of ["AKIAIOSFODNN7EXAMPLE", "S3RVER", "FERRY", "FERRY0189", "FERRYMRYGYX3", `${c.accessKeyIdFor("dpl_abcdefgh12345678")}A`]) expect(c.deploymentIdOf(k)).toBeNull();
    expect(() => c.accessKeyIdFor("DPL/../x")).toThrow();
  });
});
