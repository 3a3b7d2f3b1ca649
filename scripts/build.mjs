// Compiles apps/, libs/ and bench/ to dist/ with swc (ESM, path aliases rewritten to relative imports).
// Type checking is separate: `npm run typecheck`.
import { transformFile } from '@swc/core';
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { swcOptions } from './swc-options.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const outDir = join(root, 'dist');
const sources = ['apps', 'libs', 'bench'];
// Tests and the contract suite are not shipped (libs/testing is: the seed generator uses it).
const isTest = (file) => /\.(spec|int-spec|e2e-spec|contract|testing)\.ts$/.test(file);

const { compilerOptions } = JSON.parse(await readFile(join(root, 'tsconfig.base.json'), 'utf8'));

async function* walk(dir) {
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* walk(path);
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts') && !isTest(relative(root, path))) yield path;
  }
}

const started = Date.now();
await rm(outDir, { recursive: true, force: true });
let count = 0;
for (const source of sources) {
  for await (const file of walk(join(root, source))) {
    const target = join(outDir, relative(root, file)).replace(/\.ts$/, '.js');
    const { code, map } = await transformFile(file, {
      ...swcOptions,
      filename: file,
      sourceFileName: relative(dirname(target), file),
      jsc: { ...swcOptions.jsc, baseUrl: root, paths: compilerOptions.paths },
    });
    await mkdir(dirname(target), { recursive: true });
    await writeFile(target, `${code}\n//# sourceMappingURL=${target.split('/').pop()}.map\n`);
    if (map) await writeFile(`${target}.map`, map);
    count++;
  }
}
console.log(`built ${count} files into dist/ in ${Date.now() - started} ms`);
