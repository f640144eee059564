import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseCommandLine, parsePhil, describe, type ParamDef } from '../../src/core/params/index.js';
import { ParameterError } from '../../src/core/errors.js';

const defs: ParamDef[] = [
  { name: 'spotfinder.threshold.dispersion.gain', type: 'float', default: 1, help: 'gain' },
  { name: 'indexing.method', type: 'choice', choices: ['fft3d', 'fft1d', 'real_space_grid_search'], default: 'fft3d', help: 'm' },
  { name: 'refinement.parameterisation.detector.fix', type: 'choice', choices: ['all', 'position', 'orientation', 'distance'], default: null, allowNone: true, help: 'f' },
  { name: 'refinement.parameterisation.beam.fix', type: 'strs', default: ['wavelength'], help: 'f' },
  { name: 'refinement.parameterisation.crystal.unit_cell.restraints.tie_to_target.values', type: 'floats', default: null, multiple: true, help: 'v' },
  { name: 'image_range', type: 'ints', length: 2, default: null, help: 'r' },
  { name: 'joint', type: 'bool', default: true, help: 'j', aliases: ['joint_indexing'] },
];

test('key=value with unique dotted suffixes, --key value and files', () => {
  const r = parseCommandLine(defs, ['a.expt', 'gain=2.5', 'detector.fix=distance', '--method', 'fft1d', 'b.refl', 'joint_indexing=False', 'image_range=1,10']);
  assert.deepEqual(r.files, ['a.expt', 'b.refl']);
  assert.equal(r.params['spotfinder.threshold.dispersion.gain'], 2.5);
  assert.equal(r.params['refinement.parameterisation.detector.fix'], 'distance');
  assert.equal(r.params['indexing.method'], 'fft1d');
  assert.equal(r.params['joint'], false);
  assert.deepEqual(r.params['image_range'], [1, 10]);
});

test('ambiguous and unknown parameters and bad values are rejected by name', () => {
  assert.throws(() => parseCommandLine(defs, ['fix=all']), (e: Error) => e instanceof ParameterError && /ambiguous parameter 'fix'/.test(e.message));
  assert.throws(() => parseCommandLine(defs, ['nonsense=1']), /unknown parameter 'nonsense'/);
  assert.throws(() => parseCommandLine(defs, ['gain=abc']), /gain=abc/);
  assert.throws(() => parseCommandLine(defs, ['method=fft9d']), /expected one of/);
  assert.throws(() => parseCommandLine(defs, ['image_range=1']), /expected 2 values/);
});

test('PHIL text with nested scopes and multiple scopes', () => {
  const a = parsePhil(`refinement {\n  parameterisation {\n    crystal.unit_cell.restraints.tie_to_target {\n      values=99.06,31.01,54.30,90,107.7,90 # cell\n    }\n  }\n}\n`);
  assert.deepEqual(a.map((x) => [x.key, x.value]), [['refinement.parameterisation.crystal.unit_cell.restraints.tie_to_target.values', '99.06,31.01,54.30,90,107.7,90']]);
  assert.throws(() => parsePhil('a {\n b = 1\n'), /not closed/);
});

test('-c output lists every parameter with its default', () => {
  const text = describe(defs);
  assert.match(text, /gain = 1/);
  assert.match(text, /method = \*fft3d fft1d real_space_grid_search/);
});

test("multi-choice values joined with '+' as DIALS writes them (beam.fix=in_spindle_plane+wavelength)", () => {
  const r = parseCommandLine(defs, ['beam.fix=in_spindle_plane+wavelength']);
  assert.deepEqual(r.params['refinement.parameterisation.beam.fix'], ['in_spindle_plane', 'wavelength']);
});

test('DIALS words for choices are accepted through value aliases (intensity=profile)', () => {
  const d: ParamDef[] = [{ name: 'intensity', type: 'choice', choices: ['auto', 'prf', 'sum'], valueAliases: { profile: 'prf' }, default: 'auto', help: 'i' }];
  assert.equal(parseCommandLine(d, ['intensity=profile']).params.intensity, 'prf');
  assert.throws(() => parseCommandLine(d, ['intensity=other']), /expected one of/);
});
