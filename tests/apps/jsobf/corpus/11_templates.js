// Template literals: nesting, tagged templates with raw strings, multi-line, escapes.
const name = "world", n = 3;
console.log(`hello ${name}, ${n} + ${n} = ${n + n}`);
console.log(`nested ${`inner ${`deep ${name.length}`}`}`);
function tag(strings, ...values) {
  return strings.raw.map((s, i) => s + (i < values.length ? `[${values[i]}]` : "")).join("");
}
console.log(tag`a\n${1}b${"two"}c\t`);
const multi = `line one
  line two\`s ${"end"}`;
console.log(multi.split("\n").length, multi);
console.log(String.raw`C:\path\${name}`, `\u0041\x42\u{43}`, `$notsub {x}`, `${"}"}`);
const html = (items) => `<ul>${items.map(i => `<li>${i}</li>`).join("")}</ul>`;
console.log(html(["a", "b"]));
