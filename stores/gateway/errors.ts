import { randomBytes } from "node:crypto";
import type { ServerResponse } from "node:http";

/**
 * Refusals in the shapes the AWS SDK parses, so app code sees the same error names it would on
 * AWS (`e.name === "AccessDeniedException"`, `"AccessDenied"`, ...).
 *
 * DynamoDB (JSON 1.0 protocol): HTTP 400 with `{"__type": "<namespace>#<Name>", "message": ...}`;
 * the SDK takes the name after `#`. AWS sends its authentication and authorization errors from
 * the `com.amazon.coral.service` namespace, and so does this gateway.
 * S3 (REST-XML): the status plus `<Error><Code>..</Code><Message>..</Message></Error>`; a HEAD
 * response has no body, so the SDK names the error after the status.
 */

const requestId = () => randomBytes(8).toString("hex").toUpperCase();

export function dynamodbError(res: ServerResponse, status: number, name: string, message: string): void {
  if (res.headersSent) return void res.destroy();
  const body = JSON.stringify({ __type: `com.amazon.coral.service#${name}`, message });
  res.writeHead(status, {
    "content-type": "application/x-amz-json-1.0",
    "content-length": Buffer.byteLength(body),
    "x-amzn-requestid": requestId(),
  });
  res.end(body);
}

const xmlEscape = (s: string) => s.replace(/[<>&"']/g, (c) => ({ "<": "&lt;", ">": "&gt;", "&": "&amp;", '"': "&quot;", "'": "&apos;" })[c]!);

/**
 * `close`: the request body was not read (a refused upload); the connection is closed after the
 * answer instead of waiting for, or reading, a body nobody wants.
 */
export function s3Error(res: ServerResponse, status: number, code: string, message: string, opts: { head?: boolean; close?: boolean } = {}): void {
  if (res.headersSent) return void res.destroy();
  const id = requestId();
  const body = opts.head ? "" : `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${xmlEscape(code)}</Code><Message>${xmlEscape(message)}</Message><RequestId>${id}</RequestId></Error>`;
  res.writeHead(status, {
    "content-type": "application/xml",
    "content-length": Buffer.byteLength(body),
    "x-amz-request-id": id,
    ...(opts.close ? { connection: "close" } : {}),
  });
  res.end(body);
}
