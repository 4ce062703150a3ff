#!/usr/bin/env node
/**
 * The README's by-file table of a mutation run, from one or more of Stryker's JSON reports
 * (`reports/mutation/mutation.json`, mutation-testing-report-schema). Reports of runs over different files
 * (`pnpm test:mutation --mutate <file>`, each report copied aside) add up to the table of a full run: each
 * mutant is tested on its own, so a file's figures do not depend on which other files a run mutated. When
 * two reports hold the same file, the later one on the command line counts.
 *
 * Usage: node scripts/mutation-table.mjs <mutation.json>...
 *
 * Score as Stryker computes it: (killed + timed out) / (killed + timed out + survived + no coverage); type
 * errors (CompileError) and ignored mutants are left out. "strict" also counts timed-out mutants as
 * undetected.
 */
import { readFileSync } from 'node:fs';

const reports = process.argv.slice(2);
if (reports.length === 0) {
  process.stderr.write('usage: node scripts/mutation-table.mjs <mutation.json>...\n');
  process.exit(2);
}

const files = new Map();
for (const path of reports) {
  const report = JSON.parse(readFileSync(path, 'utf8'));
  for (const [file, result] of Object.entries(report.files ?? {})) files.set(file, result.mutants);
}

const COLUMNS = ['Killed', 'Timeout', 'Survived', 'NoCoverage', 'CompileError', 'RuntimeError', 'Ignored'];
const percent = (part, whole) => (whole === 0 ? '–' : `${((100 * part) / whole).toFixed(2)} %`);

function count(mutants) {
  const c = Object.fromEntries(COLUMNS.map((k) => [k, 0]));
  for (const m of mutants) c[m.status] = (c[m.status] ?? 0) + 1;
  return c;
}

function score(c) {
  const detected = c.Killed + c.Timeout;
  return { score: percent(detected, detected + c.Survived + c.NoCoverage), strict: percent(c.Killed, detected + c.Survived + c.NoCoverage) };
}

const lines = [
  '| file | score | strict | killed | timed out | survived | no coverage | type errors | ignored |',
  '| --- | --- | --- | --- | --- | --- | --- | --- | --- |',
];
const total = Object.fromEntries(COLUMNS.map((k) => [k, 0]));
for (const file of [...files.keys()].sort()) {
  const c = count(files.get(file));
  for (const k of COLUMNS) total[k] += c[k];
  const s = score(c);
  lines.push(`| \`${file}\` | ${s.score} | ${s.strict} | ${c.Killed} | ${c.Timeout} | ${c.Survived} | ${c.NoCoverage} | ${c.CompileError} | ${c.Ignored} |`);
}
const s = score(total);
lines.push(`| **all ${files.size} files** | **${s.score}** | ${s.strict} | ${total.Killed} | ${total.Timeout} | ${total.Survived} | ${total.NoCoverage} | ${total.CompileError} | ${total.Ignored} |`);
process.stdout.write(`${lines.join('\n')}\n`);
