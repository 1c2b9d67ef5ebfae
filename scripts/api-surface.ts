/**
 * The public surface of every entry point in package.json `exports`: each exported name, marked
 * `value` (exists at run time) or `type` (types only). `npx tsx scripts/api-surface.ts` prints a
 * summary; `--write` rewrites the snapshots in `api/`; `--check` compares them in both directions
 * and exits 1 naming every added and removed name (so a name is only added or dropped on purpose).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One entry point: its subpath, its source file and its snapshot file. */
export interface EntryPoint {
  subpath: string;
  source: string;
  snapshot: string;
}

/** Entry points from package.json `exports` (`./package.json` aside), mapped from dist to src. */
export function entryPoints(base = root): EntryPoint[] {
  const pkg = JSON.parse(readFileSync(join(base, 'package.json'), 'utf8')) as {
    exports: Record<string, string | { import: { default: string } }>;
  };
  const out: EntryPoint[] = [];
  for (const [subpath, target] of Object.entries(pkg.exports)) {
    if (typeof target === 'string') continue;
    const dist = target.import.default;
    const source = join(base, dist.replace(/^\.\/dist\//, 'src/').replace(/\.js$/, '.ts'));
    const name = subpath === '.' ? 'index' : subpath.slice(2).replaceAll('/', '-');
    out.push({ subpath, source, snapshot: join(base, 'api', `${name}.txt`) });
  }
  return out;
}

/** `value Name` / `type Name` lines of each entry point, sorted. */
export function surface(entries: EntryPoint[], base = root): Map<EntryPoint, string[]> {
  const config = ts.getParsedCommandLineOfConfigFile(
    join(base, 'tsconfig.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!config) throw new Error('tsconfig.json not readable');
  const program = ts.createProgram(
    entries.map((e) => e.source),
    { ...config.options, noEmit: true },
  );
  const checker = program.getTypeChecker();
  const out = new Map<EntryPoint, string[]>();
  for (const entry of entries) {
    const file = program.getSourceFile(entry.source);
    const moduleSymbol = file && checker.getSymbolAtLocation(file);
    if (!moduleSymbol) throw new Error(`${entry.subpath}: ${entry.source} has no module symbol`);
    const lines = checker.getExportsOfModule(moduleSymbol).map((symbol) => {
      const target = symbol.flags & ts.SymbolFlags.Alias ? checker.getAliasedSymbol(symbol) : symbol;
      const isValue = (target.flags & ts.SymbolFlags.Value) !== 0 && !isTypeOnlyExport(symbol);
      return `${isValue ? 'value' : 'type'} ${symbol.name}`;
    });
    out.set(
      entry,
      lines.sort((a, b) => (a.split(' ')[1] ?? '').localeCompare(b.split(' ')[1] ?? '')),
    );
  }
  return out;
}

/** `export type { X }` of a class or const exports only its type. */
function isTypeOnlyExport(symbol: ts.Symbol): boolean {
  return (symbol.declarations ?? []).some(
    (d) => (ts.isExportSpecifier(d) && (d.isTypeOnly || d.parent.parent.isTypeOnly)) || false,
  );
}

function main(): void {
  const mode = process.argv[2];
  const entries = entryPoints();
  const names = surface(entries);
  let failed = false;
  for (const [entry, lines] of names) {
    const text = `${lines.join('\n')}\n`;
    if (mode === '--write') {
      writeFileSync(entry.snapshot, text);
      continue;
    }
    if (mode === '--check') {
      let previous = '';
      try {
        previous = readFileSync(entry.snapshot, 'utf8');
      } catch {
        // no snapshot yet: every name counts as added
      }
      const before = new Set(previous.split('\n').filter(Boolean));
      const after = new Set(lines);
      const added = lines.filter((l) => !before.has(l));
      const removed = [...before].filter((l) => !after.has(l));
      if (added.length || removed.length) {
        failed = true;
        console.error(`${entry.subpath}: surface differs from ${entry.snapshot}`);
        for (const l of added) console.error(`  + ${l}`);
        for (const l of removed) console.error(`  - ${l}`);
      }
      continue;
    }
    const values = lines.filter((l) => l.startsWith('value ')).length;
    console.log(
      `${entry.subpath.padEnd(20)} ${String(lines.length).padStart(4)} names (${values} runtime, ${lines.length - values} type-only)`,
    );
  }
  if (failed) {
    console.error('Update on purpose with `npm run api:update`, and say why in a changeset.');
    process.exit(1);
  }
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
