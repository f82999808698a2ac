// generated.ts ships the Lua (Nest's build drops .lua files); this test fails when it drifted
// from the .lua sources. Fix: `npm run gen:lua`.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseLuaScripts, renderGeneratedLua } from '../../../../scripts/gen-lua';
import { LUA_SCRIPTS } from './generated';

describe('generated Lua', () => {
  it('matches the .lua files (run `npm run gen:lua` when this fails)', () => {
    expect(readFileSync(join(__dirname, 'generated.ts'), 'utf8')).toBe(renderGeneratedLua(__dirname));
  });

  it('names every script name-<numKeys>.lua with a header documenting its KEYS and return', () => {
    const scripts = parseLuaScripts(__dirname);
    expect(scripts.map((s) => s.file)).toEqual(
      expect.arrayContaining([
        'invalidate-1.lua',
        'warm-1.lua',
        'leaseGet-2.lua',
        'fill-2.lua',
        'applyKeyEffects-1n.lua',
        'invalidateKeys-1n.lua',
        'tagBumps-1n.lua',
        'namespaceBump-2.lua',
      ]),
    );
    for (const s of scripts) expect(LUA_SCRIPTS[s.name as keyof typeof LUA_SCRIPTS].numberOfKeys).toBe(s.numberOfKeys);
  });

  it('inlines every include (no @include left for Redis to choke on)', () => {
    for (const s of Object.values(LUA_SCRIPTS)) expect(s.lua).not.toMatch(/@include/);
  });
});
