/** The value parsers the configuration schema is built from (environment text → typed settings). */
import { z } from 'zod';

export const optionalText = z
  .string()
  .optional()
  .transform((value) => (value === undefined || value.trim() === '' ? undefined : value.trim()));

export const optionalUrl = optionalText.pipe(z.url({ protocol: /^https?$/ }).optional());

export const intIn = (min: number, max: number, fallback: number) =>
  z.coerce.number().int().min(min).max(max).default(fallback);

export const flag = optionalText.pipe(z.enum(['true', 'false']).optional()).transform((value) => value === 'true');

export const commaList = (value: string): string[] =>
  value
    .split(',')
    .map((item) => item.trim())
    .filter(Boolean);

export const NOTIFY_EVENTS = ['completed', 'failed', 'waiting_approval'] as const;
export type NotifyEventName = (typeof NOTIFY_EVENTS)[number];

export const notifyEvents = optionalText.pipe(
  z
    .string()
    .transform(commaList)
    .pipe(z.array(z.enum(NOTIFY_EVENTS)).min(1))
    .optional(),
).transform((value): NotifyEventName[] => value ?? [...NOTIFY_EVENTS]);

const DURATION_UNITS: Record<string, number> = { '': 1, s: 1, m: 60, h: 3600, d: 86_400 };

/** `3600`, `90s`, `30m`, `24h`, `7d` → seconds (at most 30 days); '' → fallback; null when unreadable. */
export function parseDuration(value: string, fallback: number): number | null {
  const text = value.trim();
  if (text === '') return fallback;
  const match = /^(\d+)\s*([smhd]?)$/i.exec(text);
  if (!match) return null;
  const seconds = Number(match[1]) * DURATION_UNITS[match[2]!.toLowerCase()]!;
  return seconds >= 60 && seconds <= 30 * 86_400 ? seconds : null;
}
