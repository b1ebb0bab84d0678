// Named method exports: GET /api/users lists, POST /api/users creates.
import { addUser, listUsers } from "@lib/users";

export function GET() {
  return Response.json(listUsers());
}

export async function POST(req: Request) {
  const body = (await req.json().catch(() => ({}))) as { name?: unknown };
  if (typeof body.name !== "string" || !body.name) return Response.json({ error: "name is required" }, { status: 400 });
  return Response.json(addUser(body.name), { status: 201 });
}
