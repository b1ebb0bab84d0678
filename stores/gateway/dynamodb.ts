import type { IncomingMessage, ServerResponse } from "node:http";
import { dynamodbError } from "./errors.ts";
import { decide } from "./dynamodb-policy.ts";
import type { GrantCache } from "./grants.ts";
import { canonicalRequest, decodeQuery, parseAuth, sha256Hex, signatureMatches, splitTarget, type RawRequest } from "./sigv4.ts";
import { readBody, relay, type Upstream } from "./upstream.ts";

/** DynamoDB's own limit on a request, and dynalite's. */
export const MAX_DYNAMODB_REQUEST = 16 * 1024 * 1024;
const API = "DynamoDB_20120810";

/**
 * The DynamoDB side of the gateway. A request is buffered (its signature covers the body's
 * hash, and the tables it names are in the body), verified, checked against the grant, and
 * then sent on to dynalite as the JSON that was checked, so the emulator acts on exactly what
 * was authorized. ListTables is answered here with the granted tables that exist.
 */
export function dynamodbHandler(deps: { upstream: Upstream; grants: GrantCache; now?: () => number }) {
  return async (req: IncomingMessage, res: ServerResponse) => {
    try {
      const body = await readBody(req, MAX_DYNAMODB_REQUEST);
      if (body === null) {
        res.writeHead(413, { connection: "close", "content-length": 0 }).end();
        return;
      }
      const { rawPath, rawQuery } = splitTarget(req.url ?? "/");
      const query = decodeQuery(rawQuery);
      if (query === null) return dynamodbError(res, 400, "IncompleteSignatureException", "the query string is not valid percent-encoding");
      const raw: RawRequest = { method: req.method ?? "GET", rawPath, rawQuery, headers: req.headers };
      const parsed = parseAuth(raw, query, "dynamodb", deps.now?.());
      if (!parsed.ok) {
        if (parsed.reason === "missing") return dynamodbError(res, 400, "MissingAuthenticationTokenException", "Request is missing Authentication Token");
        if (parsed.reason === "malformed") return dynamodbError(res, 400, "IncompleteSignatureException", parsed.message);
        return dynamodbError(res, 400, "InvalidSignatureException", parsed.message);
      }
      const { auth } = parsed;
      const grant = await deps.grants.get(auth.accessKeyId);
      if (!grant) return dynamodbError(res, 400, "UnrecognizedClientException", "The security token included in the request is invalid.");
      if (!signatureMatches(grant.secret, auth, canonicalRequest(raw, query, auth, sha256Hex(body))))
        return dynamodbError(res, 400, "InvalidSignatureException", "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method.");

      const target = String(req.headers["x-amz-target"] ?? "").split(".");
      if (req.method !== "POST" || target.length !== 2 || target[0] !== API || !target[1]) return dynamodbError(res, 400, "UnknownOperationException", "unknown operation");
      const operation = target[1];
      let input: unknown;
      try {
        input = JSON.parse(body.toString("utf8"));
      } catch {
        return dynamodbError(res, 400, "SerializationException", "the request body is not JSON");
      }
      if (typeof input !== "object" || input === null || Array.isArray(input)) return dynamodbError(res, 400, "SerializationException", "the request body must be a JSON object");
      const request = input as Record<string, unknown>;

      const decision = decide(operation, request, grant.resources);
      if ("listTables" in decision) return await listTables(deps.upstream, request, grant.resources, res);
      if (!decision.allow) return dynamodbError(res, 400, "AccessDeniedException", `User: ${auth.accessKeyId} is ${decision.message}`);

      const forwarded = Buffer.from(JSON.stringify(request), "utf8");
      relay(await deps.upstream.send({ method: "POST", path: "/", headers: emulatorHeaders(operation, req.headers["content-type"], forwarded.length), body: forwarded }), res);
    } catch {
      dynamodbError(res, 500, "InternalServerError", "the store gateway could not complete the request");
    }
  };
}

/**
 * dynalite checks that a request carries SigV4-shaped authentication but not its signature;
 * the client's own was verified here, so a placeholder goes on in its place.
 */
function emulatorHeaders(operation: string, contentType: string | undefined, length: number) {
  const date = new Date().toISOString().replace(/[-:]|\.\d{3}/g, "");
  return {
    host: "localhost",
    "content-type": contentType ?? "application/x-amz-json-1.0",
    "content-length": length,
    "x-amz-target": `${API}.${operation}`,
    "x-amz-date": date,
    authorization: `AWS4-HMAC-SHA256 Credential=FERRYGATEWAY/${date.slice(0, 8)}/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0`,
  };
}

/** The granted tables that exist, with ListTables' paging (`ExclusiveStartTableName`, `Limit`). */
async function listTables(upstream: Upstream, request: Record<string, unknown>, granted: ReadonlySet<string>, res: ServerResponse) {
  const limit = request.Limit === undefined ? 100 : Number(request.Limit);
  if (!Number.isInteger(limit) || limit < 1 || limit > 100) return dynamodbError(res, 400, "ValidationException", "Limit must be between 1 and 100");
  const start = typeof request.ExclusiveStartTableName === "string" ? request.ExclusiveStartTableName : undefined;
  const existing: string[] = [];
  let next: string | undefined;
  do {
    const page = await emulatorCall(upstream, "ListTables", { Limit: 100, ...(next ? { ExclusiveStartTableName: next } : {}) });
    const names = (page.TableNames as string[] | undefined) ?? [];
    existing.push(...names.filter((n) => granted.has(n)));
    next = page.LastEvaluatedTableName as string | undefined;
  } while (next);
  const after = existing.sort().filter((n) => start === undefined || n > start);
  const TableNames = after.slice(0, limit);
  const out = { TableNames, ...(after.length > limit ? { LastEvaluatedTableName: TableNames[TableNames.length - 1] } : {}) };
  const body = JSON.stringify(out);
  res.writeHead(200, { "content-type": "application/x-amz-json-1.0", "content-length": Buffer.byteLength(body) }).end(body);
}

async function emulatorCall(upstream: Upstream, operation: string, input: Record<string, unknown>): Promise<Record<string, unknown>> {
  const body = Buffer.from(JSON.stringify(input));
  const r = await upstream.send({ method: "POST", path: "/", headers: emulatorHeaders(operation, undefined, body.length), body });
  const chunks: Buffer[] = [];
  for await (const c of r) chunks.push(c as Buffer);
  const parsed = JSON.parse(Buffer.concat(chunks).toString("utf8")) as Record<string, unknown>;
  if ((r.statusCode ?? 500) >= 300) throw new Error(`dynalite ${operation} failed: ${JSON.stringify(parsed)}`);
  return parsed;
}
