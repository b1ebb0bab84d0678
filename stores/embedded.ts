import { join } from "node:path";
import { mkdir } from "node:fs/promises";
import { createServer } from "node:net";
import { startDynalite, type DynaliteService } from "../server/services/dynalite.ts";
import { startS3rver, type S3rverService } from "../server/services/s3rver.ts";
import { readJsonFile, writeJsonFile } from "../server/home.ts";
import { createSdkProvisioner, type SdkStoreProvisioner } from "./sdk-provisioner.ts";
import type { LocalEndpoints } from "./env.ts";

/** s3rver accepts only this key pair; dynalite accepts any. They authorize nothing real. */
const EMULATOR_CREDENTIALS = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" };
const REGION = "us-east-1";

export interface AppDataServices {
  provisioner: SdkStoreProvisioner;
  dynamodbEndpoint: string;
  s3Endpoint: string;
  end(): Promise<void>;
}

export const appDataPaths = (home: string) => ({
  root: join(home, "appdata"),
  kv: join(home, "appdata", "kv"),
  blob: join(home, "appdata", "blob"),
  ports: join(home, "appdata", "ports.json"),
});

interface SavedPorts {
  dynamodb: number;
  s3: number;
}

/**
 * App data for the embedded platform: a dynalite and an s3rver of their own (apart from the
 * platform's metadata, which apps must never reach), on loopback only, persisted under
 * `<home>/appdata`.
 *
 * Deployed functions keep the endpoints they were linked with in their environment, so the
 * ports chosen on first start are saved and asked for again on every later start. Only when a
 * saved port is taken by something else does a new one get chosen (and saved); deployments
 * linked before then reach their stores again after a redeploy.
 */
export async function startAppDataServices(home: string, opts: { dynamodbPort?: number; s3Port?: number } = {}): Promise<AppDataServices> {
  const paths = appDataPaths(home);
  await Promise.all([mkdir(paths.kv, { recursive: true }), mkdir(paths.blob, { recursive: true })]);
  const saved = await readJsonFile<Partial<SavedPorts>>(paths.ports);

  const kv = await withPort(opts.dynamodbPort, saved?.dynamodb, (port) => startDynalite({ path: paths.kv, port }));
  let blob: S3rverService;
  try {
    blob = await withPort(opts.s3Port, saved?.s3, (port) => startS3rver({ directory: paths.blob, port }));
  } catch (e) {
    await kv.end();
    throw e;
  }
  const ports: SavedPorts = { dynamodb: portOf(kv), s3: portOf(blob) };
  if (ports.dynamodb !== saved?.dynamodb || ports.s3 !== saved?.s3) await writeJsonFile(paths.ports, ports);

  const local: LocalEndpoints = { dynamodbEndpoint: kv.endpoint, s3Endpoint: blob.endpoint, region: REGION, ...EMULATOR_CREDENTIALS };
  const provisioner = createSdkProvisioner({ local });
  let ended = false;
  return {
    provisioner,
    dynamodbEndpoint: kv.endpoint,
    s3Endpoint: blob.endpoint,
    async end() {
      if (ended) return;
      ended = true;
      provisioner.close();
      await Promise.allSettled([kv.end(), blob.end()]);
    },
  };
}

const portOf = (s: DynaliteService | S3rverService) => Number(new URL(s.endpoint).port);

/**
 * Starts on the port asked for, else on the saved one when it is free, else on any free one.
 * The saved port is probed first because s3rver reports a taken port as an uncaught error
 * instead of a failed start.
 */
async function withPort<T>(explicit: number | undefined, saved: number | undefined, start: (port: number) => Promise<T>): Promise<T> {
  if (explicit !== undefined) return start(explicit);
  return start(saved && (await isFree(saved)) ? saved : 0);
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const probe = createServer();
    probe.once("error", () => resolve(false));
    probe.listen(port, "127.0.0.1", () => probe.close(() => resolve(true)));
  });
}
