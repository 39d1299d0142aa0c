// Counts SSE events as a browser-side app would: fetch body -> TextDecoder -> eventsource-parser 3,
// counting onEvent; prints the count. benches/neutral.sh copies it next to its node_modules
// (target/bench-node/), where Node resolves the import.
import { createParser } from 'eventsource-parser';
let n = 0;
const parser = createParser({ onEvent() { n++; } });
const res = await fetch(process.argv[2]);
const dec = new TextDecoder();
for await (const chunk of res.body) parser.feed(dec.decode(chunk, { stream: true }));
console.log(n);
