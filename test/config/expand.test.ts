import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { expandString, expandTree, MAX_EXPANDED_CHARS } from '../../internal/config/expand';

const env = { HOST: 'collector', PORT: '4317', EMPTY: '' };

describe('expandString', () => {
  it('replaces ${VAR} with the value, or nothing when unset', () => {
    assert.deepEqual(expandString('${HOST}:${PORT}', env), { text: 'collector:4317', problems: [] });
    assert.deepEqual(expandString('x${MISSING}y', env), { text: 'xy', problems: [] });
  });

  it('uses the default of ${VAR:-default} when VAR is unset or empty', () => {
    assert.equal(expandString('${MISSING:-localhost}', env).text, 'localhost');
    assert.equal(expandString('${EMPTY:-fallback}', env).text, 'fallback');
    assert.equal(expandString('${HOST:-localhost}', env).text, 'collector');
    assert.equal(expandString('${MISSING:-}', env).text, '');
    assert.equal(expandString('${MISSING:-http://h:1/a-b}', env).text, 'http://h:1/a-b');
  });

  it('reports ${VAR:?message} when VAR is unset or empty, with the message', () => {
    assert.deepEqual(expandString('${HOST:?need a host}', env), { text: 'collector', problems: [] });
    assert.deepEqual(expandString('${MISSING:?set MISSING to the key id}', env).problems, ['environment variable MISSING is required: set MISSING to the key id']);
    assert.deepEqual(expandString('${EMPTY:?}', env).problems, ['environment variable EMPTY is required: not set']);
  });

  it('turns $$ into $ and leaves a lone $ alone', () => {
    assert.equal(expandString('pa$$word', env).text, 'pa$word');
    assert.equal(expandString('$$${HOST}', env).text, '$collector');
    assert.equal(expandString('cost $5 and $', env).text, 'cost $5 and $');
  });

  it('reports unterminated placeholders and bad variable names', () => {
    assert.match(expandString('${HOST', env).problems[0], /unterminated placeholder/);
    assert.match(expandString('${1ABC}', env).problems[0], /does not name an environment variable/);
    assert.match(expandString('${}', env).problems[0], /does not name an environment variable/);
  });
});

describe('expandTree', () => {
  it('expands every string value at any depth, not keys or other types', () => {
    const tree = { a: { b: ['${HOST}', 3, true], '${HOST}': '${PORT}' }, n: null };
    const { tree: out, problems } = expandTree(tree, env);
    assert.deepEqual(out, { a: { b: ['collector', 3, true], '${HOST}': '4317' }, n: null });
    assert.deepEqual(problems, []);
    assert.equal(tree.a.b[0], '${HOST}', 'the input is not modified');
  });

  it('stops with one problem when placeholders would expand the configuration past the bound', () => {
    const big = { B: 'x'.repeat(1000) };
    const item = '${B}'.repeat(100);
    const { tree: out, problems } = expandTree({ a: Array.from({ length: 2000 }, () => item), b: 'plain' }, big);
    assert.deepEqual(problems, [{ path: 'a[167]', message: `placeholders expand the configuration past ${MAX_EXPANDED_CHARS} characters` }]);
    const expanded = out as { a: string[]; b: string };
    assert.equal(expanded.a[0].length, 100_000);
    assert.equal(expanded.a[1999], item, 'left as written past the bound');
    assert.equal(expanded.b, 'plain');
  });

  it('names the key path of each problem and not the value', () => {
    const { problems } = expandTree({ telemetryflow: { api_key_secret: '${SECRET:?secret missing}' }, list: ['${X:?x}'] }, {});
    assert.deepEqual(problems, [
      { path: 'telemetryflow.api_key_secret', message: 'environment variable SECRET is required: secret missing' },
      { path: 'list[0]', message: 'environment variable X is required: x' },
    ]);
  });
});
