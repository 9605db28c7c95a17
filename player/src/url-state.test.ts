import assert from 'node:assert/strict';
import { test } from 'node:test';
import { readState, SharedView } from './url-state.js';

test('the URL the view writes keeps the fragment, where the token is', async () => {
  const written: string[] = [];
  const page = globalThis as unknown as Record<string, unknown>;
  page.window = { setTimeout: (f: () => void, ms: number) => setTimeout(f, ms) };
  page.history = { replaceState: (_s: unknown, _t: string, url: string) => written.push(url) };
  page.location = { hash: '#token=AbC-_9' };
  try {
    const view = new SharedView(readState('?space=demo&timeline=lab', { space: 'demo', timeline: '' }));
    view.set({ t: 1_500_000_000n });
    await new Promise((resolve) => setTimeout(resolve, 200));
    assert.deepEqual(written, ['?space=demo&timeline=lab&t=1500000000#token=AbC-_9']);
  } finally {
    delete page.window;
    delete page.history;
    delete page.location;
  }
});

test('a token is never read from the query: it is not part of the view', () => {
  const state = readState('?space=demo&timeline=lab&token=leaked', { space: 'demo', timeline: '' });
  assert.equal('token' in state, false);
});
