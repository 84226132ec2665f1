// Stop strings never leak, however the generated text is split (the property
// over random text and splits has a fixed seed, as the tokenizer's do).
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
  const tail = m.finish();
  return { emitted: emitted + tail.text, stopped: tail.stopped };
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
  it('a stop string that completes first loses to a longer one that started before it', () => {
    // fast-check found this one: "中" completes at the second piece, but "x中x" began one character earlier.
    expect(run(['中', 'x中x'], ['x', '中', 'x'])).toEqual({ emitted: '', stopped: true });
    expect(run(['中', 'x中x'], ['x', '中', 'y'])).toEqual({ emitted: 'x', stopped: true });
    expect(run(['b', 'abc'], ['abc'])).toEqual({ emitted: '', stopped: true });
  });
  it('generation that ends while a decided-late stop string is held still cuts at it', () => {
    // "x中" is held (it may become "x中x"); the text ends there, so "中" stops it.
    expect(run(['中', 'x中x'], ['x', '中'])).toEqual({ emitted: 'x', stopped: true });
  });
  it('property: for any split of any text, the output is the text up to the first stop string', () => {
    const alphabet = fc.constantFrom('a', 'b', 'x', '中', '😀');
    // Stop strings are random or cut from the text itself, so that they overlap
    // in it (one completing inside another) far more often than chance would.
    const textAndStops = fc.array(alphabet, { maxLength: 30 }).chain((chars) => fc.tuple(
      fc.constant(chars.join('')),
      fc.array(fc.oneof(
        fc.array(alphabet, { minLength: 1, maxLength: 3 }).map((a) => a.join('')),
        fc.tuple(fc.nat(Math.max(0, chars.length - 1)), fc.integer({ min: 1, max: 4 }))
          .map(([from, n]) => chars.slice(from, from + n).join('') || 'a'),
      ), { minLength: 1, maxLength: 3 }),
    ));
    fc.assert(fc.property(
      textAndStops,
      fc.array(fc.integer({ min: 1, max: 4 }), { maxLength: 10 }),
      ([text, stops], cuts) => {
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
      }), { seed: 20261206, numRuns: 2000 });
  });
});
