// The hand-written declarations (src/index.d.ts) against the code and
// against the pools a TypeScript service passes to instrument(). The
// package has no TypeScript compiler among its dependencies, so this reads
// the declarations as text; checked by hand with tsc 5 and @types/pg 8,
// @neondatabase/serverless 1 (instrument(new pg.Pool(…)) must compile).

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as api from '../src/index.js';

const dts = readFileSync(new URL('../src/index.d.ts', import.meta.url), 'utf8');

test('every export of index.js is declared in index.d.ts', () => {
  for (const name of Object.keys(api)) {
    const declared = new RegExp(`export (declare )?(function|class|const|let) ${name}\\b`).test(dts);
    assert.ok(declared, `${name} is exported by index.js but not declared in index.d.ts`);
  }
});

// @types/pg's Pool.options is PoolOptions and Neon's is its own interface:
// neither has an index signature, so a member typed Record<string, …> or
// with [key: string] makes instrument(pool) a compile error for them
// (TS2345 "Index signature for type 'string' is missing in type 'PoolOptions'").
test('PgPoolLike asks nothing a pg.Pool or a Neon Pool type lacks: no index signatures', () => {
  const m = /export interface PgPoolLike \{([^}]*)\}/.exec(dts);
  assert.ok(m, 'index.d.ts declares no PgPoolLike');
  assert.doesNotMatch(m[1], /Record<string|\[\s*\w+\s*:\s*string\s*\]/, `PgPoolLike:\n${m[1]}`);
});
