// A Hono app as one function: `api/[[...route]].ts` serves /api and everything below it, and the
// default export is the app (an object with `fetch`), which Ferry calls with each Request.
import { Hono } from "hono";

const app = new Hono().basePath("/api");

app.get("/", (c) => c.json({ routes: ["/api/hello/:name", "/api/time"] }));
app.get("/hello/:name", (c) => c.json({ message: `hello, ${c.req.param("name")}` }));
app.get("/time", (c) => c.json({ now: new Date().toISOString() }));
app.notFound((c) => c.json({ error: "not found", path: c.req.path }, 404));

export default app;
