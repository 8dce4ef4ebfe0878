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

  /**
   * The droplet's suite is one process started from test/index.js: a planted test file
   * is imported there too, as a droplet author adding a test would.
   */
  async writeCode(...args: Parameters<Author['writeCode']>): Promise<FileChange[]> {
    const planted = this.planted(args[0].intent);
    const plantedTests = planted.flatMap((change) => (change.kind === 'write' && /^test\/[^/]+\.test\.js$/.test(change.path) ? [change.path.slice('test/'.length)] : []));
    const files = (await this.offline.writeCode(...args)).map((change) =>
      change.kind === 'write' && change.path === 'test/index.js' && plantedTests.length > 0
        ? { ...change, content: `${change.content}${plantedTests.map((file) => `import './${file}';\n`).join('')}` }
        : change,
    );
    return [...files, ...planted];
  }

  repair: Author['repair'] = (request, options) => this.offline.repair(request, options);
}
