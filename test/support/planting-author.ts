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
    return [...(await this.offline.writeCode(...args)), ...this.planted(args[0].intent)];
  }

  repair: Author['repair'] = (request, options) => this.offline.repair(request, options);
}
