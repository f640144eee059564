import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { readReflSync } from '../../../src/core/io/refl.js';
import { formatReflectionSummary, pyFixed, pyRepr, shoeboxStats } from '../../../src/core/reflections/summary.js';
import { SHARED, regressionPath } from './data.js';

/** dials.show's output (from "Reflection list contains …" to the end of its column table). */
function dialsShow(name: string): string {
  return readFileSync(regressionPath(path.join('dials_show', name)), 'utf8').trimEnd();
}

test('column summary is line-for-line what dials.show 3.12 prints', () => {
  const cases: [string, string][] = [
    ['centroid_test_data_strong.refl.gz', 'centroid_test_data_strong.txt'],
    ['centroid_test_data_indexed.refl.gz', 'centroid_test_data_indexed.txt'],
    ['centroid_test_data_integrated.refl.gz', 'centroid_test_data_integrated.txt'],
    ['l_cysteine_strong.refl.gz', 'l_cysteine_strong.txt'],
    ['dials_shoebox_allocation.refl', 'dials_shoebox_allocation.txt'],
    ['dials_show_formats.refl', 'dials_show_formats.txt'],
  ];
  for (const [refl, txt] of cases) {
    assert.equal(formatReflectionSummary(readReflSync(regressionPath(refl))), dialsShow(txt), refl);
  }
});

test('column summary matches dials.show on the shared DIALS outputs', { skip: SHARED ? false : 'shared data absent' }, () => {
  const dir = regressionPath(path.join('dials_show', 'shared'));
  const source: Record<string, string> = {
    'spots_i04_weak_data_indexed.txt': 'spots/i04_weak_data/indexed.refl',
    'spots_l_cysteine_integrated_20_integrated.txt': 'spots/l_cysteine_integrated/20_integrated.refl',
    'spots_MyD88_strong.txt': 'spots/MyD88/strong.refl',
    'spots_multi_narrow_wedges_sweep_002.txt': 'spots/multi_narrow_wedges/sweep_002.refl',
    'simulated_lysozyme_sweep_dials_reference_refined.txt': 'simulated/lysozyme_sweep/dials_reference/refined.refl',
    'simulated_lysozyme_sweep_dials_reference_integrated.txt': 'simulated/lysozyme_sweep/dials_reference/integrated.refl',
  };
  assert.deepEqual(readdirSync(dir).sort(), Object.keys(source).sort());
  for (const [txt, refl] of Object.entries(source)) {
    assert.equal(formatReflectionSummary(readReflSync(path.join(SHARED!, refl))), dialsShow(path.join('shared', txt)), refl);
  }
});

test('Python number formatting: ties to even, shortest repr', () => {
  // expected strings printed by CPython 3.11 ('%.nf' % x and repr(x))
  const fixed: [number, number, string][] = [
    [0.125, 2, '0.12'], [0.375, 2, '0.38'], [-0.25, 1, '-0.2'], [2.5, 0, '2'], [3.5, 0, '4'], [0.05, 1, '0.1'],
    [1234.5678, 3, '1234.568'], [9.995, 2, '9.99'], [99.95, 1, '100.0'], [-0.01, 1, '-0.0'], [0, 1, '0.0'],
    [-0, 2, '-0.00'], [0.15, 1, '0.1'], [2.675, 2, '2.67'], [1e-7, 4, '0.0000'],
    [1e300, 1, '1000000000000000052504760255204420248704468581108159154915854115511802457988908195786371375080447864043704443832883878176942523235360430575644792184786706982848387200926575803737830233794788090059368953234970799945081119038967640880074652742780142494579258788820056842838115669472196386865459400540160.0'],
  ];
  for (const [x, d, want] of fixed) assert.equal(pyFixed(x, d), want, `${x} %.${d}f`);
  const reprs: [number, string][] = [
    [39.768750000000004, '39.768750000000004'], [3, '3.0'], [1e16, '1e+16'], [1.5e-5, '1.5e-05'], [-2, '-2.0'],
    [1e-4, '0.0001'], [123456789012345680, '1.2345678901234568e+17'],
  ];
  for (const [x, want] of reprs) assert.equal(pyRepr(x), want, String(x));
});

test('shoebox statistics count valid foreground pixels and the bbox volume', () => {
  const sb = readReflSync(regressionPath('dials_shoebox_allocation.refl')).shoebox('shoebox');
  const st = shoeboxStats(sb);
  assert.deepEqual([...st.summedI], [0, 0, -0.25]);
  assert.deepEqual([...st.nPixels], [2, 2, 1]); // the unallocated row still has a bbox volume
  assert.deepEqual([...st.nValidForeground], [0, 0, 1]);
});
