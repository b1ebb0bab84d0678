export { createRouter, type Router, type RouterOptions } from "./app.ts";
export { createResolver, envOf, type Resolved, type Resolver, type ResolverOptions } from "./resolver.ts";
export { nodeListener } from "./node.ts";
