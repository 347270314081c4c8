// Writes the README's tour files into a folder: every fenced ```ts block preceded by a line
// `<!-- tour: NAME -->` becomes NAME, exactly as written. Usage: node extract-tour.mjs README.md DIR
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const [readme, dir] = process.argv.slice(2);
if (readme === undefined || dir === undefined) {
  console.error('usage: node extract-tour.mjs README.md DIR');
  process.exit(2);
}
const text = readFileSync(readme, 'utf8');
const re = /<!-- tour: ([\w.-]+) -->\s*```ts\n([\s\S]*?)```/g;
const names = [];
for (const m of text.matchAll(re)) {
  writeFileSync(join(dir, m[1]), m[2]);
  names.push(m[1]);
}
if (!names.includes('train.ts') || !names.includes('predict.ts')) {
  console.error(
    `${readme}: expected tour blocks train.ts and predict.ts, found ${names.join(', ') || 'none'}`,
  );
  process.exit(1);
}
console.log(`tour files: ${names.join(', ')}`);
