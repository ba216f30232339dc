// Text processing: word counts, Map/Set, sorting with tie-breaks, string building.
const text = `It was the best of times, it was the worst of times, it was the age of wisdom,
it was the age of foolishness, it was the epoch of belief, it was the epoch of incredulity`;
const scale = Number(process.argv[2] || 1);
const corpus = Array(10 * scale).fill(text).join("\n");
const counts = new Map();
for (const word of corpus.toLowerCase().match(/[a-z]+/g)) counts.set(word, (counts.get(word) || 0) + 1);
const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
console.log(ranked.slice(0, 5).map(([w, n]) => `${w}:${n}`).join(" "));
const letters = {};
for (const ch of corpus) if (ch >= "a" && ch <= "z") letters[ch] = (letters[ch] ?? 0) + 1;
console.log(Object.keys(letters).sort().join(""), Object.values(letters).reduce((a, b) => a + b, 0));
const caesar = (s, k) => s.replace(/[a-z]/g, c => String.fromCharCode((c.charCodeAt(0) - 97 + k) % 26 + 97));
const secret = caesar("attack at dawn", 13);
console.log(secret, caesar(secret, 13));
const unique = new Set(corpus.split(/\W+/).filter(Boolean).map(w => w.length));
console.log([...unique].sort((a, b) => a - b).join(","));
