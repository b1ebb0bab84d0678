// A server app: Ferry runs it as one function that serves every path, with PORT set.
const express = require("express");
const { greet } = require("./lib/greet");

const app = express();
app.use(express.json());

app.get("/", (req, res) => {
  res.type("html").send("<h1>Express on Ferry</h1><p>Try <a href=\"/api/hello?name=you\">/api/hello</a>.</p>");
});

app.get("/api/hello", (req, res) => {
  res.json({ message: greet(req.query.name || "world") });
});

app.get("/users/:id", (req, res) => {
  res.json({ id: req.params.id });
});

app.post("/echo", (req, res) => {
  res.json({ received: req.body });
});

const port = Number(process.env.PORT || 3000);
app.listen(port, () => console.log(`listening on ${port}`));
