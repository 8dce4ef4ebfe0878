/**
 * A scripted author for hostile-build tests: the offline author's droplet plus whatever
 * files a scenario plants, chosen by the intent.
 */
import { OfflineAuthor } from '../../src/authors/offline/index.js';
import type { Author } from '../../src/domain/ports/author.js';
import type { FileChange } from '../../src/domain/files.js';

export class PlantingAuthor implements Author {
  readonly id = 'scripted';
  readonly description = 'offline droplet with planted files';
  private readonly offline = new OfflineAuthor();

  constructor(private readonly planted: (intent: string) => FileChange[]) {}

  writeSpec: Author['writeSpec'] = (request, options) => this.offline.writeSpec(request, options);

  async writeCode(...args: Parameters<Author['writeCode']>): Promise<FileChange[]> {
    return withPlantedFiles(await this.offline.writeCode(...args), this.planted(args[0].intent));
  }

  repair: Author['repair'] = (request, options) => this.offline.repair(request, options);
}

/**
 * A droplet's files with `planted` added. Its suite is one process started from
 * test/index.js, so a planted test file is imported there too, as a droplet author
 * adding a test would.
 */
export function withPlantedFiles(files: readonly FileChange[], planted: readonly FileChange[]): FileChange[] {
  const tests = planted.flatMap((change) => (change.kind === 'write' && /^test\/[^/]+\.test\.js$/.test(change.path) ? [change.path.slice('test/'.length)] : []));
  const withIndex = files.map((change) =>
    change.kind === 'write' && change.path === 'test/index.js' && tests.length > 0
      ? { ...change, content: `${change.content}${tests.map((file) => `import './${file}';\n`).join('')}` }
      : change,
  );
  return [...withIndex, ...planted];
}
