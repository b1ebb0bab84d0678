// /api/todos/:id: GET one, DELETE one.
import { DeleteCommand, GetCommand } from "@aws-sdk/lib-dynamodb";
import { db, todosTable } from "../../lib/clients.ts";
import { jsonError, PARTITION, toTodo, validId } from "../../lib/todos.ts";

type Ctx = { params: Record<string, string> };

export async function GET(_req: Request, { params }: Ctx) {
  if (!validId(params.id)) return jsonError(404, "todo not found");
  const r = await db.send(new GetCommand({ TableName: todosTable(), Key: { pk: PARTITION, sk: params.id } }));
  return r.Item ? Response.json(toTodo(r.Item)) : jsonError(404, "todo not found");
}

export async function DELETE(_req: Request, { params }: Ctx) {
  if (!validId(params.id)) return jsonError(404, "todo not found");
  const r = await db.send(new DeleteCommand({ TableName: todosTable(), Key: { pk: PARTITION, sk: params.id }, ReturnValues: "ALL_OLD" }));
  return r.Attributes ? new Response(null, { status: 204 }) : jsonError(404, "todo not found");
}
