/**
 * Core tier: a crash and a restart. The first host stops dead mid-step (nothing closed,
 * nothing aborted); a second host opens the same database file and recovers: builds
 * left in progress are re-queued with `build.resumed`, queued ones are enqueued, and
 * both finish without redoing the steps that had completed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { hosts, SPEC_MARKDOWN, tempDatabaseFile } from '../support/core-host.js';

const made = hosts();
const files: { remove(): void }[] = [];
afterEach(async () => {
  await made.closeAll();
  for (const file of files.splice(0)) file.remove();
});

function sharedFile(): string {
  const temp = tempDatabaseFile();
  files.push(temp);
  return temp.file;
}

describe('resume after a crash', () => {
  it('re-queues a build left mid-step and one left queued; both finish, completed steps are not redone', async () => {
    const file = sharedFile();
    const first = made.make({ dbFile: file, concurrency: 1 });
    const hold = first.probe.hold('apprentice_build');
    const interrupted = await first.submit({ dropletName: 'interrupted-one' });
    await hold.reached;
    const waiting = await first.submit({ dropletName: 'waiting-one' });
    expect(first.record(interrupted.build_id)).toMatchObject({ status: 'in_progress', currentStep: 4 });
    expect(first.record(waiting.build_id).status).toBe('queued');
    first.abandon();

    const second = made.make({ dbFile: file, concurrency: 1 });
    expect((await second.service.get(interrupted.build_id)).steps[3]!.status).toBe('in_progress');
    const recovered = await second.recover();
    expect(recovered).toEqual([interrupted.build_id, waiting.build_id]);

    const resumed = await second.settle(interrupted.build_id, 'completed');
    const queuedOne = await second.settle(waiting.build_id, 'completed');
    expect(resumed.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));
    expect(queuedOne.steps.map((step) => step.status)).toEqual(Array(8).fill('completed'));

    expect(second.trail(interrupted.build_id)).toEqual([
      'build.queued', 'build.started',
      'step.started:1', 'step.completed:1', 'step.started:2', 'step.completed:2', 'step.started:3', 'step.completed:3',
      'step.started:4', 'build.resumed', 'build.started',
      'step.started:4', 'step.completed:4', 'step.started:5', 'step.completed:5', 'step.started:6', 'step.completed:6',
      'step.started:7', 'step.completed:7', 'step.started:8', 'step.completed:8', 'build.completed',
    ]);
    const events = second.events(interrupted.build_id);
    expect(events.find((event) => event.type === 'build.resumed')!.data).toEqual({ reason: 'executor restarted' });
    expect(events.filter((event) => event.type === 'build.started').map((event) => event.data)).toEqual([{ from_step: 1 }, { from_step: 4 }]);
    // The queued one was only enqueued again, not "resumed".
    expect(second.types(waiting.build_id)).not.toContain('build.resumed');
    expect(second.types(waiting.build_id).filter((type) => type === 'build.started')).toHaveLength(1);

    // The second host ran steps 1 to 3 only for the build that had never started.
    expect(second.probe.entered).toMatchObject({ intent: 1, spec_generation: 1, coordinator_package: 1, apprentice_build: 2, verifier: 2 });
    // …and the resumed build's code was written from the SPEC the first host saved.
    const codeFor = second.author.codeRequests.find((request) => request.droplet.name === 'interrupted-one')!;
    expect(codeFor.spec).toBe(`${SPEC_MARKDOWN(codeFor.droplet).trim()}\n`);
    expect(codeFor.intent).toBe(first.record(interrupted.build_id).intent);
    expect(resumed.repository_path).toBe('/virtual/repos/1-interrupted-one');
    expect(second.runnerErrors).toEqual([]);
  });

  it('leaves a build waiting for approval waiting; the new host can approve it', async () => {
    const file = sharedFile();
    const first = made.make({ dbFile: file });
    const { build_id: id } = await first.submit({ approvalMode: 'final' });
    await first.settle(id, 'waiting_approval');
    first.abandon();

    const second = made.make({ dbFile: file });
    expect(await second.recover()).toEqual([]);
    expect((await second.service.get(id)).status).toBe('waiting_approval');
    expect(second.types(id)).not.toContain('build.resumed');
    await second.service.approve(id, { approved: true });
    await second.settle(id, 'completed');
    expect(second.probe.entered).toMatchObject({ intent: 0, verifier: 0, deployer: 1, registry_update: 1, complete: 1 });
  });

  it('resumes a build whose step had returned but was not yet journaled: that step runs again', async () => {
    const file = sharedFile();
    const first = made.make({ dbFile: file });
    const hold = first.probe.holdFinish('verifier');
    const { build_id: id } = await first.submit();
    await hold.reached;
    expect(first.record(id).status).toBe('in_progress');
    first.abandon();

    const second = made.make({ dbFile: file });
    expect(await second.recover()).toEqual([id]);
    const view = await second.settle(id, 'completed');
    expect(view.steps[4]!.details).toMatchObject({ attempts: [{ attempt: 1, passed: true }] });
    expect(second.probe.entered).toMatchObject({ apprentice_build: 0, verifier: 1, deployer: 1 });
    expect(second.starts(id, 5)).toBe(2);
  });

  it('a cancel on the new host of a build it recovered works as usual', async () => {
    const file = sharedFile();
    const first = made.make({ dbFile: file });
    const hold = first.probe.hold('deployer');
    const { build_id: id } = await first.submit();
    await hold.reached;
    first.abandon();

    const second = made.make({ dbFile: file });
    const again = second.probe.hold('deployer');
    await second.recover();
    await again.reached;
    const view = await second.service.cancel(id);
    expect(view).toMatchObject({ status: 'cancelled', error: { code: 'CANCELLED' } });
    expect(view.steps[5]!.status).toBe('cancelled');
    expect(second.isRunning(id)).toBe(false);
    expect(second.trail(id).slice(-4)).toEqual(['build.resumed', 'build.started', 'step.started:6', 'build.cancelled']);
  });
});
