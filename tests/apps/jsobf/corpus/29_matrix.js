// Numeric work: matrices, primes, gcd; loops with typed arrays and nested indices.
function matmul(a, b) {
  const n = a.length, m = b[0].length, k = b.length;
  const out = Array.from({ length: n }, () => new Array(m).fill(0));
  for (let i = 0; i < n; i++) for (let j = 0; j < m; j++) { let s = 0; for (let t = 0; t < k; t++) s += a[i][t] * b[t][j]; out[i][j] = s }
  return out;
}
const scale = Number(process.argv[2] || 1);
let m = [[1, 1], [1, 0]], r = [[1, 0], [0, 1]];
for (let p = 30; p > 0; p >>= 1) { if (p & 1) r = matmul(r, m); m = matmul(m, m) }
console.log("fib30", r[0][1]);
function sieve(limit) {
  const composite = new Uint8Array(limit + 1);
  const primes = [];
  for (let i = 2; i <= limit; i++) {
    if (composite[i]) continue;
    primes.push(i);
    for (let j = i * i; j <= limit; j += i) composite[j] = 1;
  }
  return primes;
}
const primes = sieve(20000 * scale);
console.log(primes.length, primes.at(-1));
const gcd = (a, b) => (b ? gcd(b, a % b) : a);
let acc = 0;
for (let i = 1; i < 3000 * scale; i++) acc += gcd(i, 360);
console.log(acc);
