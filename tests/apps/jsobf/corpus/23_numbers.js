// Numbers: literals in every base, separators, floats, bigint, bitwise, edge values.
console.log(0x1f, 0o17, 0b1011, 1_000_000, 017 === undefined ? 0 : 15, 1e3, .5, 5., 2 ** 10);
console.log(0.1 + 0.2, (0.1 + 0.2).toFixed(2), 1 / 3, -0 === 0, Object.is(-0, 0));
console.log(2147483647 + 1, 4294967295 | 0, 1 << 31, -1 >>> 0, ~5, 6 & 3, 6 | 3, 6 ^ 3);
console.log(Number.MAX_SAFE_INTEGER, 9007199254740993n + 2n, 2n ** 64n, typeof 10n);
console.log(NaN === NaN, Number.isNaN(0 / 0), Infinity - 1, 1 / 0, -1 / 0);
console.log(parseInt("ff", 16), parseFloat("3.14abc"), (255).toString(2), 5..toString(), 1.5.toFixed(3));
const big = 123456789012;
console.log(big % 1000, Math.floor(big / 1000), 0x7fffffff, 0xffffffff, 1e21, 123e-2);
const obj = { 1: "one", 0x10: "sixteen", 1.5: "float" };
console.log(obj[1], obj[16], obj["1.5"], Object.keys(obj).join());
let n = 10; n -= 3; n *= 2; n %= 5; n **= 3; n <<= 1; n >>= 2; console.log(n);
console.log([3, 20, 100].sort().join(), [3, 20, 100].sort((a, b) => a - b).join());
