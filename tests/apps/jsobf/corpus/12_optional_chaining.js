// Optional chaining, nullish coalescing, logical assignment.
const data = { user: { profile: { name: "Eve", tags: ["x"] }, greet() { return "hi" } } };
console.log(data.user?.profile?.name, data.admin?.profile?.name, data.user.tags?.[0]);
console.log(data.user.greet?.(), data.user.missing?.(), data.user.profile.tags?.[0]?.toUpperCase());
console.log(null ?? "default", 0 ?? "zero kept", "" || "empty replaced", false ?? true);
const opts = { a: null, b: 0, c: 1 };
opts.a ??= "filled"; opts.b ||= "or-filled"; opts.c &&= "and-filled";
console.log(JSON.stringify(opts));
const arr = null;
console.log(arr?.length ?? -1, (arr?.[0]) ?? "none");
const fn = undefined;
console.log(fn?.(1, 2) === undefined, typeof data?.user?.greet);
const obj = { a: { b: { c: null } } };
console.log(obj.a.b.c?.d.e.f ?? "short-circuit");
