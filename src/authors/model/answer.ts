/**
 * One answer as it is built up over the turns of a task: each file operation applied
 * on top of what the model was shown and wrote so far, and the repository as that
 * leaves it, for the model's own reads.
 */
import type { FileChange } from '../../domain/files.js';
import type { AuthorWorkspace } from '../../domain/ports/author.js';
import type { FileOperation } from './file-output.js';

/** The repository as the answer so far leaves it: a file the model was shown, wrote or deleted reads as such. */
export function withAnswerSoFar(workspace: AuthorWorkspace, contents: ReadonlyMap<string, string | null>): AuthorWorkspace {
  return {
    readFile: async (path) => (contents.has(path) ? (contents.get(path) ?? null) : workspace.readFile(path)),
    listFiles: (dir) => workspace.listFiles(dir),
  };
}

/**
 * Applies one operation on top of what the answer wrote so far (and the files the
 * model was shown); an edit becomes a whole-file write. Returns an error to report, or null.
 */
export function applyOperation(operation: FileOperation, contents: Map<string, string | null>, collected: Map<string, FileChange>): string | null {
  if (operation.kind !== 'edit') {
    contents.set(operation.path, operation.kind === 'write' ? operation.content : null);
    collected.delete(operation.path);
    collected.set(operation.path, operation);
    return null;
  }
  const current = contents.get(operation.path);
  if (current === undefined || current === null) return `edit_file of ${operation.path}: no such file was shown`;
  const first = current.indexOf(operation.oldText);
  if (first === -1) return `edit_file of ${operation.path}: old_text does not occur in the file`;
  if (current.indexOf(operation.oldText, first + 1) !== -1) return `edit_file of ${operation.path}: old_text occurs more than once`;
  const content = current.slice(0, first) + operation.newText + current.slice(first + operation.oldText.length);
  contents.set(operation.path, content);
  collected.delete(operation.path);
  collected.set(operation.path, { kind: 'write', path: operation.path, content });
  return null;
}
