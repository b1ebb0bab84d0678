// What every Lambda of the stack builds from its environment (set by cdk/stack.ts): the same
// metadata, blob store and encryptor the embedded platform wires, pointed at DynamoDB, S3 and KMS.
import { CloudWatchLogsClient } from "@aws-sdk/client-cloudwatch-logs";
import { IAMClient } from "@aws-sdk/client-iam";
import { KMSClient } from "@aws-sdk/client-kms";
import { LambdaClient } from "@aws-sdk/client-lambda";
import { S3Client } from "@aws-sdk/client-s3";
import { createS3BlobStore } from "../../core/blobs/s3.ts";
import { createKmsEncryptor } from "../../core/crypto/kms.ts";
import { createCloudWatchLogStore } from "../../core/logs/cloudwatch.ts";
import { createMetadata } from "../../core/metadata/repository.ts";
import { createDocClient } from "../../core/metadata/table.ts";
import { createLambdaHost } from "../../runtime/lambda/host.ts";
import { createProjectRoles } from "../../runtime/lambda/roles.ts";
import { createSdkProvisioner } from "../../stores/sdk-provisioner.ts";

export const need = (name: string): string => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set (the stack sets it)`);
  return v;
};

/** An S3 stand-in named by AWS_ENDPOINT_URL_S3 (s3rver in tests) has no virtual-host buckets
 * and predates the SDK's default checksums (aws-chunked bodies); real S3 needs neither setting. */
export const localS3 = () => (process.env.AWS_ENDPOINT_URL_S3 ? { forcePathStyle: true, requestChecksumCalculation: "WHEN_REQUIRED" as const, responseChecksumValidation: "WHEN_REQUIRED" as const } : {});

export function platformFromEnv() {
  const region = need("AWS_REGION");
  const doc = createDocClient({ region });
  const metadata = createMetadata(doc, need("FERRY_TABLE"));
  const blobs = createS3BlobStore(new S3Client({ region, ...localS3() }), need("FERRY_BUCKET"));
  const encryptor = createKmsEncryptor({ kms: new KMSClient({ region }), keyId: need("FERRY_KMS_KEY") });
  return { region, metadata, blobs, encryptor, domain: need("FERRY_DOMAIN") };
}

/** The function host as the router (invoke) and the build coordinator (deploy) use it. */
export function lambdaHostFromEnv(p: ReturnType<typeof platformFromEnv>) {
  const prefix = process.env.FERRY_FUNCTION_PREFIX || "ferry";
  const roles = createProjectRoles({
    // IAM is global: the SDK signs for us-east-1 whatever the region, and takes AWS_ENDPOINT_URL_IAM
    iam: new IAMClient({ region: p.region }),
    region: p.region,
    accountId: need("FERRY_ACCOUNT_ID"),
    functionPrefix: prefix,
    boundaryArn: process.env.FERRY_FUNCTION_BOUNDARY,
    tags: { "ferry:platform": need("FERRY_STACK") },
  });
  return createLambdaHost({ lambda: new LambdaClient({ region: p.region }), blobs: p.blobs, roles, namePrefix: prefix, tags: { "ferry:platform": need("FERRY_STACK") } });
}

/** Runtime logs for `ferry logs`: what Lambda wrote to CloudWatch Logs for the deployment's functions. */
export const runtimeLogsFromEnv = (p: ReturnType<typeof platformFromEnv>) => createCloudWatchLogStore({ logs: new CloudWatchLogsClient({ region: p.region }), blobs: p.blobs });

/** The app data stores (`kv` tables, `blob` buckets) the API and the coordinator provision. */
export const storesFromEnv = (p: { region: string }) =>
  createSdkProvisioner({ dynamodb: { region: p.region }, s3: { region: p.region, ...localS3() }, namePrefix: process.env.FERRY_STORE_PREFIX || "ferry" });
