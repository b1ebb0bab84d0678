import type { App } from "aws-cdk-lib";

/** What an installation chooses; every field can come from CDK context (`-c key=value`). */
export interface FerryPlatformConfig {
  /** apps domain: deployments answer at `<label>.<appsDomain>`; default: the CloudFront domain */
  appsDomain?: string;
  /** ACM certificate (us-east-1) for `*.<appsDomain>`; required with appsDomain */
  certificateArn?: string;
  /** days build logs, orphaned uploads' parts and old object versions are kept */
  retentionDays: number;
  /** RETAIN (default) keeps the table, bucket and key when the stack is deleted */
  removal: "retain" | "destroy";
  build: { timeoutSeconds: number; memoryMb: number; diskMb: number };
  /** Lambda runtime of deployed functions and of the platform's own */
  nodeRuntime: "nodejs20.x" | "nodejs22.x";
  /** first part of the names of deployed functions, their roles and app data stores */
  namePrefix: string;
}

export const DEFAULT_CONFIG: FerryPlatformConfig = {
  retentionDays: 30,
  removal: "retain",
  build: { timeoutSeconds: 900, memoryMb: 3008, diskMb: 10240 },
  nodeRuntime: "nodejs22.x",
  namePrefix: "ferry",
};

const num = (v: unknown, name: string, lo: number, hi: number): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < lo || n > hi) throw new Error(`context ${name}: ${String(v)} is not an integer in ${lo}..${hi}`);
  return n;
};

/** Reads `ferry:*` context keys (cdk.json or `-c`), checks them and fills in defaults. */
export function configFromContext(app: Pick<App, "node">): FerryPlatformConfig {
  const c = (k: string) => app.node.tryGetContext(`ferry:${k}`) as unknown;
  const d = DEFAULT_CONFIG;
  const removal = (c("removal") as string | undefined) ?? d.removal;
  if (removal !== "retain" && removal !== "destroy") throw new Error(`context ferry:removal must be retain or destroy`);
  const runtime = (c("nodeRuntime") as string | undefined) ?? d.nodeRuntime;
  if (runtime !== "nodejs20.x" && runtime !== "nodejs22.x") throw new Error(`context ferry:nodeRuntime must be nodejs20.x or nodejs22.x`);
  const appsDomain = c("appsDomain") as string | undefined;
  const certificateArn = c("certificateArn") as string | undefined;
  if (!!appsDomain !== !!certificateArn) throw new Error("context ferry:appsDomain and ferry:certificateArn go together (a wildcard certificate in us-east-1)");
  return {
    ...(appsDomain ? { appsDomain, certificateArn } : {}),
    retentionDays: num(c("retentionDays"), "ferry:retentionDays", 1, 3650) ?? d.retentionDays,
    removal,
    build: {
      // Lambda's bounds: 15 minutes, 10,240 MB of memory and of /tmp
      timeoutSeconds: num(c("buildTimeoutSeconds"), "ferry:buildTimeoutSeconds", 60, 900) ?? d.build.timeoutSeconds,
      memoryMb: num(c("buildMemoryMb"), "ferry:buildMemoryMb", 1024, 10240) ?? d.build.memoryMb,
      diskMb: num(c("buildDiskMb"), "ferry:buildDiskMb", 512, 10240) ?? d.build.diskMb,
    },
    nodeRuntime: runtime,
    namePrefix: (c("namePrefix") as string | undefined) ?? d.namePrefix,
  };
}
