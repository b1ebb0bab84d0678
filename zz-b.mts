import { benchBuilder } from "./bench/builder.ts";
console.log(await benchBuilder({ runs: 9 }));
