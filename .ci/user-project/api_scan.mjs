// The installed package's declarations as a consumer's compiler sees them: every export reachable
// from `deepprob` and `deepprob/node` (namespaces walked) has TSDoc, and no `any` is written in
// any declaration file they reach. Usage: node api_scan.mjs <node_modules/deepprob> <typescript>
import { createRequire } from 'node:module';
import path from 'node:path';

const [pkgDir, tsPath] = process.argv.slice(2);
if (pkgDir === undefined || tsPath === undefined) {
  console.error(
    'usage: node api_scan.mjs <node_modules/deepprob> <path of the typescript package>',
  );
  process.exit(2);
}
const ts = createRequire(import.meta.url)(tsPath);
const entries = ['dist/index.d.ts', 'dist/node.d.ts'].map((e) => path.join(pkgDir, e));
const program = ts.createProgram(entries, {
  skipLibCheck: true,
  module: ts.ModuleKind.NodeNext,
  moduleResolution: ts.ModuleResolutionKind.NodeNext,
  target: ts.ScriptTarget.ES2022,
  types: [],
});
const checker = program.getTypeChecker();
const undocumented = [];
const seen = new Set();
let total = 0;
function walk(mod, prefix) {
  for (const ex of checker.getExportsOfModule(mod)) {
    const s = ex.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(ex) : ex;
    const decl = s.declarations && s.declarations[0];
    if (!decl || seen.has(s)) continue;
    seen.add(s);
    if (s.flags & ts.SymbolFlags.ValueModule && ts.isSourceFile(decl)) {
      walk(s, `${prefix}${ex.name}.`);
      continue;
    }
    total++;
    const doc = ts.displayPartsToString(s.getDocumentationComment(checker)).trim();
    if (doc === '' && s.getJsDocTags(checker).length === 0) undocumented.push(prefix + ex.name);
  }
}
for (const e of entries) walk(checker.getSymbolAtLocation(program.getSourceFile(e)), '');
const anys = [];
for (const sf of program.getSourceFiles()) {
  if (!sf.fileName.startsWith(path.resolve(pkgDir) + path.sep)) continue;
  const visit = (n) => {
    if (n.kind === ts.SyntaxKind.AnyKeyword) {
      const line = sf.getLineAndCharacterOfPosition(n.getStart()).line + 1;
      anys.push(`${path.relative(pkgDir, sf.fileName)}:${line}`);
    }
    ts.forEachChild(n, visit);
  };
  visit(sf);
}
console.log(
  `declarations: ${total} exports, ${undocumented.length} without TSDoc, ${anys.length} any`,
);
if (undocumented.length > 0) console.error('without TSDoc:', undocumented.slice(0, 20).join(', '));
if (anys.length > 0) console.error('any in:', anys.slice(0, 20).join(', '));
process.exit(undocumented.length + anys.length > 0 ? 1 : 0);
