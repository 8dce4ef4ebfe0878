// @ts-check
// Reading an archetype's settings: plan.json's value, or the environment's when it sets one.
// Kept apart from index.js, which loads the kind modules that import this.
import { StartupError } from '../errors.js';

/**
 * A setting from the environment when set there, else from plan.json; both must be a number in range.
 * @param {{ planned: import('./index.js').Settings, env: import('./index.js').Env, setting: string, variable?: string, min: number, max: number, integer?: boolean }} spec
 */
export function numberSetting({ planned, env, setting, variable, min, max, integer = false }) {
  const raw = variable === undefined ? undefined : env[variable];
  const fromEnv = raw !== undefined && raw !== '';
  const value = fromEnv ? Number(raw) : planned[setting];
  const where = fromEnv ? String(variable) : 'src/plan.json archetype.settings.' + setting;
  const ok = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max && (!integer || Number.isInteger(value));
  if (!ok || (fromEnv && !/^[0-9]+(\.[0-9]+)?$/.test(String(raw)))) {
    throw new StartupError(where + ' must be ' + (integer ? 'a whole number' : 'a number') + ' from ' + min + ' to ' + max + ', got "' + String(fromEnv ? raw : value) + '".');
  }
  return value;
}
