import { join } from "node:path";
import { mkdir } from "node:fs/promises";
import { startDynalite, type DynaliteService } from "../server/services/dynalite.ts";
import { startS3rver, type S3rverService } from "../server/services/s3rver.ts";
import { privateSocket, unixSocketAwsConfig, type PrivateSocket } from "../server/services/unix-socket.ts";
import { readJsonFile, writeJsonFile } from "../server/home.ts";
import { createSdkProvisioner, type SdkStoreProvisioner } from "./sdk-provisioner.ts";
import { startStoreGateway, type Authorize, type StoreGateway } from "./gateway/index.ts";
import type { LocalEndpoints } from "./env.ts";

const REGION = "us-east-1";

export interface AppDataServices {
  provisioner: SdkStoreProvisioner;
  /** the store gateway's endpoints: what functions are pointed at */
  dynamodbEndpoint: string;
  s3Endpoint: string;
  /** the emulators' Unix sockets: the platform's own way in, never handed to apps */
  sockets: { dynamodb: string; s3: string };
  /** drops a key's cached grant (its deployment was removed), or every grant */
  forget(accessKeyId?: string): void;
  end(): Promise<void>;
}

export const appDataPaths = (home: string) => ({
  root: join(home, "appdata"),
  kv: join(home, "appdata", "kv"),
  blob: join(home, "appdata", "blob"),
  ports: join(home, "appdata", "ports.json"),
  /** the emulators' sockets, in a folder only the platform's user can enter (0700) */
  run: join(home, "appdata", "run"),
});

interface SavedPorts {
  dynamodb: number;
  s3: number;
}

export interface AppDataOptions {
  /** access key id -> grant; without it every request is refused */
  authorize?: Authorize;
  grantTtlMs?: number;
  /** ports to try first for the gateway (before the saved ones) */
  dynamodbPort?: number;
  s3Port?: number;
}

/**
 * App data for the embedded platform: a dynalite and an s3rver of their own (apart from the
 * platform's metadata), persisted under `<home>/appdata`, listening only on Unix sockets in
 * `<home>/appdata/run` (0700), and in front of them the store gateway on loopback TCP, which
 * lets each access key reach only the tables and buckets granted to it. The provisioner talks
 * to the emulators over their sockets; functions only ever get the gateway's endpoints.
 *
 * Deployed functions keep the endpoints they were linked with in their environment, so the
 * gateway's ports are saved in `ports.json` and asked for again on every later start (an
 * installation from before the gateway saved the emulators' ports there; the gateway takes
 * them over). Only when a saved port is taken by something else does a new one get chosen.
 */
export async function startAppDataServices(home: string, opts: AppDataOptions = {}): Promise<AppDataServices> {
  const paths = appDataPaths(home);
  await Promise.all([mkdir(paths.kv, { recursive: true }), mkdir(paths.blob, { recursive: true })]);
  const saved = await readJsonFile<Partial<SavedPorts>>(paths.ports);

  const started: { end(): Promise<void> }[] = [];
  const sockets: PrivateSocket[] = [];
  const stopAll = async () => {
    await Promise.allSettled(started.reverse().map((s) => s.end()));
    await Promise.allSettled(sockets.map((s) => s.dispose()));
  };
  let kv: DynaliteService;
  let blob: S3rverService;
  let gateway: StoreGateway;
  try {
    const kvSocket = await privateSocket(paths.run, "dynamodb.sock");
    sockets.push(kvSocket);
    const blobSocket = await privateSocket(paths.run, "s3.sock");
    sockets.push(blobSocket);
    kv = await startDynalite({ path: paths.kv, socket: kvSocket.path });
    started.push(kv);
    blob = await startS3rver({ directory: paths.blob, socket: blobSocket.path });
    started.push(blob);
    gateway = await startStoreGateway({
      dynamodbSocket: kvSocket.path,
      s3Socket: blobSocket.path,
      authorize: opts.authorize ?? (async () => null),
      grantTtlMs: opts.grantTtlMs,
      dynamodbPorts: [opts.dynamodbPort, saved?.dynamodb].filter((p): p is number => typeof p === "number"),
      s3Ports: [opts.s3Port, saved?.s3].filter((p): p is number => typeof p === "number"),
    });
    started.push({ end: () => gateway.close() });
  } catch (e) {
    await stopAll();
    throw e;
  }
  const ports: SavedPorts = { dynamodb: portOf(gateway.dynamodbEndpoint), s3: portOf(gateway.s3Endpoint) };
  if (ports.dynamodb !== saved?.dynamodb || ports.s3 !== saved?.s3) await writeJsonFile(paths.ports, ports);

  const local: LocalEndpoints = { dynamodbEndpoint: gateway.dynamodbEndpoint, s3Endpoint: gateway.s3Endpoint, region: REGION };
  const provisioner = createSdkProvisioner({ local, dynamodb: unixSocketAwsConfig(kv.socket!), s3: unixSocketAwsConfig(blob.socket!) });
  let ended = false;
  return {
    provisioner,
    dynamodbEndpoint: gateway.dynamodbEndpoint,
    s3Endpoint: gateway.s3Endpoint,
    sockets: { dynamodb: kv.socket!, s3: blob.socket! },
    forget: (key) => gateway.forget(key),
    async end() {
      if (ended) return;
      ended = true;
      provisioner.close();
      await stopAll();
    },
  };
}

const portOf = (endpoint: string) => Number(new URL(endpoint).port);
