// Generators: infinite sequences, delegation, return values, two-way communication.
function* naturals() { let n = 0; while (true) yield n++; }
function* take(n, it) { for (const x of it) { if (n-- <= 0) return "done"; yield x; } }
function* map(f, it) { for (const x of it) yield f(x); }
console.log([...take(5, map(x => x * x, naturals()))].join(" "));

function* inner() { const got = yield 1; yield got * 2; return "inner-done"; }
function* outer() { const r = yield* inner(); yield r; }
const g = outer();
console.log(g.next().value, g.next(21).value, g.next().value, g.next().done);

const fib = {
  *[Symbol.iterator]() { let [a, b] = [0, 1]; for (;;) { yield a; [a, b] = [b, a + b]; } },
};
const first = [];
for (const f of fib) { if (f > 100) break; first.push(f); }
console.log(first.join(","));

function* tryFinally() { try { yield 1; yield 2; } finally { console.log("cleanup") } }
for (const v of tryFinally()) { console.log("got", v); break; }
