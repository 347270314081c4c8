/**
 * The public surface of the package read from its sources with the TypeScript parser alone (no
 * type checker: a few seconds instead of a minute): every name a user reaches from `deepprob`
 * and `deepprob/node`, through `export *`, `export * as ns`, `export { a as b } from` and local
 * exports, with the declarations it names. Used by the package audit tests (TSDoc on every
 * export, no `any` in a public signature).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import ts from 'typescript';

/** One exported name: where it is declared (or the module it names, for `export * as`). */
export interface SurfaceEntry {
  /** Dotted path from the entry, e.g. `ppl.NUTS`. */
  path: string;
  /** The declarations of the name (several for overloads); empty for a namespace. */
  decls: ts.Node[];
  /** The file the name is declared in. */
  file: string;
}

type Target = { kind: 'decl'; decls: ts.Node[]; file: string } | { kind: 'ns'; file: string };

const parsed = new Map<string, ts.SourceFile>();
const exportCache = new Map<string, Map<string, Target>>();

function parse(file: string): ts.SourceFile {
  let sf = parsed.get(file);
  if (sf === undefined) {
    sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
    parsed.set(file, sf);
  }
  return sf;
}

/** `./x.js` from `file` -> the `.ts` source (or `./x/index.ts`). */
function resolveModule(file: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = resolve(dirname(file), spec);
  for (const c of [base.replace(/\.js$/, '.ts'), `${base}.ts`, `${base}/index.ts`]) {
    if (existsSync(c)) return c;
  }
  throw new Error(`${file}: cannot resolve ${spec}`);
}

function hasExportModifier(n: ts.Node): boolean {
  return (
    ts.canHaveModifiers(n) &&
    (ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.ExportKeyword)
  );
}

/** Top-level declarations of `name` in `sf` (exported or not). */
function declarationsOf(sf: ts.SourceFile, name: string): ts.Node[] {
  const out: ts.Node[] = [];
  for (const s of sf.statements) {
    if (
      (ts.isFunctionDeclaration(s) ||
        ts.isClassDeclaration(s) ||
        ts.isInterfaceDeclaration(s) ||
        ts.isTypeAliasDeclaration(s) ||
        ts.isEnumDeclaration(s) ||
        ts.isModuleDeclaration(s)) &&
      s.name?.getText(sf) === name
    ) {
      out.push(s);
    } else if (ts.isVariableStatement(s)) {
      for (const d of s.declarationList.declarations) {
        if (ts.isIdentifier(d.name) && d.name.text === name) out.push(d);
      }
    }
  }
  return out;
}

/** Where an imported binding `name` of `sf` comes from. */
function importedFrom(sf: ts.SourceFile, name: string): { file: string; name: string } | undefined {
  for (const s of sf.statements) {
    if (!ts.isImportDeclaration(s) || !ts.isStringLiteral(s.moduleSpecifier)) continue;
    const file = resolveModule(sf.fileName, s.moduleSpecifier.text);
    const named = s.importClause?.namedBindings;
    if (file === undefined || named === undefined || !ts.isNamedImports(named)) continue;
    for (const el of named.elements) {
      if (el.name.text === name) return { file, name: (el.propertyName ?? el.name).getText(sf) };
    }
  }
  return undefined;
}

/** Every exported name of `file` and what it refers to. */
export function exportsOf(file: string): Map<string, Target> {
  const cached = exportCache.get(file);
  if (cached !== undefined) return cached;
  const out = new Map<string, Target>();
  exportCache.set(file, out);
  const sf = parse(file);
  const local = (name: string): Target | undefined => {
    const decls = declarationsOf(sf, name);
    if (decls.length > 0) return { kind: 'decl', decls, file };
    const imp = importedFrom(sf, name);
    return imp === undefined ? undefined : exportsOf(imp.file).get(imp.name);
  };
  for (const s of sf.statements) {
    if (ts.isExportDeclaration(s)) {
      const spec =
        s.moduleSpecifier !== undefined && ts.isStringLiteral(s.moduleSpecifier)
          ? s.moduleSpecifier.text
          : undefined;
      const from = spec === undefined ? undefined : resolveModule(file, spec);
      if (spec !== undefined && from === undefined) continue; // a package re-export
      const clause = s.exportClause;
      if (clause === undefined && from !== undefined) {
        for (const [k, v] of exportsOf(from)) if (k !== 'default' && !out.has(k)) out.set(k, v);
      } else if (clause !== undefined && ts.isNamespaceExport(clause) && from !== undefined) {
        out.set(clause.name.text, { kind: 'ns', file: from });
      } else if (clause !== undefined && ts.isNamedExports(clause)) {
        for (const el of clause.elements) {
          const orig = (el.propertyName ?? el.name).getText(sf);
          const target = from !== undefined ? exportsOf(from).get(orig) : local(orig);
          if (target === undefined) throw new Error(`${file}: export ${orig} not found`);
          out.set(el.name.text, target);
        }
      }
    } else if (hasExportModifier(s)) {
      if (ts.isVariableStatement(s)) {
        for (const d of s.declarationList.declarations) {
          if (ts.isIdentifier(d.name)) out.set(d.name.text, { kind: 'decl', decls: [d], file });
        }
      } else if (
        (ts.isFunctionDeclaration(s) ||
          ts.isClassDeclaration(s) ||
          ts.isInterfaceDeclaration(s) ||
          ts.isTypeAliasDeclaration(s) ||
          ts.isEnumDeclaration(s) ||
          ts.isModuleDeclaration(s)) &&
        s.name !== undefined
      ) {
        const name = s.name.getText(sf);
        if (!out.has(name)) out.set(name, { kind: 'decl', decls: declarationsOf(sf, name), file });
      }
    }
  }
  return out;
}

/** The surface of the entries, namespaces walked (each declaration listed once). */
export function surface(entries: string[]): SurfaceEntry[] {
  const out: SurfaceEntry[] = [];
  const seenDecl = new Set<ts.Node>();
  const seenNs = new Set<string>();
  const walk = (file: string, prefix: string): void => {
    for (const [name, t] of exportsOf(file)) {
      const path = prefix + name;
      if (t.kind === 'ns') {
        if (seenNs.has(t.file)) continue;
        seenNs.add(t.file);
        out.push({ path, decls: [], file: t.file });
        walk(t.file, `${path}.`);
      } else if (!t.decls.some((d) => seenDecl.has(d))) {
        t.decls.forEach((d) => seenDecl.add(d));
        out.push({ path, decls: t.decls, file: t.file });
      }
    }
  };
  for (const e of entries) walk(e, '');
  return out;
}

/** Whether some declaration carries a doc comment (`/** ... *\/`) with text or tags. */
export function hasDoc(decls: ts.Node[]): boolean {
  return decls.some((d) => ts.getJSDocCommentsAndTags(d).length > 0);
}

/**
 * `any` written in the public shape of a declaration: parameter, return, property, type-alias
 * and heritage types. Function bodies, private members and initializers of annotated variables
 * are skipped (they are not in the `.d.ts`). Returns `file:line` of each.
 */
export function anyInSignature(decls: ts.Node[]): string[] {
  const hits: string[] = [];
  const visit = (n: ts.Node): void => {
    if (ts.isBlock(n)) return;
    if (
      (ts.isPropertyDeclaration(n) || ts.isMethodDeclaration(n) || ts.isGetAccessor(n)) &&
      ((ts.getModifiers(n) ?? []).some((m) => m.kind === ts.SyntaxKind.PrivateKeyword) ||
        ts.isPrivateIdentifier(n.name))
    ) {
      return;
    }
    if (ts.isArrowFunction(n) && !ts.isBlock(n.body)) {
      n.parameters.forEach(visit);
      if (n.type !== undefined) visit(n.type);
      return;
    }
    if (ts.isVariableDeclaration(n) && n.type !== undefined) {
      visit(n.type);
      return;
    }
    if (n.kind === ts.SyntaxKind.AnyKeyword) {
      const sf = n.getSourceFile();
      hits.push(`${sf.fileName}:${sf.getLineAndCharacterOfPosition(n.getStart()).line + 1}`);
    }
    ts.forEachChild(n, visit);
  };
  decls.forEach(visit);
  return hits;
}
