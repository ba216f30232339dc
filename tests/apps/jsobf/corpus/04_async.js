// async/await, promise ordering, microtasks vs timers, for await, error handling.
const sleep = (ms, v) => new Promise(r => setTimeout(() => r(v), ms));
async function work(name, ms) { const v = await sleep(ms, name); return v.toUpperCase(); }
async function* ticker(n) { for (let i = 0; i < n; i++) { await sleep(1); yield i; } }

async function main() {
  const order = [];
  const p = Promise.resolve().then(() => order.push("micro"));
  setTimeout(() => order.push("macro"), 0);
  order.push("sync");
  await p;
  await sleep(5);
  console.log(order.join(">"));
  console.log(await Promise.all([work("a", 3), work("b", 1)]));
  try { await Promise.reject(new Error("boom")) } catch (e) { console.log("caught", e.message) }
  let sum = 0;
  for await (const t of ticker(4)) sum += t;
  console.log("sum", sum);
  const settled = await Promise.allSettled([sleep(1, 1), Promise.reject(2)]);
  console.log(settled.map(s => s.status).join(","));
  const fast = await Promise.race([sleep(20, "slow"), sleep(2, "fast")]);
  console.log(fast);
}
main().then(() => console.log("end"));
