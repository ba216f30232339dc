// Shadowing: the same name in nested scopes, catch params, block functions, globals.
var name = "global-var";
let shared = "top";
function outer(shared) {
  const results = [shared];
  {
    let shared = "block";
    results.push(shared);
    for (let shared = 0; shared < 1; shared++) results.push("loop" + shared);
  }
  try { throw "caught" } catch (shared) { results.push(shared) }
  const fn = function shared() { return typeof shared };
  results.push(fn());
  results.push(((shared) => shared * 2)(21));
  return results.concat(shared).join(",");
}
console.log(outer("param"), shared, name);
function counterFactory() {
  let count = 0;
  return [() => ++count, () => { let count = 100; return count }];
}
const [inc, other] = counterFactory();
inc(); inc();
console.log(inc(), other());
const x = 1;
function usesGlobal() { return x + globalThis.Math.abs(-1) }
console.log(usesGlobal(), typeof undefinedGlobal);
function params(a, b = a, c = () => a + b) { a = 10; return c() }
console.log(params(1, 2));
