// Regex literals versus division, in every position the lexer has to decide.
let a = 10; const b = 2, g = 5;
console.log(a / b / g, a /b/ g, (a) / 2);
const re = /ab+c/gi, re2 = /[/\]]+/, re3 = /\/\*.*?\*\//;
console.log(re.test("xABBCx"), "a/]b".replace(re2, "_"), re3.test("x /* c */ y"));
const x = [4] / 2, y = a++ / 2;
console.log(x, y, a);
function f() { return /re/.source }
console.log(f(), typeof /x/, "a1b22c333".match(/\d+/g).join("|"));
const s = "2024-01-15";
const { groups: { year, month } } = s.match(/(?<year>\d{4})-(?<month>\d{2})/);
console.log(year, month, s.replace(/(\d+)-(\d+)-(\d+)/, "$3/$2/$1"));
let i = 9; i /= 3; console.log(i, 1 /2/ 1, "x".split(/(?:)/u).length);
if (/^a/.test("abc")) console.log("starts with a");
console.log([1, 2, 3].map(v => v / 2).join(), /[a-z]/y.sticky, /./s.flags);
