/** Parsers for option values, so a bad number is refused before any request. */
import { InvalidArgumentError } from 'commander';

export function integerFrom(min: number, max = Number.MAX_SAFE_INTEGER) {
  return (value: string): number => {
    const number = Number(value);
    if (!Number.isInteger(number) || number < min || number > max) throw new InvalidArgumentError(`Must be an integer from ${min}${max === Number.MAX_SAFE_INTEGER ? ' up' : ` to ${max}`}.`);
    return number;
  };
}

export function positiveUsd(value: string): number {
  const number = Number(value);
  if (!Number.isFinite(number) || number <= 0) throw new InvalidArgumentError('Must be a number of USD above 0.');
  return number;
}
