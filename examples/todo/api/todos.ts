// /api/todos: GET lists todos, POST {"title"} creates one.
import { PutCommand, QueryCommand } from "@aws-sdk/lib-dynamodb";
import { db, todosTable } from "../lib/clients.ts";
import { jsonError, newId, PARTITION, toTodo, type Todo } from "../lib/todos.ts";

export async function GET() {
  const todos: Todo[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await db.send(
      new QueryCommand({ TableName: todosTable(), KeyConditionExpression: "pk = :p", ExpressionAttributeValues: { ":p": PARTITION }, ExclusiveStartKey: start }),
    );
    for (const item of page.Items ?? []) todos.push(toTodo(item));
    start = page.LastEvaluatedKey;
  } while (start);
  return Response.json(todos);
}

export async function POST(req: Request) {
  // TODO_WRITE_KEY is a secret set with `ferry env add TODO_WRITE_KEY --sensitive`; when it is
  // set, creating a todo needs it in the x-write-key header.
  const key = process.env.TODO_WRITE_KEY;
  if (key && req.headers.get("x-write-key") !== key) return jsonError(401, "missing or wrong x-write-key");
  let body: unknown;
  try {
    body = await req.json();
  } catch {
    return jsonError(400, "send a JSON body");
  }
  const title = typeof (body as { title?: unknown })?.title === "string" ? (body as { title: string }).title.trim() : "";
  if (!title || title.length > 500) return jsonError(400, "title must be 1-500 characters");

  const todo: Todo = { id: newId(), title, done: false, createdAt: Date.now() };
  await db.send(
    new PutCommand({ TableName: todosTable(), Item: { pk: PARTITION, sk: todo.id, ...todo }, ConditionExpression: "attribute_not_exists(pk)" }),
  );
  return Response.json(todo, { status: 201, headers: { location: `/api/todos/${todo.id}` } });
}
