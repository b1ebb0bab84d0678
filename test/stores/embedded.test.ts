import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { appDataPaths, startAppDataServices } from "../../stores/embedded.ts";

const homes: string[] = [];
const newHome = async () => {
  const h = await mkdtemp(join(tmpdir(), "ferry-appdata-"));
  homes.push(h);
  return h;
};
afterAll(() => Promise.all(homes.map((h) => rm(h, { recursive: true, force: true }))));

const portOf = (endpoint: string) => Number(new URL(endpoint).port);

describe("embedded app data services", () => {
  it("listen on loopback only and keep their ports across restarts", async () => {
    const home = await newHome();
    const first = await startAppDataServices(home);
    expect(new URL(first.dynamodbEndpoint).hostname).toBe("127.0.0.1");
    expect(new URL(first.s3Endpoint).hostname).toBe("127.0.0.1");
    await first.end();
    await first.end();
    const saved = JSON.parse(await readFile(appDataPaths(home).ports, "utf8"));
    expect(saved).toEqual({ dynamodb: portOf(first.dynamodbEndpoint), s3: portOf(first.s3Endpoint) });

    const second = await startAppDataServices(home);
    expect(second.dynamodbEndpoint).toBe(first.dynamodbEndpoint);
    expect(second.s3Endpoint).toBe(first.s3Endpoint);
    await second.end();
  });

  it("hand functions exactly the documented variables, pointing at the emulators", async () => {
    const services = await startAppDataServices(await newHome());
    try {
      const base = { accountId: "acc_x", project: "todo", environment: "production" as const };
      const kv = await services.provisioner.ensure({ ...base, name: "todos", type: "kv" });
      const blob = await services.provisioner.ensure({ ...base, name: "my-files", type: "blob" });
      const credentials = { AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "S3RVER", AWS_SECRET_ACCESS_KEY: "S3RVER" };
      expect(kv.env).toEqual({
        FERRY_STORE_TODOS_TYPE: "kv",
        FERRY_STORE_TODOS_TABLE: kv.resource,
        FERRY_STORE_TODOS_PARTITION_KEY: "pk",
        FERRY_STORE_TODOS_SORT_KEY: "sk",
        ...credentials,
        AWS_ENDPOINT_URL_DYNAMODB: services.dynamodbEndpoint,
      });
      expect(blob.env).toEqual({
        FERRY_STORE_MY_FILES_TYPE: "blob",
        FERRY_STORE_MY_FILES_BUCKET: blob.resource,
        ...credentials,
        AWS_ENDPOINT_URL_S3: services.s3Endpoint,
        AWS_REQUEST_CHECKSUM_CALCULATION: "WHEN_REQUIRED",
        AWS_RESPONSE_CHECKSUM_VALIDATION: "WHEN_REQUIRED",
        FERRY_S3_FORCE_PATH_STYLE: "true",
      });
    } finally {
      await services.end();
    }
  });

  it("move to a free port when the saved one is taken, and remember it", async () => {
    const home = await newHome();
    const first = await startAppDataServices(home);
    await first.end();
    const blocker: Server = createServer();
    await new Promise<void>((r) => blocker.listen(portOf(first.s3Endpoint), "127.0.0.1", () => r()));
    try {
      const second = await startAppDataServices(home);
      expect(second.dynamodbEndpoint).toBe(first.dynamodbEndpoint);
      expect(second.s3Endpoint).not.toBe(first.s3Endpoint);
      await second.end();
      const saved = JSON.parse(await readFile(appDataPaths(home).ports, "utf8"));
      expect(saved.s3).toBe(portOf(second.s3Endpoint));
    } finally {
      await new Promise((r) => blocker.close(r));
    }
  });
});
