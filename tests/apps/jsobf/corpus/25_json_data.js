// Data processing: JSON parse/stringify with revivers, sorting, aggregation.
const raw = '{"orders":[{"id":1,"items":[{"sku":"a","qty":2,"price":3.5}],"date":"2024-01-02"},' +
  '{"id":2,"items":[{"sku":"b","qty":1,"price":10},{"sku":"a","qty":1,"price":3.5}],"date":"2024-01-01"}]}';
const data = JSON.parse(raw, (k, v) => (k === "date" ? new Date(v + "T00:00:00Z") : v));
const totals = data.orders.map(({ id, items, date }) => ({
  id,
  day: date.toISOString().slice(0, 10),
  total: items.reduce((s, { qty, price }) => s + qty * price, 0),
}));
totals.sort((a, b) => a.day.localeCompare(b.day));
console.log(JSON.stringify(totals));
const bySku = {};
for (const order of data.orders) for (const { sku, qty } of order.items) bySku[sku] = (bySku[sku] ?? 0) + qty;
console.log(JSON.stringify(bySku, null, 2));
console.log(JSON.stringify({ a: [1, { b: 2 }], c: "x" }, (k, v) => (typeof v === "number" ? v * 10 : v)));
console.log(JSON.stringify({ toJSON() { return { custom: true } } }), JSON.stringify([undefined, () => 1, NaN]));
