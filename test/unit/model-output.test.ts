/** Reading a model's answer: tool calls and file blocks, cut-off files, hostile formatting. */
import { describe, expect, it } from 'vitest';
import { changesFromToolCalls, parseFileBlocks } from '../../src/authors/model/file-output.js';
import type { ModelReply } from '../../src/authors/model/types.js';

const write = (id: string, path: string, content: string): ModelReply['parts'][number] => ({ type: 'tool_call', id, name: 'write_file', input: { path, content } });

describe('tool calls', () => {
  it('turns write_file, edit_file and delete_file calls into operations, in the order given', () => {
    const parsed = changesFromToolCalls(
      [
        { type: 'text', text: 'Here are the files.' },
        write('1', 'src/a.js', 'one'),
        { type: 'tool_call', id: '2', name: 'delete_file', input: { path: 'old.js' } },
        write('3', 'src/a.js', 'two'),
        { type: 'tool_call', id: '4', name: 'edit_file', input: { path: 'src/a.js', old_text: 'two', new_text: 'three' } },
      ],
      false,
    );
    expect(parsed.changes).toEqual([
      { kind: 'write', path: 'src/a.js', content: 'one' },
      { kind: 'delete', path: 'old.js' },
      { kind: 'write', path: 'src/a.js', content: 'two' },
      { kind: 'edit', path: 'src/a.js', oldText: 'two', newText: 'three' },
    ]);
    expect(parsed).toMatchObject({ cutOff: null, invalid: [], text: 'Here are the files.' });
  });

  it('drops the last call of a truncated answer as cut off, keeping the complete ones', () => {
    const parsed = changesFromToolCalls([write('1', 'a.js', 'whole'), { type: 'tool_call', id: '2', name: 'write_file', input: { path: 'b.js' } }], true);
    expect(parsed.changes).toEqual([{ kind: 'write', path: 'a.js', content: 'whole' }]);
    expect(parsed.cutOff).toBe('b.js');
  });

  it('keeps every call when a truncated answer ended in text after them', () => {
    const parsed = changesFromToolCalls([write('1', 'a.js', 'whole'), { type: 'text', text: 'and now I will expl' }], true);
    expect(parsed.changes).toHaveLength(1);
    expect(parsed.cutOff).toBeNull();
  });

  it('reports unknown tools and malformed input instead of guessing', () => {
    const parsed = changesFromToolCalls(
      [
        { type: 'tool_call', id: '1', name: 'run_shell', input: { command: 'rm -rf /' } },
        { type: 'tool_call', id: '2', name: 'write_file', input: { path: 'a.js' } },
        { type: 'tool_call', id: '3', name: 'write_file', input: { path: 'b.js', content: 'x', mode: '777' } },
      ],
      false,
    );
    expect(parsed.changes).toEqual([]);
    expect(parsed.invalid).toHaveLength(3);
    expect(parsed.invalid[0]).toContain('run_shell');
  });
});

describe('file blocks', () => {
  it('reads blocks whose content holds code fences and marker-like lines of other paths', () => {
    const answer = [
      'Sure:',
      '```',
      '=== FILE: README.md ===',
      '# Title',
      '```js',
      'const x = 1;',
      '```',
      '=== END FILE: other.md ===',
      '=== END FILE: README.md ===',
      '=== DELETE FILE: old.txt ===',
      '```',
    ].join('\n');
    const parsed = parseFileBlocks(answer, false);
    expect(parsed.changes).toEqual([
      { kind: 'write', path: 'README.md', content: '# Title\n```js\nconst x = 1;\n```\n=== END FILE: other.md ===\n' },
      { kind: 'delete', path: 'old.txt' },
    ]);
    expect(parsed.invalid).toEqual([]);
  });

  it('survives CRLF line endings and byte-order marks', () => {
    const answer = '\uFEFF=== FILE: a.js ===\r\n\uFEFFline 1\r\nline 2\r\n=== END FILE: a.js ===\r\n';
    expect(parseFileBlocks(answer, false).changes).toEqual([{ kind: 'write', path: 'a.js', content: 'line 1\nline 2\n' }]);
  });

  it('reports a block with no end marker as cut off when truncated, as invalid when not', () => {
    const answer = '=== FILE: a.js ===\nok\n=== END FILE: a.js ===\n=== FILE: b.js ===\nhalf a fi';
    const truncated = parseFileBlocks(answer, true);
    expect(truncated.changes.map((change) => change.path)).toEqual(['a.js']);
    expect(truncated.cutOff).toBe('b.js');
    const complete = parseFileBlocks(answer, false);
    expect(complete.invalid).toEqual(['file block "b.js" has no end marker']);
  });

  it('passes hostile paths through untouched, for the safe-path function to refuse', () => {
    const answer = ['../../x', '/etc/passwd', 'a/../../x', '.git/hooks/pre-commit']
      .map((path) => `=== FILE: ${path} ===\nx\n=== END FILE: ${path} ===`)
      .join('\n');
    expect(parseFileBlocks(answer, false).changes.map((change) => change.path)).toEqual(['../../x', '/etc/passwd', 'a/../../x', '.git/hooks/pre-commit']);
  });
});
