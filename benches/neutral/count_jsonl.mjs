// Counts the lines of a JSON-lines body as an app would: fetch body -> TextDecoder -> split on LF ->
// JSON.parse each non-empty line; prints the count. No package: benches/neutral.sh runs it in place.
const res = await fetch(process.argv[2]);
const dec = new TextDecoder();
let n = 0;
let rest = '';
for await (const chunk of res.body) {
  const lines = (rest + dec.decode(chunk, { stream: true })).split('\n');
  rest = lines.pop();
  for (const line of lines) if (line) { JSON.parse(line); n++; }
}
rest += dec.decode();
if (rest) { JSON.parse(rest); n++; }
console.log(n);
