// Closures: counters, private state, loops capturing let vs var.
function makeCounter(start) {
  let count = start;
  return {
    next() { count += 1; return count; },
    reset: function () { count = start; return count },
  };
}
const c = makeCounter(10);
console.log(c.next(), c.next(), c.reset(), c.next());

const lets = [];
for (let i = 0; i < 3; i++) lets.push(() => i);
const vars = [];
for (var j = 0; j < 3; j++) vars.push(() => j);
console.log(lets.map(f => f()).join(","), vars.map(f => f()).join(","));

function adder(a) {
  return function (b) {
    return function (c) { return a + b + c };
  };
}
console.log(adder(1)(2)(3));

function once(fn) {
  let done = false, result;
  return (...args) => {
    if (!done) { done = true; result = fn(...args) }
    return result;
  };
}
const init = once((x) => { console.log("init", x); return x * 2 });
console.log(init(4), init(5));
