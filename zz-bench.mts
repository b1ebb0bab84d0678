import { benchBuilder } from "/work/main/bench/builder.ts";
for (let i = 0; i < 2; i++) console.log(JSON.stringify(await benchBuilder({ runs: 9 })));
