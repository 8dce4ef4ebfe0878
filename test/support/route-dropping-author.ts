/**
 * The offline droplet with its PUT route left out, and with only its UDC and config tests,
 * so its own suite stays green: only the SPEC's acceptance scenario notices, and the
 * offline author's repair puts the route back. A build that needs exactly one repair.
 */
import { OfflineAuthor } from '../../src/authors/offline/index.js';
import type { FileChange } from '../../src/domain/files.js';
import type { Author } from '../../src/domain/ports/author.js';

/** The `app.put(…)` registration of the skeleton's crud.js, up to the next route. */
const PUT_ROUTE = /\n {2}app\.put\(base \+ '\/:id'[\s\S]*?\n {2}\}\);\n/;

export class RouteDroppingAuthor implements Author {
  readonly id = 'route-dropping';
  readonly description = 'offline droplet without its PUT route';
  private readonly offline = new OfflineAuthor();
  writeSpec: Author['writeSpec'] = (request, options) => this.offline.writeSpec(request, options);
  repair: Author['repair'] = (request, options) => this.offline.repair(request, options);

  async writeCode(...args: Parameters<Author['writeCode']>): Promise<FileChange[]> {
    return (await this.offline.writeCode(...args)).map((change) => {
      if (change.kind !== 'write') return change;
      if (change.path === 'src/crud.js') {
        if (!PUT_ROUTE.test(change.content)) throw new Error('crud.js has no PUT route to drop');
        return { ...change, content: change.content.replace(PUT_ROUTE, '\n') };
      }
      if (change.path === 'test/index.js') return { ...change, content: "import './udc.test.js';\nimport './config.test.js';\n" };
      return change;
    });
  }
}
