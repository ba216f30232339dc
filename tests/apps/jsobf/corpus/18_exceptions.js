// Exceptions: custom errors, finally ordering, rethrow, optional catch binding, nesting.
class ValidationError extends Error {
  constructor(field, message) { super(message); this.name = "ValidationError"; this.field = field }
}
function validate(user) {
  if (!user.name) throw new ValidationError("name", "name required");
  return "valid";
}
const log = [];
function attempt(fn) {
  try { log.push("try"); return fn() }
  catch (err) { log.push(`catch:${err.name}:${err.field ?? "-"}`); return "failed" }
  finally { log.push("finally") }
}
console.log(attempt(() => validate({ name: "x" })), attempt(() => validate({})));
console.log(log.join(" "));
function finallyWins() { try { return "try" } finally { log.push("f2") } }
console.log(finallyWins(), log.at(-1));
try { try { null.x } catch { throw new Error("wrapped", { cause: "inner" }) } }
catch (e) { console.log(e.message, e.cause, e instanceof Error) }
const results = [];
for (const v of [1, 0, 2]) {
  try { if (!v) throw v; results.push(10 / v) } catch (z) { results.push(`threw ${z}`) }
}
console.log(results.join(", "));
