// A dynamic route: /api/users/:id
import { findUser } from "@lib/users";
import { lastSegment, notFound } from "../../lib/http.ts";

export default function handler(req: Request) {
  const user = findUser(lastSegment(req));
  return user ? Response.json(user) : notFound("user");
}
