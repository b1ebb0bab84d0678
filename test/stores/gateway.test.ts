import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHash, randomBytes } from "node:crypto";
import { mkdtemp, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import {
  BatchWriteItemCommand,
  CreateTableCommand,
  DeleteTableCommand,
  DynamoDBClient,
  GetItemCommand,
  ListTablesCommand,
  UpdateTableCommand,
} from "@aws-sdk/client-dynamodb";
import { BatchGetCommand, BatchWriteCommand, DynamoDBDocumentClient, GetCommand, PutCommand, QueryCommand, ScanCommand } from "@aws-sdk/lib-dynamodb";
import {
  CopyObjectCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectCommand,
  DeleteObjectsCommand,
  GetObjectCommand,
  ListBucketsCommand,
  ListObjectsV2Command,
  PutObjectCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import { createAesEncryptor } from "../../core/crypto/local.ts";
import { deploymentId, randomId } from "../../core/ids.ts";
import type { Metadata } from "../../core/metadata/repository.ts";
import type { Deployment } from "../../core/types.ts";
import { linkDeployment } from "../../api/services/link.ts";
import { startAppDataServices, appDataPaths, type AppDataServices } from "../../stores/embedded.ts";
import { loadStoreCredentials, type StoreCredentials } from "../../stores/credentials.ts";
import { deploymentGrants, deploymentStoreEnv } from "../../stores/deployment-access.ts";
import { dynaliteMetadata } from "../helpers/metadata.ts";
import { runAppClient } from "./helpers.ts";

/**
 * The store gateway with real parts: dynalite and s3rver on Unix sockets, the gateway on
 * loopback, deployments in real metadata, and the AWS SDK's own clients (the reference for
 * what a correctly signed request is) configured only from what a function would be given.
 */
describe("store gateway: per-deployment credentials in front of dynalite and s3rver", () => {
  let home: string;
  let metadata: Metadata;
  let endMetadata: () => Promise<void>;
  let services: AppDataServices;
  let credentials: StoreCredentials;
  const encryptor = createAesEncryptor(randomBytes(32));
  const clients: { destroy(): void }[] = [];

  interface Deployed {
    d: Deployment;
    env: Record<string, string>;
    table: string;
    bucket: string;
    ddb: DynamoDBDocumentClient;
    raw: DynamoDBClient;
    s3: S3Client;
  }
  let alpha: Deployed;
  let beta: Deployed;

  /** A READY deployment of `project` with a kv store `todos` and a blob store `files`, linked as the builder does. */
  async function deploy(project: string, over: Partial<Deployment> = {}): Promise<Deployed> {
    const now = Date.now();
    const base: Deployment = {
      id: deploymentId(),
      accountId: "acc_gateway",
      projectId: `prj_${project}`,
      project,
      host: `${project}-${randomId(8)}`,
      state: "BUILDING",
      target: "production",
      fileCount: 1,
      config: { stores: { todos: { type: "kv" }, files: { type: "blob" } } },
      inputHash: "x",
      createdAt: now,
      updatedAt: now,
      ...over,
    };
    const linked = await linkDeployment({ metadata, encryptor, stores: services.provisioner }, base, () => {});
    const d: Deployment = { ...base, ...linked, state: "READY", readyAt: now };
    await metadata.createDeployment(d);
    const own = JSON.parse(await encryptor.decrypt(d.envCipher!)) as Record<string, string>;
    // what the router hands the deployment's functions
    const env = { ...own, ...deploymentStoreEnv(credentials, services)(d, own) };
    return { d, env, table: own.FERRY_STORE_TODOS_TABLE!, bucket: own.FERRY_STORE_FILES_BUCKET!, ...clientsFor(env) };
  }

  function clientsFor(env: Record<string, string>, over: { secret?: string; accessKeyId?: string; clockOffsetMs?: number } = {}) {
    const credentials = { accessKeyId: over.accessKeyId ?? env.AWS_ACCESS_KEY_ID!, secretAccessKey: over.secret ?? env.AWS_SECRET_ACCESS_KEY! };
    const common = { region: env.AWS_REGION!, credentials, maxAttempts: 1, ...(over.clockOffsetMs ? { systemClockOffset: over.clockOffsetMs } : {}) };
    const raw = new DynamoDBClient({ ...common, endpoint: env.AWS_ENDPOINT_URL_DYNAMODB });
    const s3 = new S3Client({ ...common, endpoint: env.AWS_ENDPOINT_URL_S3, forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED", responseChecksumValidation: "WHEN_REQUIRED" });
    clients.push(raw, s3);
    return { raw, ddb: DynamoDBDocumentClient.from(raw), s3 };
  }

  const rejection = async (p: Promise<unknown>) => {
    try {
      await p;
    } catch (e) {
      return e as Error & { $metadata?: { httpStatusCode?: number } };
    }
    throw new Error("expected the request to be refused");
  };

  beforeAll(async () => {
    home = await mkdtemp(join(tmpdir(), "ferry-gateway-"));
    ({ metadata, end: endMetadata } = await dynaliteMetadata());
    credentials = await loadStoreCredentials(home);
    services = await startAppDataServices(home, { authorize: deploymentGrants({ metadata, encryptor, credentials }) });
    alpha = await deploy("alpha");
    beta = await deploy("beta");
  });
  afterAll(async () => {
    for (const c of clients) c.destroy();
    await services?.end();
    await endMetadata?.();
    await rm(home, { recursive: true, force: true });
  });

  it("keeps the emulators on Unix sockets in a private folder and the gateway key private", async () => {
    expect(services.sockets.dynamodb.startsWith(appDataPaths(home).run)).toBe(true);
    expect((await stat(appDataPaths(home).run)).mode & 0o777).toBe(0o700);
    expect((await stat(services.sockets.s3)).isSocket()).toBe(true);
    expect((await stat(join(home, "store-gateway.key"))).mode & 0o777).toBe(0o600);
    expect(new URL(services.dynamodbEndpoint).hostname).toBe("127.0.0.1");
    expect(alpha.env.AWS_ACCESS_KEY_ID).toMatch(/^FERRY[A-Z2-7]+$/);
    expect(alpha.env.AWS_ACCESS_KEY_ID).not.toBe(beta.env.AWS_ACCESS_KEY_ID);
    expect(alpha.env.AWS_SECRET_ACCESS_KEY).not.toBe("S3RVER");
  });

  describe("a deployment's own stores", () => {
    it("Put/Get/Query/Scan on its own table", async () => {
      const { ddb, table } = alpha;
      for (const sk of ["a", "b", "c"]) await ddb.send(new PutCommand({ TableName: table, Item: { pk: "list", sk, n: sk.charCodeAt(0) } }));
      expect((await ddb.send(new GetCommand({ TableName: table, Key: { pk: "list", sk: "b" } }))).Item).toEqual({ pk: "list", sk: "b", n: 98 });
      const q = await ddb.send(new QueryCommand({ TableName: table, KeyConditionExpression: "pk = :p AND sk > :s", ExpressionAttributeValues: { ":p": "list", ":s": "a" } }));
      expect(q.Items?.map((i) => i.sk)).toEqual(["b", "c"]);
      const scan = await ddb.send(new ScanCommand({ TableName: table }));
      expect(scan.Count).toBe(3);
      const batch = await ddb.send(new BatchGetCommand({ RequestItems: { [table]: { Keys: [{ pk: "list", sk: "a" }, { pk: "list", sk: "c" }] } } }));
      expect(batch.Responses?.[table]?.length).toBe(2);
    });

    it("Put/Get/List/Delete objects in its own bucket, keys with spaces, unicode and reserved characters included", async () => {
      const { s3, bucket } = alpha;
      const keys = ["plain.txt", "dir/with space/ünïcödé.txt", "sym+bols=&?#%!'()*~.txt", "a+b=c&d"];
      for (const Key of keys) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: `body of ${Key}`, ContentType: "text/plain" }));
      for (const Key of keys) {
        const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key }));
        expect(await got.Body!.transformToString()).toBe(`body of ${Key}`);
      }
      const list = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "dir/" }));
      expect(list.Contents?.map((o) => o.Key)).toEqual(["dir/with space/ünïcödé.txt"]);
      await s3.send(new DeleteObjectCommand({ Bucket: bucket, Key: "plain.txt" }));
      await expect(s3.send(new GetObjectCommand({ Bucket: bucket, Key: "plain.txt" }))).rejects.toMatchObject({ name: "NoSuchKey" });
      await s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: "a+b=c&d" }] } }));
      const after = await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
      expect(after.Contents?.map((o) => o.Key).sort()).toEqual([keys[1], keys[2]].sort());
    });

    it("round-trips a 5 MB binary object byte for byte, streamed, and copies within its own bucket", async () => {
      const { s3, bucket } = alpha;
      const bytes = randomBytes(5 * 1024 * 1024);
      bytes.fill(0, 0, 256);
      for (let i = 0; i < 256; i++) bytes[i] = i; // every byte value
      await s3.send(new PutObjectCommand({ Bucket: bucket, Key: "big.bin", Body: bytes, ContentType: "application/octet-stream" }));
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "big.bin" }));
      const back = Buffer.from(await got.Body!.transformToByteArray());
      expect(back.length).toBe(bytes.length);
      expect(createHash("sha256").update(back).digest("hex")).toBe(createHash("sha256").update(bytes).digest("hex"));
      expect(got.ContentType).toBe("application/octet-stream");

      await s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "copy.bin", CopySource: `${bucket}/big.bin` }));
      const copy = Buffer.from(await (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "copy.bin" }))).Body!.transformToByteArray());
      expect(copy.equals(bytes)).toBe(true);
    });

    it("signs as the SDK does: sorted and encoded query parameters, folded header whitespace, ranges", async () => {
      const { s3, bucket } = alpha;
      for (const Key of ["q/a 1.txt", "q/b+2.txt", "q/c/deep.txt", "q/d~4.txt"]) await s3.send(new PutObjectCommand({ Bucket: bucket, Key, Body: Key, Metadata: { note: "  many   spaces  inside " } }));
      const page = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: "q/", Delimiter: "/", StartAfter: "q/a 1.txt", MaxKeys: 2 }));
      expect(page.Contents?.map((o) => o.Key)).toEqual(["q/b+2.txt", "q/d~4.txt"]);
      expect(page.CommonPrefixes?.map((p) => p.Prefix)).toEqual(["q/c/"]);
      const got = await s3.send(new GetObjectCommand({ Bucket: bucket, Key: "q/b+2.txt", Range: "bytes=2-4", ResponseContentDisposition: 'attachment; filename="b 2.txt"' }));
      expect(await got.Body!.transformToString()).toBe("b+2");
      expect(got.ContentDisposition).toBe('attachment; filename="b 2.txt"');
      expect(got.Metadata?.note?.trim()).toBe("many   spaces  inside");
    });

    it("serves presigned PUT and GET URLs to plain fetch, and refuses them expired or altered", async () => {
      const { s3, bucket } = alpha;
      const bytes = randomBytes(300_000);
      const putUrl = await getSignedUrl(s3, new PutObjectCommand({ Bucket: bucket, Key: "pre/signed.bin" }), { expiresIn: 300 });
      expect(new URL(putUrl).searchParams.get("X-Amz-Algorithm")).toBe("AWS4-HMAC-SHA256");
      const put = await fetch(putUrl, { method: "PUT", body: bytes, headers: { "content-type": "image/png" } });
      expect(put.status, await put.clone().text()).toBe(200);
      const getUrl = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "pre/signed.bin" }), { expiresIn: 300 });
      const get = await fetch(getUrl);
      expect(get.status).toBe(200);
      expect(Buffer.from(await get.arrayBuffer()).equals(bytes)).toBe(true);

      const expired = await getSignedUrl(s3, new GetObjectCommand({ Bucket: bucket, Key: "pre/signed.bin" }), { expiresIn: 60, signingDate: new Date(Date.now() - 5 * 60_000) });
      const late = await fetch(expired);
      expect(late.status).toBe(403);
      expect(await late.text()).toContain("<Code>AccessDenied</Code>");

      // the same signature for another key, or another bucket, is worthless
      const other = getUrl.replace("/pre/signed.bin", "/pre/other.bin");
      expect((await fetch(other)).status).toBe(403);
      const foreign = getUrl.replace(`/${bucket}/`, `/${beta.bucket}/`);
      const r = await fetch(foreign);
      expect(r.status).toBe(403);
      expect(await r.text()).toContain("<Code>SignatureDoesNotMatch</Code>");
    });

    it("gives functions what they need and nothing else: plain SDK code in a child process with only the env", async () => {
      const put = await runAppClient(alpha.env, { op: "kv-put", store: "todos", key: "from-child", value: { ok: true } });
      expect(put.item).toMatchObject({ pk: "from-child", value: { ok: true } });
      const blob = await runAppClient<{ sha256: string }>(alpha.env, { op: "blob-put", store: "files", key: "child.bin", size: 1_000_000 });
      expect(await runAppClient(alpha.env, { op: "blob-get", store: "files", key: "child.bin" })).toMatchObject({ sha256: blob.sha256, size: 1_000_000 });
      // beta's functions, pointed at alpha's table by name, are refused
      const stolen = { ...beta.env, FERRY_STORE_TODOS_TABLE: alpha.table, FERRY_STORE_FILES_BUCKET: alpha.bucket };
      await expect(runAppClient(stolen, { op: "kv-get", store: "todos", key: "from-child" })).rejects.toThrow(/AccessDenied/);
      await expect(runAppClient(stolen, { op: "blob-get", store: "files", key: "child.bin" })).rejects.toThrow(/AccessDenied/);
    });
  });

  describe("another project's stores", () => {
    it("refuses every item operation on a foreign table, naming only the table asked for", async () => {
      await beta.ddb.send(new PutCommand({ TableName: beta.table, Item: { pk: "secret", sk: "1", v: "beta's" } }));
      const { ddb } = alpha;
      for (const cmd of [
        new GetCommand({ TableName: beta.table, Key: { pk: "secret", sk: "1" } }),
        new PutCommand({ TableName: beta.table, Item: { pk: "x", sk: "y" } }),
        new QueryCommand({ TableName: beta.table, KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": "secret" } }),
        new ScanCommand({ TableName: beta.table }),
      ]) {
        const e = await rejection(ddb.send(cmd as never));
        expect(e.name).toBe("AccessDeniedException");
        expect(e.$metadata?.httpStatusCode).toBe(400);
        expect(e.message).toContain(beta.table);
        expect(e.message).not.toContain(alpha.table);
      }
    });

    it("refuses a BatchWriteItem that mixes its own and a foreign table, writing neither", async () => {
      const { ddb, table } = alpha;
      const e = await rejection(
        ddb.send(
          new BatchWriteCommand({
            RequestItems: {
              [table]: [{ PutRequest: { Item: { pk: "mixed", sk: "own" } } }],
              [beta.table]: [{ PutRequest: { Item: { pk: "mixed", sk: "foreign" } } }],
            },
          }),
        ),
      );
      expect(e.name).toBe("AccessDeniedException");
      expect((await ddb.send(new GetCommand({ TableName: table, Key: { pk: "mixed", sk: "own" } }))).Item).toBeUndefined();
      expect((await beta.ddb.send(new GetCommand({ TableName: beta.table, Key: { pk: "mixed", sk: "foreign" } }))).Item).toBeUndefined();
      const get = await rejection(ddb.send(new BatchGetCommand({ RequestItems: { [beta.table]: { Keys: [{ pk: "secret", sk: "1" }] } } })));
      expect(get.name).toBe("AccessDeniedException");
    });

    it("lists only its own tables", async () => {
      const all = await alpha.raw.send(new ListTablesCommand({}));
      expect(all.TableNames).toEqual([alpha.table]);
      const page = await beta.raw.send(new ListTablesCommand({ Limit: 1 }));
      expect(page.TableNames).toEqual([beta.table]);
      expect(page.LastEvaluatedTableName).toBeUndefined();
    });

    it("refuses foreign buckets: get, put, list, copy out of them, and ListBuckets", async () => {
      await beta.s3.send(new PutObjectCommand({ Bucket: beta.bucket, Key: "secret.txt", Body: "beta's" }));
      const { s3, bucket } = alpha;
      for (const cmd of [
        new GetObjectCommand({ Bucket: beta.bucket, Key: "secret.txt" }),
        new PutObjectCommand({ Bucket: beta.bucket, Key: "planted.txt", Body: "x" }),
        new ListObjectsV2Command({ Bucket: beta.bucket }),
        new DeleteObjectCommand({ Bucket: beta.bucket, Key: "secret.txt" }),
        new CopyObjectCommand({ Bucket: bucket, Key: "stolen.txt", CopySource: `${beta.bucket}/secret.txt` }),
      ]) {
        const e = await rejection(s3.send(cmd as never));
        expect(e.name).toBe("AccessDenied");
        expect(e.$metadata?.httpStatusCode).toBe(403);
        expect(e.message).toContain(beta.bucket);
        expect(e.message).not.toContain(bucket);
      }
      const list = await rejection(s3.send(new ListBucketsCommand({})));
      expect(list.name).toBe("AccessDenied");
      expect(list.message).not.toContain(beta.bucket);
      expect(await (await beta.s3.send(new GetObjectCommand({ Bucket: beta.bucket, Key: "secret.txt" }))).Body!.transformToString()).toBe("beta's");
      await expect(beta.s3.send(new GetObjectCommand({ Bucket: beta.bucket, Key: "planted.txt" }))).rejects.toMatchObject({ name: "NoSuchKey" });
    });

    it("refuses keys that would climb out of its bucket on the emulator's disk", async () => {
      const { s3, bucket } = alpha;
      const climb = `../${beta.bucket}/secret.txt`;
      expect((await rejection(s3.send(new GetObjectCommand({ Bucket: bucket, Key: climb })))).name).toBe("InvalidArgument");
      expect((await rejection(s3.send(new PutObjectCommand({ Bucket: bucket, Key: `../${beta.bucket}/planted.txt`, Body: "x" })))).name).toBe("InvalidArgument");
      expect((await rejection(s3.send(new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: [{ Key: climb }] } })))).name).toBe("InvalidArgument");
      expect((await rejection(s3.send(new CopyObjectCommand({ Bucket: bucket, Key: "c", CopySource: `${bucket}/../${beta.bucket}/secret.txt` })))).name).toBe("InvalidArgument");
      expect(await (await beta.s3.send(new GetObjectCommand({ Bucket: beta.bucket, Key: "secret.txt" }))).Body!.transformToString()).toBe("beta's");
      await expect(beta.s3.send(new GetObjectCommand({ Bucket: beta.bucket, Key: "planted.txt" }))).rejects.toMatchObject({ name: "NoSuchKey" });
    });
  });

  describe("managing stores is the platform's job", () => {
    it("refuses CreateTable, UpdateTable and DeleteTable, even of its own table", async () => {
      const { raw, table } = alpha;
      const create = await rejection(
        raw.send(new CreateTableCommand({ TableName: "ferry-mine", BillingMode: "PAY_PER_REQUEST", AttributeDefinitions: [{ AttributeName: "pk", AttributeType: "S" }], KeySchema: [{ AttributeName: "pk", KeyType: "HASH" }] })),
      );
      expect(create.name).toBe("AccessDeniedException");
      expect((await rejection(raw.send(new DeleteTableCommand({ TableName: table })))).name).toBe("AccessDeniedException");
      expect((await rejection(raw.send(new DeleteTableCommand({ TableName: beta.table })))).name).toBe("AccessDeniedException");
      expect((await rejection(raw.send(new UpdateTableCommand({ TableName: table, BillingMode: "PROVISIONED", ProvisionedThroughput: { ReadCapacityUnits: 1, WriteCapacityUnits: 1 } })))).name).toBe(
        "AccessDeniedException",
      );
      expect((await alpha.raw.send(new ListTablesCommand({}))).TableNames).toEqual([table]);
    });

    it("refuses CreateBucket and DeleteBucket, even of its own bucket", async () => {
      const { s3, bucket } = alpha;
      expect((await rejection(s3.send(new CreateBucketCommand({ Bucket: "ferry-new-bucket" })))).name).toBe("AccessDenied");
      expect((await rejection(s3.send(new DeleteBucketCommand({ Bucket: bucket })))).name).toBe("AccessDenied");
      expect((await rejection(s3.send(new DeleteBucketCommand({ Bucket: beta.bucket })))).name).toBe("AccessDenied");
      await s3.send(new ListObjectsV2Command({ Bucket: bucket }));
    });
  });

  describe("authentication", () => {
    it("refuses unsigned requests", async () => {
      const ddb = await fetch(services.dynamodbEndpoint, {
        method: "POST",
        headers: { "content-type": "application/x-amz-json-1.0", "x-amz-target": "DynamoDB_20120810.GetItem" },
        body: JSON.stringify({ TableName: alpha.table, Key: { pk: { S: "list" }, sk: { S: "a" } } }),
      });
      expect(ddb.status).toBe(400);
      expect((await ddb.json()).__type).toMatch(/#MissingAuthenticationTokenException$/);
      const s3 = await fetch(`${services.s3Endpoint}/${alpha.bucket}/big.bin`);
      expect(s3.status).toBe(403);
      expect(await s3.text()).toContain("<Code>AccessDenied</Code>");
      const put = await fetch(`${services.s3Endpoint}/${alpha.bucket}/anon.txt`, { method: "PUT", body: "x" });
      expect(put.status).toBe(403);
      expect((await fetch(`${services.s3Endpoint}/`)).status).toBe(403);
    });

    it("refuses a DynamoDB request over 16 MB without reading it", async () => {
      const r = await fetch(services.dynamodbEndpoint, { method: "POST", headers: { "content-type": "application/x-amz-json-1.0" }, body: Buffer.alloc(16 * 1024 * 1024 + 1, 32) }).catch((e: Error) => e);
      // the gateway answers 413 and closes; a client still sending may see the connection drop instead
      if (!(r instanceof Error)) expect(r.status).toBe(413);
    });

    it("refuses an upload that asks `Expect: 100-continue` before its body is sent", async () => {
      const { request } = await import("node:http");
      const url = new URL(`${services.s3Endpoint}/${alpha.bucket}/never-sent.bin`);
      const status = await new Promise<number>((resolve, reject) => {
        const req = request({ host: url.hostname, port: url.port, path: url.pathname, method: "PUT", headers: { expect: "100-continue", "content-length": 10_000_000 } });
        req.once("continue", () => reject(new Error("100 Continue was sent for a refused upload")));
        req.once("response", (r) => {
          r.resume();
          resolve(r.statusCode!);
          req.destroy();
        });
        req.once("error", reject);
        req.flushHeaders();
      });
      expect(status).toBe(403);
    });

    it("refuses a wrong secret, an unknown key and the emulators' old fixed pair", async () => {
      const wrong = clientsFor(alpha.env, { secret: "not-the-secret" });
      expect((await rejection(wrong.ddb.send(new GetCommand({ TableName: alpha.table, Key: { pk: "list", sk: "a" } })))).name).toBe("InvalidSignatureException");
      expect((await rejection(wrong.s3.send(new GetObjectCommand({ Bucket: alpha.bucket, Key: "big.bin" })))).name).toBe("SignatureDoesNotMatch");
      // alpha's secret with beta's key id: the secret is bound to the key
      const swapped = clientsFor(alpha.env, { accessKeyId: beta.env.AWS_ACCESS_KEY_ID });
      expect((await rejection(swapped.ddb.send(new GetCommand({ TableName: beta.table, Key: { pk: "secret", sk: "1" } })))).name).toBe("InvalidSignatureException");
      for (const accessKeyId of ["AKIAIOSFODNN7EXAMPLE", "S3RVER", credentials.accessKeyIdFor("dpl_doesnotexist00")]) {
        const unknown = clientsFor(alpha.env, { accessKeyId, secret: accessKeyId === "S3RVER" ? "S3RVER" : undefined });
        expect((await rejection(unknown.ddb.send(new GetCommand({ TableName: alpha.table, Key: { pk: "list", sk: "a" } })))).name).toBe("UnrecognizedClientException");
        expect((await rejection(unknown.s3.send(new GetObjectCommand({ Bucket: alpha.bucket, Key: "big.bin" })))).name).toBe("InvalidAccessKeyId");
      }
    });

    it("refuses a request altered after signing: another table in the body, a changed path, a flipped signature", async () => {
      const tamper = (client: { middlewareStack: { add: (...a: never[]) => void } }, change: (req: { body: unknown; path: string; headers: Record<string, string> }) => void) =>
        (client.middlewareStack.add as (mw: unknown, opts: unknown) => void)(
          (next: (a: { request: unknown }) => Promise<unknown>) => (args: { request: { body: unknown; path: string; headers: Record<string, string> } }) => {
            change(args.request);
            return next(args);
          },
          { step: "deserialize", name: "tamper" },
        );
      const { raw: ddbBody } = clientsFor(alpha.env);
      tamper(ddbBody as never, (r) => {
        r.body = Buffer.from(r.body as Uint8Array).toString("utf8").replace(alpha.table, beta.table);
        r.headers["content-length"] = String(Buffer.byteLength(r.body as string));
      });
      expect((await rejection(ddbBody.send(new GetItemCommand({ TableName: alpha.table, Key: { pk: { S: "secret" }, sk: { S: "1" } } })))).name).toBe("InvalidSignatureException");

      const { raw: ddbSig } = clientsFor(alpha.env);
      tamper(ddbSig as never, (r) => (r.headers.authorization = r.headers.authorization!.replace(/Signature=([0-9a-f])/, (_m, c: string) => `Signature=${c === "0" ? "1" : "0"}`)));
      expect((await rejection(ddbSig.send(new GetItemCommand({ TableName: alpha.table, Key: { pk: { S: "list" }, sk: { S: "a" } } })))).name).toBe("InvalidSignatureException");

      const { s3 } = clientsFor(alpha.env);
      tamper(s3 as never, (r) => (r.path = r.path.replace("/big.bin", "/copy.bin")));
      expect((await rejection(s3.send(new GetObjectCommand({ Bucket: alpha.bucket, Key: "big.bin" })))).name).toBe("SignatureDoesNotMatch");
    });

    it("refuses a request whose X-Amz-Date is more than 15 minutes off", async () => {
      const late = clientsFor(alpha.env, { clockOffsetMs: -20 * 60_000 });
      const e = await rejection(late.ddb.send(new GetCommand({ TableName: alpha.table, Key: { pk: "list", sk: "a" } })));
      expect(e.name).toBe("InvalidSignatureException");
      expect(e.message).toMatch(/expired/i);
      expect((await rejection(late.s3.send(new GetObjectCommand({ Bucket: alpha.bucket, Key: "big.bin" })))).name).toBe("RequestTimeTooSkewed");
      const early = clientsFor(alpha.env, { clockOffsetMs: 20 * 60_000 });
      expect((await rejection(early.ddb.send(new GetCommand({ TableName: alpha.table, Key: { pk: "list", sk: "a" } })))).name).toBe("InvalidSignatureException");
    });

    it("refuses the key of a removed deployment, and of one that is not READY", async () => {
      const gone = await deploy("gamma");
      await gone.ddb.send(new PutCommand({ TableName: gone.table, Item: { pk: "k", sk: "v" } }));
      await metadata.updateDeployment(gone.d.id, { removedAt: Date.now() });
      services.forget(gone.env.AWS_ACCESS_KEY_ID); // what the platform does on removal
      expect((await rejection(gone.ddb.send(new GetCommand({ TableName: gone.table, Key: { pk: "k", sk: "v" } })))).name).toBe("UnrecognizedClientException");
      expect((await rejection(gone.s3.send(new ListObjectsV2Command({ Bucket: gone.bucket })))).name).toBe("InvalidAccessKeyId");

      const building = await deploy("delta");
      await metadata.updateDeployment(building.d.id, { state: "ERROR" });
      services.forget(building.env.AWS_ACCESS_KEY_ID);
      expect((await rejection(building.ddb.send(new GetCommand({ TableName: building.table, Key: { pk: "k", sk: "v" } })))).name).toBe("UnrecognizedClientException");
    });
  });

  describe("who gets which grant", () => {
    it("grants a preview deployment its preview stores, and production's only for `production: true` stores", async () => {
      const preview = await deploy("alpha", {
        target: "preview",
        config: { stores: { todos: { type: "kv" }, files: { type: "blob", production: true } } },
      });
      expect(preview.table).not.toBe(alpha.table);
      expect(preview.bucket).toBe(alpha.bucket);
      await preview.ddb.send(new PutCommand({ TableName: preview.table, Item: { pk: "p", sk: "1" } }));
      expect((await rejection(preview.ddb.send(new GetCommand({ TableName: alpha.table, Key: { pk: "list", sk: "a" } })))).name).toBe("AccessDeniedException");
      await preview.s3.send(new ListObjectsV2Command({ Bucket: alpha.bucket }));
      expect((await preview.raw.send(new ListTablesCommand({}))).TableNames).toEqual([preview.table]);
    });

    it("grants only stores the deployment declares, whatever names its env carries", async () => {
      const grant = await deploymentGrants({ metadata, encryptor, credentials })(alpha.env.AWS_ACCESS_KEY_ID!);
      expect([...grant!.resources].sort()).toEqual([alpha.bucket, alpha.table].sort());
      // a FERRY_STORE_* variable planted in the env (ferry.json `env`) grants nothing
      const planted = await deploy("epsilon", { config: { stores: { todos: { type: "kv" }, files: { type: "blob" } } } });
      const env = JSON.parse(await encryptor.decrypt(planted.d.envCipher!)) as Record<string, string>;
      const forged = { ...planted.d, envCipher: await encryptor.encrypt(JSON.stringify({ ...env, FERRY_STORE_LOOT_TABLE: beta.table, FERRY_STORE_LOOT_TYPE: "kv" })) };
      await metadata.updateDeployment(planted.d.id, { envCipher: forged.envCipher });
      const g = await deploymentGrants({ metadata, encryptor, credentials })(planted.env.AWS_ACCESS_KEY_ID!);
      expect(g!.resources.has(beta.table)).toBe(false);
      expect(g!.resources.has(planted.table)).toBe(true);
    });

    it("the router's hook overrides the emulators' old pair and ports of deployments linked before the gateway", () => {
      const old = {
        FERRY_STORE_TODOS_TYPE: "kv",
        FERRY_STORE_TODOS_TABLE: alpha.table,
        FERRY_STORE_FILES_TYPE: "blob",
        FERRY_STORE_FILES_BUCKET: alpha.bucket,
        AWS_REGION: "us-east-1",
        AWS_ACCESS_KEY_ID: "S3RVER",
        AWS_SECRET_ACCESS_KEY: "S3RVER",
        AWS_ENDPOINT_URL_DYNAMODB: "http://127.0.0.1:1",
        AWS_ENDPOINT_URL_S3: "http://127.0.0.1:2",
      };
      const hook = deploymentStoreEnv(credentials, services);
      const env = { ...old, ...hook(alpha.d, old) };
      expect(env).toMatchObject({
        AWS_ACCESS_KEY_ID: credentials.accessKeyIdFor(alpha.d.id),
        AWS_SECRET_ACCESS_KEY: credentials.secretFor(credentials.accessKeyIdFor(alpha.d.id)),
        AWS_ENDPOINT_URL_DYNAMODB: services.dynamodbEndpoint,
        AWS_ENDPOINT_URL_S3: services.s3Endpoint,
        FERRY_S3_FORCE_PATH_STYLE: "true",
      });
      expect(hook(alpha.d, { SOME: "thing" })).toEqual({});
    });
  });
});
