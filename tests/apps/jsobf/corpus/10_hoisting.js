// Hoisting: function declarations, var, mutual recursion, functions used before definition.
console.log(typeof hoisted, hoisted());
function hoisted() { return "hoisted works" }
console.log(v === undefined);
var v = 5;
function isEven(n) { return n === 0 ? true : isOdd(n - 1) }
function isOdd(n) { return n === 0 ? false : isEven(n - 1) }
console.log(isEven(10), isOdd(7));
function scope() {
  result = helper(3);
  var result;
  function helper(x) { return x * tripler }
  var tripler = 3;
  return [result, helper(3)];
}
console.log(scope().join());
function shadow() {
  var x = "outer";
  { let x = "inner"; var y = x; }
  return x + "/" + y;
}
console.log(shadow());
const fns = { a() { return b() }, };
function b() { return "b called" }
console.log(fns.a());
