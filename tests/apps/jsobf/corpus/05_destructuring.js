// Destructuring with defaults, renames, nesting, rest, in params and loops, swaps.
function f({ a, b: { c = 3, d } = {}, ...rest } = {}, [x, , y = 9, ...more] = []) {
  return [a, c, d, JSON.stringify(rest), x, y, more.length];
}
console.log(f({ a: 1, b: { d: 4 }, e: 5, g: 6 }, [7, 8]).join("|"));
console.log(f().join("|"));
let p = 1, q = 2;
[p, q] = [q, p];
console.log(p, q);
const pairs = [["x", 1], ["y", 2]];
for (const [k, v] of pairs) console.log(k, v);
const obj = { m: new Map([["k", { deep: [10, 20] }]]) };
const { m } = obj;
for (const [key, { deep: [first, second] }] of m) console.log(key, first + second);
let a, b, rest;
({ a, b = 5, ...rest } = { a: 1, z: 26, y: 25 });
console.log(a, b, Object.keys(rest).sort().join(""));
const { length } = "hello", [ch] = "world";
console.log(length, ch);
function g(...args) { const [h, ...t] = args; return `${h}:${t}`; }
console.log(g(1, 2, 3));
