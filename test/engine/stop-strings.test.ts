// Stop strings never leak, however the generated text is split.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { StopStringMatcher } from '../../src/engine/stop-strings.ts';

function run(stops: string[], pieces: string[]): { emitted: string; stopped: boolean } {
  const m = new StopStringMatcher(stops);
  let emitted = '';
  for (const piece of pieces) {
    const scan = m.push(piece);
    emitted += scan.text;
    if (scan.stopped) return { emitted, stopped: true };
  }
  return { emitted: emitted + m.flush(), stopped: false };
}

describe('StopStringMatcher', () => {
  it('cuts at a stop string split over several pieces', () => {
    expect(run(['STOP'], ['ab', 'cS', 'T', 'OPxyz'])).toEqual({ emitted: 'abc', stopped: true });
  });
  it('releases held text that turned out not to be a stop string', () => {
    expect(run(['STOP'], ['aST', 'x'])).toEqual({ emitted: 'aSTx', stopped: false });
    expect(run(['STOP'], ['aST'])).toEqual({ emitted: 'aST', stopped: false });
  });
  it('the earliest of several stop strings wins', () => {
    expect(run(['cd', 'b'], ['abcd'])).toEqual({ emitted: 'a', stopped: true });
  });
  it('property: for any split of any text, the output is the text up to the first stop string', () => {
    const alphabet = fc.constantFrom('a', 'b', 'x', '中', '😀');
    fc.assert(fc.property(
      fc.array(alphabet, { maxLength: 30 }).map((a) => a.join('')),
      fc.array(fc.array(alphabet, { minLength: 1, maxLength: 3 }).map((a) => a.join('')), { minLength: 1, maxLength: 3 }),
      fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 10 }),
      (text, stops, cuts) => {
        const chars = [...text];
        const pieces: string[] = [];
        let at = 0;
        for (const cut of cuts) { pieces.push(chars.slice(at, at + cut).join('')); at += cut; }
        pieces.push(chars.slice(at).join(''));
        const first = Math.min(...stops.map((s) => text.indexOf(s)).filter((i) => i >= 0));
        const expected = Number.isFinite(first) ? text.slice(0, first) : text;
        const out = run(stops, pieces);
        expect(out.emitted).toBe(expected);
        expect(out.stopped).toBe(Number.isFinite(first));
        for (const stop of stops) expect(out.emitted.includes(stop)).toBe(false);
      }));
  });
});
