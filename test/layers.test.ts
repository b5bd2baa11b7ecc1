// The layer rule (eslint.config.js, CONTRIBUTING.md "Layers"): an import that points up is a lint error, one that
// points down is fine. Linted through ESLint's API with the project's own configuration, as `npm run lint` does.
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { ESLint } from 'eslint';
import { REPO_ROOT } from './helpers/worker-process.js';

// The project's configuration, minus type information: these snippets are not files of the TypeScript project.
const eslint = new ESLint({
  cwd: REPO_ROOT,
  overrideConfig: {
    languageOptions: { parserOptions: { projectService: false } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'off',
      '@typescript-eslint/no-misused-promises': 'off',
      '@typescript-eslint/await-thenable': 'off',
    },
  },
});

/** The no-restricted-imports messages ESLint gives `code` as if it were the file `path`. */
async function layerErrors(path: string, code: string): Promise<string[]> {
  const [result] = await eslint.lintText(code, { filePath: join(REPO_ROOT, path) });
  const fatal = result?.messages.find((m) => m.fatal);
  if (fatal) throw new Error(`ESLint could not lint ${path}: ${fatal.message}`);
  return (result?.messages ?? []).filter((m) => m.ruleId === 'no-restricted-imports').map((m) => m.message);
}

describe('layers: dependencies point down', () => {
  const upward: Array<[string, string]> = [
    ['src/monitor/example.ts', '../../queues/index.js'],
    ['src/example.ts', '../workers/registry.js'],
    ['src/stores/example.ts', '../../board/app.js'],
    ['queues/example.ts', '../workers/registry.js'],
    ['queues/example.ts', '../board/app.js'],
    ['queues/example.ts', '../scripts/cli/args.js'],
    ['workers/example.ts', '../board/app.js'],
    ['board/example.ts', '../workers/registry.js'],
  ];
  for (const [file, target] of upward) {
    test(`${file} importing ${target} fails lint`, async () => {
      const errors = await layerErrors(file, `import { x } from '${target}';\nexport const y = x;\n`);
      assert.equal(errors.length, 1, `expected one layer error, got ${JSON.stringify(errors)}`);
      assert.match(errors[0]!, /Layers/);
    });
  }

  test('type-only and re-export forms are caught too', async () => {
    assert.equal(
      (await layerErrors('src/example.ts', `import type { X } from '../queues/index.js';\nexport type Y = X;\n`))
        .length,
      1,
    );
    assert.equal((await layerErrors('src/example.ts', `export { x } from '../workers/registry.js';\n`)).length, 1);
  });

  test('imports that point down (or sideways within a layer) pass', async () => {
    const fine: Array<[string, string]> = [
      ['src/monitor/example.ts', '../config.js'],
      ['queues/example.ts', '../src/config.js'],
      ['workers/example.ts', '../queues/index.js'],
      ['board/example.ts', '../queues/index.js'],
      ['scripts/example.ts', '../workers/worker-host.js'],
    ];
    for (const [file, target] of fine) {
      assert.deepEqual(
        await layerErrors(file, `import { x } from '${target}';\nexport const y = x;\n`),
        [],
        `${file} → ${target}`,
      );
    }
  });
});
