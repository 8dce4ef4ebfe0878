/**
 * The UDC `task_assignment` message that starts a build: its payload is the body of
 * `POST /executor/build-droplet` (the intent may also be called `intent`), described
 * here for `/capabilities` so that a peer can assign work without reading our README.
 */
import { APPROVAL_MODES } from '../domain/build.js';
import { BUILD_FIELDS, type UdcMessage } from './schemas.js';

/** Field → what it means, as `/capabilities` lists it under `message_types.task_assignment.payload`. */
export const TASK_ASSIGNMENT_PAYLOAD: Record<string, string> = {
  architect_intent: 'Required (or as `intent`): what to build, 10 to 20000 characters.',
  droplet_id: 'Optional integer: the fleet id to build under (a rebuild keeps the droplet\'s id).',
  droplet_name: 'Optional kebab-case name, 3 to 50 characters (default: read from the intent).',
  approval_mode: `Optional: ${APPROVAL_MODES.join(', ')} (default final): where the build waits for approval.`,
  auto_deploy: 'Optional boolean (default true): false stops after verification.',
  notify_channels: 'Optional list of channel names (e.g. ["log", "webhook"]) to announce the build on.',
  max_cost_usd: 'Optional number: a hard cap on the build\'s model spending, USD.',
  deploy_host: 'Optional DEPLOY_HOSTS entry to deploy to.',
};

export const MESSAGE_TYPES_DESCRIPTION = {
  task_assignment: {
    description: 'Starts a build; answers status "processing" with build_id, stream_url and status_url. Unknown payload fields are ignored.',
    payload: TASK_ASSIGNMENT_PAYLOAD,
  },
  other: { description: 'status_update, query, command, event and status are acknowledged with status "completed".' },
};

/** The build request inside a task_assignment: `architect_intent` (or `intent`) plus the optional build fields. */
export function buildRequestOf(message: UdcMessage): Record<string, unknown> {
  const { payload } = message;
  const request: Record<string, unknown> = { architect_intent: payload.architect_intent ?? payload.intent };
  for (const field of BUILD_FIELDS) {
    if (payload[field] !== undefined) request[field] = payload[field];
  }
  return request;
}
