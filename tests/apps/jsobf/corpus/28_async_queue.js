// An async work queue with limited concurrency; deterministic order via awaited timers.
const wait = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
async function runQueue(tasks, limit) {
  const results = new Array(tasks.length);
  let next = 0, active = 0, maxActive = 0;
  async function worker(id) {
    while (next < tasks.length) {
      const index = next++;
      active++; maxActive = Math.max(maxActive, active);
      results[index] = await tasks[index](id);
      active--;
    }
  }
  await Promise.all(Array.from({ length: limit }, (_, i) => worker(i)));
  return { results, maxActive };
}
const tasks = [5, 1, 3, 2, 4].map((ms, i) => async () => { await wait(ms * 2); return i * 10 });
runQueue(tasks, 2).then(({ results, maxActive }) => console.log(results.join(","), maxActive));
async function retry(fn, times) {
  for (let attempt = 1; ; attempt++) {
    try { return await fn(attempt) } catch (e) { if (attempt >= times) throw e }
  }
}
retry(async (n) => { if (n < 3) throw new Error("fail " + n); return "ok after " + n }, 5).then(console.log);
retry(async () => { throw new Error("always") }, 2).catch((e) => console.log("gave up:", e.message));
