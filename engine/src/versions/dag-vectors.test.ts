import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { type DagVectorFile, runDagScenario } from '../conformance/dag-vectors.js';

const FILE = fileURLToPath(new URL('../../../spec/vectors/dag/dag.json', import.meta.url));
const CHECKER = fileURLToPath(new URL('../../../spec/vectors/dag/check_dag.py', import.meta.url));
const { scenarios } = JSON.parse(readFileSync(FILE, 'utf8')) as DagVectorFile;

for (const scenario of scenarios) {
  test(`spec 0008 DAG vector: ${scenario.name}`, () => runDagScenario(scenario));
}

test('spec 0008 DAG vectors: the independent Python model agrees with every expectation', () => {
  assert.match(execFileSync('/usr/bin/python3', [CHECKER, FILE], { encoding: 'utf8' }), /^ok 9 scenarios/);
});
