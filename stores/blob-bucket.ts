import {
  AbortMultipartUploadCommand,
  CreateBucketCommand,
  DeleteBucketCommand,
  DeleteObjectsCommand,
  HeadBucketCommand,
  ListBucketsCommand,
  ListMultipartUploadsCommand,
  ListObjectsV2Command,
  type BucketLocationConstraint,
  type S3Client,
} from "@aws-sdk/client-s3";
import { FerryError } from "../core/errors.ts";
import { pollUntil } from "./poll.ts";

const BUCKET_TIMEOUT_MS = 60_000;

type S3Failure = { name?: string; $metadata?: { httpStatusCode?: number } };
const status = (e: unknown) => (e as S3Failure)?.$metadata?.httpStatusCode;
const errorName = (e: unknown) => (e as S3Failure)?.name;

/** true: ours and reachable; false: missing. A 403 means another AWS account owns the name. */
async function exists(client: S3Client, bucket: string): Promise<boolean> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucket }));
    return true;
  } catch (e) {
    if (status(e) === 404 || errorName(e) === "NotFound" || errorName(e) === "NoSuchBucket") return false;
    if (status(e) === 403) throw taken(bucket);
    throw e;
  }
}

const taken = (bucket: string) =>
  new FerryError("store_name_taken", `bucket ${bucket} belongs to another AWS account; set a different store name prefix`, 409);

/** Creates the bucket when missing; creation by a concurrent ensure counts as success. */
export async function ensureBucket(client: S3Client, bucket: string): Promise<{ createdAt: number }> {
  if (await exists(client, bucket)) return { createdAt: (await creationDate(client, bucket)) ?? Date.now() };
  const region = await client.config.region();
  try {
    await client.send(
      new CreateBucketCommand({
        Bucket: bucket,
        // us-east-1 is the one region that rejects an explicit location constraint
        ...(region && region !== "us-east-1" ? { CreateBucketConfiguration: { LocationConstraint: region as BucketLocationConstraint } } : {}),
      }),
    );
  } catch (e) {
    if (errorName(e) === "BucketAlreadyExists") throw taken(bucket);
    if (errorName(e) !== "BucketAlreadyOwnedByYou") throw e;
  }
  // S3 is eventually consistent about new buckets
  if (!(await pollUntil(BUCKET_TIMEOUT_MS, async () => ((await exists(client, bucket)) ? true : undefined))))
    throw new FerryError("store_timeout", `bucket ${bucket} did not become available`, 503);
  return { createdAt: (await creationDate(client, bucket)) ?? Date.now() };
}

async function creationDate(client: S3Client, bucket: string): Promise<number | undefined> {
  // Prefix narrows the listing on AWS; emulators that ignore it still return the bucket
  const r = await client.send(new ListBucketsCommand({ Prefix: bucket }));
  return r.Buckets?.find((b) => b.Name === bucket)?.CreationDate?.getTime();
}

/** Calls `each` for every page of objects in the bucket. */
async function forEachPage(client: S3Client, bucket: string, each: (objects: { Key?: string; Size?: number }[]) => Promise<void> | void) {
  let token: string | undefined;
  do {
    const r = await client.send(new ListObjectsV2Command({ Bucket: bucket, ContinuationToken: token }));
    await each(r.Contents ?? []);
    token = r.IsTruncated ? r.NextContinuationToken : undefined;
  } while (token);
}

/** Deletes every object (1,000 per request), abandons unfinished uploads, then the bucket. */
export async function deleteBucket(client: S3Client, bucket: string): Promise<void> {
  try {
    // deleting while listing would shift pages under the continuation token: list, then delete
    const keys: string[] = [];
    await forEachPage(client, bucket, (objects) => void keys.push(...objects.flatMap((o) => (o.Key ? [o.Key] : []))));
    for (let i = 0; i < keys.length; i += 1000) {
      const r = await client.send(
        new DeleteObjectsCommand({ Bucket: bucket, Delete: { Objects: keys.slice(i, i + 1000).map((Key) => ({ Key })), Quiet: true } }),
      );
      if (r.Errors?.length) throw new Error(`could not delete ${r.Errors.length} objects from ${bucket}: ${r.Errors[0]!.Message}`);
    }
    await abortUploads(client, bucket);
    await client.send(new DeleteBucketCommand({ Bucket: bucket }));
  } catch (e) {
    if (errorName(e) === "NoSuchBucket") return;
    throw e;
  }
}

async function abortUploads(client: S3Client, bucket: string): Promise<void> {
  let KeyMarker: string | undefined;
  let UploadIdMarker: string | undefined;
  try {
    do {
      const r = await client.send(new ListMultipartUploadsCommand({ Bucket: bucket, KeyMarker, UploadIdMarker }));
      for (const u of r.Uploads ?? []) await client.send(new AbortMultipartUploadCommand({ Bucket: bucket, Key: u.Key, UploadId: u.UploadId }));
      [KeyMarker, UploadIdMarker] = r.IsTruncated ? [r.NextKeyMarker, r.NextUploadIdMarker] : [undefined, undefined];
    } while (KeyMarker);
  } catch (e) {
    // emulators without multipart listing have nothing to abort
    if (errorName(e) !== "NotImplemented") throw e;
  }
}

export async function bucketUsage(client: S3Client, bucket: string): Promise<{ items: number; bytes: number }> {
  let items = 0;
  let bytes = 0;
  await forEachPage(client, bucket, (objects) => {
    items += objects.length;
    for (const o of objects) bytes += o.Size ?? 0;
  });
  return { items, bytes };
}
