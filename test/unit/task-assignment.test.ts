/** POST /message task_assignment: documented in /capabilities, and every build field honoured. */
import { describe, expect, it } from 'vitest';
import type { BuildView } from '../../src/domain/status.js';
import { BUILD_FIELDS } from '../../src/http/schemas.js';
import { startsTestApps } from '../support/http-app.js';

const INTENT = 'Build Plant Tracker for watering schedules';
const start = startsTestApps();

describe('task_assignment', () => {
  it('creates a build in the approval mode its payload names, with the other build fields', async () => {
    const { app, builds } = await start();
    const answer = await app.inject({
      method: 'POST',
      url: '/message',
      payload: {
        from_service: 'architect',
        message_type: 'task_assignment',
        payload: { architect_intent: INTENT, approval_mode: 'checkpoints', auto_deploy: false, droplet_name: 'plant-tracker', droplet_id: 21, notify_channels: ['log'], max_cost_usd: 2, unknown_field: 'ignored' },
      },
    });
    expect(answer.statusCode).toBe(200);
    const body = answer.json<{ build_id: string; status: string; droplet_name: string }>();
    expect(body).toMatchObject({ status: 'processing', droplet_name: 'plant-tracker', droplet_id: 21 });
    const view = (await app.inject({ method: 'GET', url: `/executor/builds/${body.build_id}/status` })).json<BuildView>();
    expect(view).toMatchObject({ approval_mode: 'checkpoints', auto_deploy: false, droplet_name: 'plant-tracker', notify_channels: ['log'], usage: { max_cost_usd: 2 } });
    expect(builds.submitted).toEqual([
      { architectIntent: INTENT, approvalMode: 'checkpoints', autoDeploy: false, dropletId: 21, dropletName: 'plant-tracker', notifyChannels: ['log'], maxCostUsd: 2 },
    ]);
  });

  it('refuses an unknown approval mode in its payload, naming the field', async () => {
    const { app, builds } = await start();
    const refused = await app.inject({
      method: 'POST',
      url: '/message',
      payload: { from_service: 'architect', message_type: 'task_assignment', payload: { intent: INTENT, approval_mode: 'sometimes' } },
    });
    expect(refused.statusCode).toBe(400);
    expect(refused.json().error.details.issues[0].path).toBe('approval_mode');
    expect(builds.submitted).toEqual([]);
  });

  it('is described in /capabilities, field by field', async () => {
    const { app } = await start();
    const caps = (await app.inject({ method: 'GET', url: '/capabilities' })).json<{ message_types: { task_assignment: { description: string; payload: Record<string, string> } } }>();
    const { payload, description } = caps.message_types.task_assignment;
    expect(Object.keys(payload).sort()).toEqual(['architect_intent', ...BUILD_FIELDS].sort());
    expect(payload.architect_intent).toMatch(/intent/);
    expect(payload.approval_mode).toMatch(/auto, checkpoints, final/);
    expect(description).toMatch(/build_id/);
  });
});
