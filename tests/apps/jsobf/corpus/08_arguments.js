// The arguments object: length, indexing, sloppy-mode aliasing, arrow functions see outer.
function count() { return arguments.length }
function sloppyAlias(a) { arguments[0] = 99; return a }
function strictNoAlias(a) { "use strict"; arguments[0] = 99; return a }
function outer() {
  const inner = () => Array.prototype.slice.call(arguments).join("-");
  return inner("ignored");
}
function variadic() {
  let total = 0;
  for (let i = 0; i < arguments.length; i++) total += arguments[i];
  return total;
}
function defaults(a, b = a + 1) { return [a, b, arguments.length].join(",") }
console.log(count(), count(1, 2, 3), sloppyAlias(1), strictNoAlias(1));
console.log(outer("x", "y"), variadic(1, 2, 3, 4), defaults(5));
console.log(Array.from((function () { return arguments })(3, 2, 1)).reverse().join(""));
