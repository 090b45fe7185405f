import { manualClock } from '@org/cache-testing';
import { describe, expect, it } from 'vitest';

describe('manualClock', () => {
  it('starts where it is told, 0 by default, and stands still', () => {
    expect(manualClock().now()).toBe(0);
    const clock = manualClock(1_000);
    expect(clock.now()).toBe(1_000);
    expect(clock.now()).toBe(1_000);
  });

  it('advances by ms or by a duration string and returns the new time', () => {
    const clock = manualClock(1_000);
    expect(clock.advance(500)).toBe(1_500);
    expect(clock.advance('90s')).toBe(91_500);
    expect(clock.advance('1m')).toBe(151_500);
    expect(clock.now()).toBe(151_500);
  });

  it('set jumps to any instant, backwards too', () => {
    const clock = manualClock(10_000);
    clock.set(5);
    expect(clock.now()).toBe(5);
  });

  it('refuses to go backwards through advance, and non-finite instants', () => {
    const clock = manualClock(10);
    for (const bad of [
      () => clock.advance(-1),
      () => clock.advance('soon' as never),
      () => clock.set(Number.NaN),
    ]) {
      expect(bad).toThrow(expect.objectContaining({ code: 'E_INVALID_OPTION' }));
    }
    expect(() => manualClock(Number.POSITIVE_INFINITY)).toThrow();
    expect(clock.now()).toBe(10);
  });
});
