// The CORS setting as CLI flags and environment variables spell it.
import { expect, it } from 'vitest';
import { corsSetting } from '../../src/server/cors-setting.ts';

it('reads *, none and origin lists; refuses what is not an origin', () => {
  expect(corsSetting(undefined)).toBeUndefined();
  expect(corsSetting(' ')).toBeUndefined();
  expect(corsSetting('*')).toBe(true);
  expect(corsSetting('TRUE')).toBe(true);
  expect(corsSetting('none')).toBe(false);
  expect(corsSetting('https://a.example, http://localhost:3000')).toEqual(['https://a.example', 'http://localhost:3000']);
  expect(() => corsSetting('https://a.example/path')).toThrow(/is not an origin/);
  expect(() => corsSetting('a.example')).toThrow(/is not an origin/);
});
