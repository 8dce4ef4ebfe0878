import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dropletDataDirFor, releaseDirFor } from '../../src/deploy/release.js';

const root = mkdtempSync(join(tmpdir(), 'release-dirs-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));
const droplet = { dropletId: 4, name: 'notes-keeper' };

describe('release directories', () => {
  it('keep the droplet records beside the releases, in one place for every release', async () => {
    const data = await dropletDataDirFor(root, droplet);
    expect(data).toBe(join(root, 'deployments', '4-notes-keeper', 'data'));
    expect(statSync(data).isDirectory()).toBe(true);
    expect(releaseDirFor(root, droplet, 'b-1')).toBe(join(root, 'deployments', '4-notes-keeper', 'b-1'));
  });

  it('refuse a release id that would land on the records, the module stores or outside', () => {
    for (const releaseId of ['data', 'modules', '..', 'a/b', '']) {
      expect(() => releaseDirFor(root, droplet, releaseId), releaseId).toThrow(expect.objectContaining({ code: 'DEPLOY_INVALID_RELEASE' }));
    }
    expect(() => releaseDirFor(root, { dropletId: 0, name: 'x' }, 'b-1')).toThrow(expect.objectContaining({ code: 'DEPLOY_INVALID_RELEASE' }));
  });
});
