import { afterAll, describe, expect, it } from "vitest";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
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
  it("keep the emulators on Unix sockets in a 0700 folder, and the gateway on loopback", async () => {
    const home = await newHome();
    const services = await startAppDataServices(home);
    try {
      const run = appDataPaths(home).run;
      expect((await stat(run)).mode & 0o777).toBe(0o700);
      for (const socket of [services.sockets.dynamodb, services.sockets.s3]) {
        expect(socket.startsWith(run)).toBe(true);
        expect((await stat(socket)).isSocket()).toBe(true);
      }
      // without grants the gateway refuses everything, unsigned requests first of all
      expect((await fetch(`${services.s3Endpoint}/`)).status).toBe(403);
    } finally {
      await services.end();
    }
    await expect(stat(services.sockets.dynamodb)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("put the sockets in a private temp folder when the home is too deep for a socket path, and remove it", async () => {
    const home = join(await newHome(), "x".repeat(60), "y".repeat(40));
    const services = await startAppDataServices(home);
    const folder = dirname(services.sockets.dynamodb);
    try {
      expect(folder.startsWith(tmpdir())).toBe(true);
      expect(folder.startsWith(home)).toBe(false);
      expect((await stat(folder)).mode & 0o777).toBe(0o700);
      expect(Buffer.byteLength(services.sockets.s3)).toBeLessThanOrEqual(100);
    } finally {
      await services.end();
    }
    await expect(stat(folder)).rejects.toMatchObject({ code: "ENOENT" });
  });

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

  it("hand functions exactly the documented variables, pointing at the gateway and carrying no credentials", async () => {
    const services = await startAppDataServices(await newHome());
    try {
      const base = { accountId: "acc_x", project: "todo", environment: "production" as const };
      const kv = await services.provisioner.ensure({ ...base, name: "todos", type: "kv" });
      const blob = await services.provisioner.ensure({ ...base, name: "my-files", type: "blob" });
      // each deployment's own key pair is added when its functions run (the router's storeAccess)
      const credentials = { AWS_REGION: "us-east-1" };
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
