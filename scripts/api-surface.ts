/**
 * The public surface of every entry point in package.json `exports`: each exported name, marked
 * `value` (exists at run time) or `type` (types only). `npx tsx scripts/api-surface.ts` prints a
 * summary; `--write` rewrites the snapshots in `api/`; `--check` compares them in both directions
 * and exits 1 naming every added and removed name (so a name is only added or dropped on purpose).
 * `--check-dist` (after `npm run build`) compares the snapshots with what was built: the names of
 * the bundled `.d.ts` and `.d.cts` of each entry, and the runtime names of its ESM and CJS files —
 * a bundler can drop a name the sources export (`export type *` did once).
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import ts from 'typescript';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** One entry point: its subpath, its source file and its snapshot file. */
export interface EntryPoint {
  subpath: string;
  source: string;
  snapshot: string;
}

interface ExportTarget {
  import: { types: string; default: string };
  require: { types: string; default: string };
}

function packageExports(base: string): Record<string, string | ExportTarget> {
  return (
    JSON.parse(readFileSync(join(base, 'package.json'), 'utf8')) as {
      exports: Record<string, string | ExportTarget>;
    }
  ).exports;
}

/** Entry points from package.json `exports` (`./package.json` aside), mapped from dist to src. */
export function entryPoints(base = root): EntryPoint[] {
  const pkg = { exports: packageExports(base) };
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

/** The built files of each entry point, as package.json `exports` names them. */
function builtFiles(entry: EntryPoint, base = root): ExportTarget {
  const target = packageExports(base)[entry.subpath];
  if (target === undefined || typeof target === 'string')
    throw new Error(`${entry.subpath}: no conditional export`);
  return target;
}

/** Differences between the snapshots and the built package, one line each. */
async function distDifferences(base = root): Promise<string[]> {
  const entries = entryPoints(base);
  const expected = surface(entries, base);
  const problems: string[] = [];
  const compare = (label: string, want: string[], got: string[]) => {
    const gotSet = new Set(got);
    const wantSet = new Set(want);
    for (const line of want) if (!gotSet.has(line)) problems.push(`${label}: missing ${line}`);
    for (const line of got) if (!wantSet.has(line)) problems.push(`${label}: unexpected ${line}`);
  };
  for (const types of ['import', 'require'] as const) {
    const built = entries.map((entry) => ({
      ...entry,
      source: join(base, builtFiles(entry, base)[types].types),
    }));
    const names = surface(built, base);
    for (const [i, entry] of entries.entries()) {
      compare(
        `${entry.subpath} (${builtFiles(entry, base)[types].types})`,
        expected.get(entry) ?? [],
        names.get(built[i] as EntryPoint) ?? [],
      );
    }
  }
  const require = createRequire(join(base, 'package.json'));
  for (const entry of entries) {
    const files = builtFiles(entry, base);
    const values = (expected.get(entry) ?? []).filter((l) => l.startsWith('value ')).map((l) => l.slice(6));
    const esm = Object.keys(await import(pathToFileURL(join(base, files.import.default)).href));
    const cjs = Object.keys(require(join(base, files.require.default)) as object).filter(
      (k) => k !== '__esModule',
    );
    compare(
      `${entry.subpath} (${files.import.default} at run time)`,
      values,
      esm.filter((k) => k !== 'default'),
    );
    compare(`${entry.subpath} (${files.require.default} at run time)`, values, cjs);
  }
  return problems;
}

async function main(): Promise<void> {
  const mode = process.argv[2];
  if (mode === '--check-dist') {
    const problems = await distDifferences();
    for (const line of problems) console.error(line);
    if (problems.length) {
      console.error('The built package differs from the API snapshots in api/ (npm run build first?).');
      process.exit(1);
    }
    console.log('built .d.ts, .d.cts, ESM and CJS names match the API snapshots');
    return;
  }
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

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) await main();
