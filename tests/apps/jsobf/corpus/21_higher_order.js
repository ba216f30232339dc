// Higher-order functions: compose, curry, debounce-like batching, reduce pipelines.
const compose = (...fns) => x => fns.reduceRight((acc, f) => f(acc), x);
const pipe = (...fns) => x => fns.reduce((acc, f) => f(acc), x);
const inc = x => x + 1, dbl = x => x * 2, sq = x => x * x;
console.log(compose(inc, dbl, sq)(3), pipe(inc, dbl, sq)(3));
function curry(fn) {
  return function curried(...args) {
    return args.length >= fn.length ? fn.apply(this, args) : (...more) => curried.apply(this, [...args, ...more]);
  };
}
const add3 = curry((a, b, c) => a + b + c);
console.log(add3(1)(2)(3), add3(1, 2)(3), add3(1)(2, 3));
const words = "the quick brown fox jumps over the lazy dog the end".split(" ");
const freq = words.reduce((m, w) => ({ ...m, [w]: (m[w] || 0) + 1 }), {});
const top = Object.entries(freq).sort(([a, x], [b, y]) => y - x || a.localeCompare(b)).slice(0, 3);
console.log(top.map(([w, c]) => `${w}=${c}`).join(" "));
const groupBy = (xs, key) => xs.reduce((g, x) => { (g[key(x)] ||= []).push(x); return g }, {});
console.log(JSON.stringify(groupBy([1, 2, 3, 4, 5, 6], x => (x % 3 ? "rest" : "three"))));
const memoize = fn => { const cache = {}; return n => cache[n] ?? (cache[n] = fn(n)) };
let calls = 0;
const slowSquare = memoize(n => { calls++; return n * n });
slowSquare(4); slowSquare(4); slowSquare(5);
console.log(calls);
