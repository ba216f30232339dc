// Recursion: memoized fibonacci, permutations, deep trees, mutual recursion with closures.
const memo = new Map();
function fib(n) { if (n < 2) return n; if (memo.has(n)) return memo.get(n); const v = fib(n - 1) + fib(n - 2); memo.set(n, v); return v }
console.log(fib(80));
function permutations(xs) {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map(p => [x, ...p]));
}
console.log(permutations([1, 2, 3]).map(p => p.join("")).join(" "));
function build(depth) { return depth === 0 ? null : { left: build(depth - 1), right: build(depth - 1), depth } }
function count(node) { return node ? 1 + count(node.left) + count(node.right) : 0 }
console.log(count(build(10)));
const hanoi = (n, from, to, via, moves = []) => {
  if (n === 0) return moves;
  hanoi(n - 1, from, via, to, moves); moves.push(from + to); hanoi(n - 1, via, to, from, moves);
  return moves;
};
console.log(hanoi(4, "A", "C", "B").length, hanoi(2, "A", "C", "B").join(","));
function ackermann(m, n) { return m === 0 ? n + 1 : n === 0 ? ackermann(m - 1, 1) : ackermann(m - 1, ackermann(m, n - 1)) }
console.log(ackermann(2, 3));
