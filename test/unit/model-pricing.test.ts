/** Prices, overrides, worst cases, and what a repair is shown of a failure. */
import { describe, expect, it } from 'vitest';
import { FALLBACK_PRICE, parsePriceOverrides, PriceTable } from '../../src/authors/model/pricing.js';
import { failureBrief, fileForRepair, trimOutput } from '../../src/authors/model/prompts.js';
import { retryAfterFrom } from '../../src/authors/model/types.js';
import { loadConfig } from '../../src/composition/config.js';
import { selectRepairContext } from '../../src/domain/repair-context.js';
import { failureFingerprint } from '../../src/domain/verification-failure.js';
import type { VerificationReport } from '../../src/domain/verification.js';

describe('the price table', () => {
  it('prices a dated model by its family prefix and counts every token kind', () => {
    const table = new PriceTable();
    const cost = table.costOf('claude-sonnet-4-5-20250929', { inputTokens: 1_000_000, outputTokens: 100_000, cacheReadTokens: 1_000_000, cacheWriteTokens: 0 });
    expect(cost).toBeCloseTo(3 + 1.5 + 0.3, 6);
  });

  it('prices an unknown model at the high fallback, and says so', () => {
    expect(new PriceTable().priceOf('my-local-llama')).toEqual({ price: FALLBACK_PRICE, known: false });
  });

  it('takes overrides, including a wildcard for local servers', () => {
    const table = new PriceTable(parsePriceOverrides('{"*": {"input": 0, "output": 0}, "claude-sonnet": {"input": 1, "output": 2}}'));
    expect(table.priceOf('llama3').price).toEqual({ input: 0, output: 0, cacheRead: 0, cacheWrite: 0 });
    expect(table.costOf('claude-sonnet-5-5', { inputTokens: 1_000_000, outputTokens: 1_000_000, cacheReadTokens: 0, cacheWriteTokens: 0 })).toBe(3);
  });

  it('bounds a call by its whole output allowance at the dearest input rate', () => {
    expect(new PriceTable().worstCaseOf('claude-sonnet-5-5', 10_000, 1_000)).toBeCloseTo((10_000 * 3.75 + 1_000 * 15) / 1e6, 9);
  });

  it('rejects a malformed MODEL_PRICES at start-up with one line naming it', () => {
    expect(() => loadConfig({ MODEL_PRICES: '{"x": {"input": "cheap"}}' })).toThrow(/MODEL_PRICES=.*x\.input/);
    expect(() => loadConfig({ MODEL_PRICES: 'nope' })).toThrow(/MODEL_PRICES=.*not valid JSON/);
  });
});

describe('provider selection', () => {
  it('picks anthropic when a key is set and MODEL_PROVIDER is not, and hides the key in errors', () => {
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-secret-1' }).modelProvider).toBe('anthropic');
    expect(loadConfig({}).modelProvider).toBe('offline');
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-secret-1', MODEL_PROVIDER: 'offline' }).modelProvider).toBe('offline');
    expect(loadConfig({ ANTHROPIC_API_KEY: 'sk-ant-secret-1' }).secrets).toContain('sk-ant-secret-1');
    expect(() => loadConfig({ MODEL_PROVIDER: 'anthropic' })).toThrow(/ANTHROPIC_API_KEY=missing/);
    expect(() => loadConfig({ MODEL_PROVIDER: 'openai' })).toThrow(/OPENAI_API_KEY/);
    expect(loadConfig({ MODEL_PROVIDER: 'openai', OPENAI_BASE_URL: 'http://127.0.0.1:11434/v1' }).modelProvider).toBe('openai');
  });
});

describe('retry-after', () => {
  it('reads seconds, milliseconds and HTTP dates', () => {
    const headers = (values: Record<string, string>) => (name: string) => values[name] ?? null;
    expect(retryAfterFrom(headers({ 'retry-after': '2' }))).toBe(2000);
    expect(retryAfterFrom(headers({ 'retry-after-ms': '250', 'retry-after': '9' }))).toBe(250);
    expect(retryAfterFrom(headers({ 'retry-after': new Date(10_000).toUTCString() }), 7_000)).toBe(3000);
    expect(retryAfterFrom(headers({}))).toBeNull();
  });
});

const failing: VerificationReport = {
  passed: false,
  stage: 'tests',
  summary: '1 test failed',
  childProcessMs: 0,
  tests: {
    command: 'npm test',
    exitCode: 1,
    timedOut: false,
    truncated: false,
    durationMs: 10,
    failingTests: ['creates a note'],
    outputTail: [
      ...Array.from({ length: 200 }, (_, index) => `ok ${index + 1} - passes ${index}`),
      'not ok 201 - creates a note',
      '  error: Expected values to be strictly equal: 201 !== 400',
      '  at TestContext.<anonymous> (file:///repo/test/notes.test.js:12:5)',
      '  at node:internal/test_runner/test:123:1',
    ].join('\n'),
  },
};

describe('what a repair is shown', () => {
  it('keeps the failing lines and drops the passing ones', () => {
    const trimmed = trimOutput(failing.tests!.outputTail);
    expect(trimmed).toContain('not ok 201 - creates a note');
    expect(trimmed).toContain('test/notes.test.js:12:5');
    expect(trimmed).not.toContain('passes 17');
    expect(trimmed).not.toContain('node:internal');
    expect(failureBrief(failing)).toContain('- creates a note');
  });

  it('shows a long file as numbered excerpts around the lines the failure names', () => {
    const content = Array.from({ length: 300 }, (_, index) => `line ${index + 1} ${'x'.repeat(20)}`).join('\n');
    const shown = fileForRepair({ path: 'test/notes.test.js', content }, failing.tests!.outputTail.replace(':12:5', ':150:5'));
    expect(shown).toContain('(excerpt of 300 lines; change it with edit_file)');
    expect(shown).toContain('    1| line 1 ');
    expect(shown).toContain('  150| line 150 ');
    expect(shown).toContain('  170| line 170 ');
    expect(shown).not.toContain('line 171 ');
    expect(shown).not.toContain('line 100 ');
    // Short files, and files the failure names no line of, are sent whole.
    expect(fileForRepair({ path: 'src/other.js', content }, failing.tests!.outputTail)).toBe(`## src/other.js\n\n${content}`);
  });

  it('sends the files a failure names, never docs or the lockfile', () => {
    const paths = ['docs/SPEC.md', 'package-lock.json', 'package.json', 'src/app.js', 'src/notes.js', 'test/notes.test.js', 'test/health.test.js'];
    const files = new Map(paths.map((path) => [path, `// ${path}\n`]));
    const sent = (report: VerificationReport) => selectRepairContext(report, files).files.map((file) => file.path);
    expect(sent(failing)).toEqual(['test/notes.test.js']);
    // Nothing named, no route registered: every source.
    const contract: VerificationReport = { ...failing, stage: 'contract', tests: undefined, contract: [{ name: 'GET /health shape', passed: false, expected: 'x', got: 'y' }] };
    expect(sent(contract)).toEqual(['package.json', 'src/app.js', 'src/notes.js']);
  });

  it('fingerprints failures by what failed and how, not by timings', () => {
    const tail = failing.tests!.outputTail;
    const slower = { ...failing, tests: { ...failing.tests!, durationMs: 999, outputTail: `${tail}\n  duration_ms: 812.5\n# duration 3.2s` } };
    expect(failureFingerprint(slower)).toBe(failureFingerprint(failing));
    expect(failureFingerprint({ ...failing, tests: { ...failing.tests!, failingTests: ['another'] } })).not.toBe(failureFingerprint(failing));
    const otherwise = { ...failing, tests: { ...failing.tests!, outputTail: tail.replace('201 !== 400', '201 !== 404') } };
    expect(failureFingerprint(otherwise)).not.toBe(failureFingerprint(failing));
  });
});
