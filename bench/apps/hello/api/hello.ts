// The benchmark's hello-world function.
export default () => new Response("hello world");
