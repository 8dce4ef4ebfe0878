/**
 * The wait is part of an approval decision: the store refuses, inside its transaction, a
 * decision for a gate the build no longer waits at, or for an earlier wait at the gate it
 * waits at again; and a signed link that lost that race (checked in one wait, the build
 * in another by the time it decides) decides nothing and stays usable for nothing else
 * (its nonce is released, the build keeps waiting).
 */
import { randomBytes } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import type { GateName } from '../../src/domain/build.js';
import { ConflictError } from '../../src/domain/errors.js';
import type { BuildView } from '../../src/domain/status.js';
import { HmacApprovalLinkIssuer, SignedApprovalLinkRedeemer } from '../../src/pipeline/approval-links.js';
import { SqliteApprovalLinkLedger } from '../../src/store/approval-links.js';
import { SqliteBuildStore } from '../../src/store/build-store.js';
import { type Db, openDatabase } from '../../src/store/db.js';
import { ModelCallStore } from '../../src/store/model-calls.js';

const opened: Db[] = [];
afterEach(() => {
  for (const db of opened.splice(0)) db.close();
});

function setup() {
  const db = openDatabase(':memory:');
  opened.push(db);
  const store = new SqliteBuildStore(db, () => {}, new ModelCallStore(db));
  const waitingAt = async (gate: GateName, id = 'build-1-quote-keeper') => {
    await store.create(
      { dropletId: 1, dropletName: 'quote-keeper', intent: 'Build Quote Keeper', approvalMode: 'checkpoints', autoDeploy: false, notifyChannels: null, createdAt: new Date().toISOString(), estimatedSeconds: 60 },
      () => id,
    );
    await store.claim(id);
    await wait(id, gate);
    return id;
  };
  const wait = (id: string, gate: GateName, requestedAt = new Date(Date.now() - 5_000).toISOString()) =>
    store.awaitApproval(id, { gate, step_number: gate === 'after_spec' ? 2 : 6, requested_at: requestedAt, summary: `Review at ${gate}.` });
  const approvals = (id: string) => db.prepare('SELECT gate, approved FROM approvals WHERE build_id = ?').all(id);
  const eventTypes = async (id: string) => (await store.listEvents(id, 0)).map((event) => event.type);
  return { db, store, waitingAt, wait, approvals, eventTypes };
}

describe('deciding a gate', () => {
  it('refuses a decision for another gate than the one the build waits at, and changes nothing', async () => {
    const { store, waitingAt, approvals, eventTypes } = setup();
    const id = await waitingAt('before_deploy');
    const before = await eventTypes(id);
    const refused = store.decide(id, { approved: true, feedback: null, gate: 'after_spec' });
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toMatchObject({ message: expect.stringContaining('waits at the before_deploy gate'), details: { gate: 'after_spec', waiting_gate: 'before_deploy' } });
    expect((await store.get(id))!.status).toBe('waiting_approval');
    expect(approvals(id)).toEqual([]);
    expect(await eventTypes(id)).toEqual(before);
  });

  it('refuses a decision for an earlier wait at the gate the build waits at again, and changes nothing', async () => {
    const { store, waitingAt, wait, approvals, eventTypes } = setup();
    const id = await waitingAt('after_spec');
    const first = (await store.get(id))!.pendingApproval!.requested_at;
    await store.decide(id, { approved: false, feedback: null });
    await store.retry(id, {});
    await store.claim(id);
    const second = new Date(Date.parse(first) + 1).toISOString();
    await wait(id, 'after_spec', second);
    const before = await eventTypes(id);
    const refused = store.decide(id, { approved: true, feedback: null, gate: 'after_spec', requestedAt: first });
    await expect(refused).rejects.toBeInstanceOf(ConflictError);
    await expect(refused).rejects.toMatchObject({ message: expect.stringContaining(`since ${second}`), details: { requested_at: first, waiting_since: second } });
    expect((await store.get(id))!.status).toBe('waiting_approval');
    expect(await eventTypes(id)).toEqual(before);
    expect(await store.decide(id, { approved: true, feedback: null, gate: 'after_spec', requestedAt: second })).toEqual({ gate: 'after_spec', approved: true });
    // The retry forgot the first wait's rejection: only the decision of the current wait is kept.
    expect(approvals(id)).toEqual([{ gate: 'after_spec', approved: 1 }]);
  });

  it('journals when each wait began', async () => {
    const { store, waitingAt } = setup();
    const id = await waitingAt('before_deploy');
    const event = (await store.listEvents(id, 0)).find((each) => each.type === 'build.waiting_approval')!;
    expect(event.data).toEqual({ gate: 'before_deploy', step_number: 6, summary: 'Review at before_deploy.', requested_at: (await store.get(id))!.pendingApproval!.requested_at });
  });

  it('decides when the named gate is the pending one, and without a gate as before', async () => {
    const { store, waitingAt, wait, approvals } = setup();
    const id = await waitingAt('after_spec');
    expect(await store.decide(id, { approved: true, feedback: 'fine', gate: 'after_spec' })).toEqual({ gate: 'after_spec', approved: true });
    expect((await store.get(id))!.status).toBe('queued');
    await store.claim(id);
    await wait(id, 'before_deploy');
    expect(await store.decide(id, { approved: false, feedback: null })).toEqual({ gate: 'before_deploy', approved: false });
    expect((await store.get(id))!.status).toBe('cancelled');
    expect(approvals(id)).toEqual([{ gate: 'after_spec', approved: 1 }, { gate: 'before_deploy', approved: 0 }]);
  });
});

describe('a signed link that lost the gate race', () => {
  it('is refused by the store, decides nothing, and its nonce is released', async () => {
    const { db, store, waitingAt, approvals } = setup();
    const id = await waitingAt('after_spec');
    const key = randomBytes(32);
    const requestedAt = (await store.get(id))!.pendingApproval!.requested_at;
    const links = new HmacApprovalLinkIssuer({ key, publicUrl: 'http://executor.test', ttlSeconds: 3600 }).linksFor(id, { gate: 'after_spec', requestedAt });
    const token = links.approveUrl.split('/').at(-1)!;
    // What the redeemer's check read: the build waiting at after_spec. Meanwhile it was approved
    // there (by the API), ran on and now waits at before_deploy when this link's decision lands.
    const seen = { build_id: id, droplet_id: 1, droplet_name: 'quote-keeper', architect_intent: 'Build Quote Keeper', status: 'waiting_approval', pending_approval: { gate: 'after_spec', step_number: 2, requested_at: requestedAt, summary: 'Review at after_spec.' } } as unknown as BuildView;
    const decided: unknown[] = [];
    const ledger = new SqliteApprovalLinkLedger(db);
    const redeemer = new SignedApprovalLinkRedeemer({
      key,
      ledger,
      builds: {
        get: async () => seen,
        approve: async (buildId, decision) => {
          decided.push(decision);
          await store.decide(buildId, { approved: true, feedback: null });
          await store.claim(buildId);
          await store.awaitApproval(buildId, { gate: 'before_deploy', step_number: 6, requested_at: new Date().toISOString(), summary: 'Review at before_deploy.' });
          await store.decide(buildId, { approved: decision.approved, feedback: decision.feedback ?? null, ...(decision.gate && { gate: decision.gate }) });
          return seen;
        },
      },
    });
    await expect(redeemer.redeem(token)).rejects.toBeInstanceOf(ConflictError);
    expect(decided).toEqual([{ approved: true, gate: 'after_spec', requestedAt }]);
    expect((await store.get(id))!).toMatchObject({ status: 'waiting_approval', pendingApproval: { gate: 'before_deploy' } });
    expect(approvals(id)).toEqual([{ gate: 'after_spec', approved: 1 }]);
    const nonce = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).n as string;
    expect(await ledger.isUsed(nonce)).toBe(false);
  });

  it('is refused by the store when the build waits at the same gate again, in a later wait', async () => {
    const { db, store, waitingAt, wait, approvals } = setup();
    const id = await waitingAt('after_spec');
    const first = (await store.get(id))!.pendingApproval!;
    const key = randomBytes(32);
    const token = new HmacApprovalLinkIssuer({ key, publicUrl: 'http://executor.test', ttlSeconds: 3600 })
      .linksFor(id, { gate: 'after_spec', requestedAt: first.requested_at })
      .approveUrl.split('/')
      .at(-1)!;
    const seen = { build_id: id, droplet_id: 1, droplet_name: 'quote-keeper', architect_intent: 'Build Quote Keeper', status: 'waiting_approval', pending_approval: first } as unknown as BuildView;
    const later = new Date(Date.parse(first.requested_at) + 1).toISOString();
    const ledger = new SqliteApprovalLinkLedger(db);
    const redeemer = new SignedApprovalLinkRedeemer({
      key,
      ledger,
      builds: {
        get: async () => seen,
        approve: async (buildId, decision) => {
          // Between the check and the decision: rejected by the API, retried, waiting at after_spec again.
          await store.decide(buildId, { approved: false, feedback: null });
          await store.retry(buildId, {});
          await store.claim(buildId);
          await wait(buildId, 'after_spec', later);
          await store.decide(buildId, { approved: decision.approved, feedback: null, ...(decision.gate && { gate: decision.gate }), ...(decision.requestedAt && { requestedAt: decision.requestedAt }) });
          return seen;
        },
      },
    });
    await expect(redeemer.redeem(token)).rejects.toMatchObject({ details: { requested_at: first.requested_at, waiting_since: later } });
    expect((await store.get(id))!).toMatchObject({ status: 'waiting_approval', pendingApproval: { gate: 'after_spec', requested_at: later } });
    expect(approvals(id)).toEqual([]);
    const nonce = JSON.parse(Buffer.from(token.split('.')[0]!, 'base64url').toString()).n as string;
    expect(await ledger.isUsed(nonce)).toBe(false);
  });
});
