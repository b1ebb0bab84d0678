// /api/attachments/:id: PUT stores the raw body under the id, GET streams it back.
import { GetObjectCommand, PutObjectCommand } from "@aws-sdk/client-s3";
import { attachmentsBucket, s3 } from "../../lib/clients.ts";
import { jsonError, validId } from "../../lib/todos.ts";

type Ctx = { params: Record<string, string> };

const MAX_BYTES = 10 * 1024 * 1024;

export async function PUT(req: Request, { params }: Ctx) {
  if (!validId(params.id)) return jsonError(400, "ids are 1-64 lower-case letters and digits");
  if (Number(req.headers.get("content-length") ?? 0) > MAX_BYTES) return jsonError(413, `attachments are limited to ${MAX_BYTES} bytes`);
  // S3 needs the length up front, which a chunked request does not say: buffer, then check
  const body = new Uint8Array(await req.arrayBuffer());
  if (body.byteLength > MAX_BYTES) return jsonError(413, `attachments are limited to ${MAX_BYTES} bytes`);
  const contentType = req.headers.get("content-type") ?? "application/octet-stream";
  await s3.send(
    new PutObjectCommand({ Bucket: attachmentsBucket(), Key: params.id, Body: body, ContentLength: body.byteLength, ContentType: contentType }),
  );
  return Response.json({ id: params.id, size: body.byteLength, contentType }, { status: 201 });
}

export async function GET(_req: Request, { params }: Ctx) {
  if (!validId(params.id)) return jsonError(404, "attachment not found");
  try {
    const r = await s3.send(new GetObjectCommand({ Bucket: attachmentsBucket(), Key: params.id }));
    const headers: Record<string, string> = { "content-type": r.ContentType ?? "application/octet-stream" };
    if (r.ContentLength !== undefined) headers["content-length"] = String(r.ContentLength);
    // the SDK's body can become a Web stream: bytes flow through without being buffered
    return new Response(r.Body!.transformToWebStream(), { headers });
  } catch (e) {
    if ((e as { name?: string }).name === "NoSuchKey") return jsonError(404, "attachment not found");
    throw e;
  }
}
