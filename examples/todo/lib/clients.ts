// The plain AWS SDK, configured only by the environment Ferry gives each function.
// On AWS: the region and the function's role (which reaches only this project's stores).
// Embedded: AWS_ENDPOINT_URL_DYNAMODB / AWS_ENDPOINT_URL_S3, local credentials and the checksum
// settings, all read by the SDK itself. Path-style addressing has no SDK variable, hence
// FERRY_S3_FORCE_PATH_STYLE.
import { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { DynamoDBDocumentClient } from "@aws-sdk/lib-dynamodb";
import { S3Client } from "@aws-sdk/client-s3";

// Created once per instance and reused across requests (keeps connections warm).
export const db = DynamoDBDocumentClient.from(new DynamoDBClient({}), { marshallOptions: { removeUndefinedValues: true } });
export const s3 = new S3Client({ forcePathStyle: process.env.FERRY_S3_FORCE_PATH_STYLE === "true" });

/** Read when a request needs it, so a missing store fails that request with a clear message. */
function required(name: string): string {
  const value = process.env[name];
  if (!value) throw new Error(`${name} is not set: is the store declared in ferry.json?`);
  return value;
}

/** `stores.todos` in ferry.json: a DynamoDB table keyed by `pk` + `sk` (strings). */
export const todosTable = () => required("FERRY_STORE_TODOS_TABLE");
/** `stores.attachments` in ferry.json: an S3 bucket. */
export const attachmentsBucket = () => required("FERRY_STORE_ATTACHMENTS_BUCKET");
