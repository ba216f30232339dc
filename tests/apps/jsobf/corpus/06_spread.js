// Spread and rest in calls, arrays, objects; Math with spread; object merge order.
const nums = [5, 1, 9, 3];
console.log(Math.max(...nums), Math.min(...nums, -1));
const merged = [...nums, ...new Set([1, 2, 2, 3]), ..."ab"];
console.log(merged.join(","));
const base = { a: 1, b: 2 }, over = { b: 20, c: 30 };
console.log(JSON.stringify({ ...base, ...over, d: 4 }), JSON.stringify({ ...over, ...base }));
function sum(...xs) { return xs.reduce((s, x) => s + x, 0) }
console.log(sum(...nums, ...[10, 20]));
const copy = [...nums].sort((x, y) => x - y);
console.log(nums.join(), copy.join());
const clone = { ...{ nested: { v: 1 } } };
clone.nested.v = 2;
console.log(JSON.stringify(clone), { ...null, ...undefined, ..."hi" }[1]);
console.log(Array.from({ length: 4 }, (_, i) => i * i), [..."héllo"].length);
