/** byte_offset, CIF and template helpers on hand-made cases with known answers. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeByteOffset, encodeByteOffset, ByteOffsetError } from '../../../src/core/formats/byteOffset.js';
import { parseCif, category } from '../../../src/core/formats/cif.js';
import { splitTemplate, templateFile } from '../../../src/core/formats/sweep.js';
import { sensorMu, moduleGapMask } from '../../../src/core/formats/models.js';

test('byte_offset: the byte sequences the CBF spec prescribes for 8-, 16-, 32- and 64-bit deltas', () => {
  // values 5, −3 (Δ −8), 295 (Δ 298: escape 0x80 + int16), 70295 (Δ 70000: 0x80, 0x8000 + int32), −2147483648 (Δ < −2^31: 64-bit)
  const bytes = new Uint8Array([
    0x05,
    0xf8,
    0x80, 0x2a, 0x01,
    0x80, 0x00, 0x80, 0x70, 0x11, 0x01, 0x00,
    0x80, 0x00, 0x80, 0x00, 0x00, 0x00, 0x80, 0x69, 0xed, 0xfe, 0x7f, 0xff, 0xff, 0xff, 0xff,
  ]);
  const out = decodeByteOffset(bytes, 0, bytes.length, 5);
  assert.deepEqual([...out], [5, -3, 295, 70295, -2147483648]);
});

test('byte_offset: encode/decode round trip over every delta width, and a short stream is an error', () => {
  let seed = 7;
  const rand = () => ((seed = (seed * 1103515245 + 12345) & 0x7fffffff) / 0x7fffffff);
  const v = new Int32Array(20000);
  for (let i = 0; i < v.length; i++) {
    const r = rand();
    v[i] = r < 0.6 ? Math.round(rand() * 200 - 100) : r < 0.8 ? Math.round(rand() * 60000 - 30000) : r < 0.95 ? Math.round(rand() * 4e9 - 2e9) : (rand() < 0.5 ? -2147483648 : 2147483647);
  }
  const enc = encodeByteOffset(v);
  assert.deepEqual(decodeByteOffset(enc, 0, enc.length, v.length), v);
  assert.throws(() => decodeByteOffset(enc, 0, enc.length - 3, v.length), ByteOffsetError);
});

test('CIF: items, loops, quoted values with inner quotes, text fields and comments', () => {
  const cif = parseCif([
    'data_x',
    "_diffrn.id DLS_I19  # comment",
    "_diffrn_source.type 'Diamond Light Source Beamline I19-1'",
    '_array_data.header_contents',
    ';',
    '# Pixel_size 172e-6 m x 172e-6 m',
    ';',
    'loop_',
    '_axis.id',
    '_axis.vector[1] _axis.vector[2] _axis.vector[3]',
    "GON_OMEGA 1 0 0",
    "GON_PHI 0.5774 -0.8165 0",
    "loop_ _x.a _x.b",
    "'it''s' \"a b\"",
  ].join('\n'));
  assert.equal(cif.items.get('_diffrn.id'), 'DLS_I19');
  assert.equal(cif.items.get('_diffrn_source.type'), 'Diamond Light Source Beamline I19-1');
  assert.equal(cif.items.get('_array_data.header_contents'), '# Pixel_size 172e-6 m x 172e-6 m');
  const axes = category(cif, 'axis');
  assert.deepEqual(axes.map((a) => [a.id, a['vector[2]']]), [['GON_OMEGA', '0'], ['GON_PHI', '-0.8165']]);
  assert.deepEqual(category(cif, 'x'), [{ a: "it''s", b: 'a b' }]);
  assert.deepEqual(category(cif, 'diffrn'), [{ id: 'DLS_I19' }]);
});

test('templates: last digit run before the extensions', () => {
  assert.deepEqual(splitTemplate('/d/l-cyst_01_00012.cbf.gz'), { template: '/d/l-cyst_01_#####.cbf.gz', number: 12 });
  assert.deepEqual(splitTemplate('TIMEPIX_SU_516-stdgoni_0001.img'), { template: 'TIMEPIX_SU_516-stdgoni_####.img', number: 1 });
  assert.equal(splitTemplate('x_master.h5'), null);
  assert.equal(templateFile('/d/sim_####.cbf', 7), '/d/sim_0007.cbf');
  assert.equal(templateFile('/d/sim_##.cbf', 123), '/d/sim_123.cbf');
});

test('Pilatus/Eiger module gaps and silicon attenuation', () => {
  // Pilatus 6M: 5 × 12 modules of 487 × 195 with 7- and 17-pixel gaps.
  const m = moduleGapMask(2463, 2527);
  assert.equal(m.length, 4 + 11);
  assert.deepEqual(m[0], [487, 0, 494, 2527]);
  assert.deepEqual(m[4], [0, 195, 2463, 212]);
  assert.deepEqual(moduleGapMask(1000, 1000), []);
  // NIST: μ/ρ(Si, 10 keV) = 33.89 cm²/g, ρ = 2.33 g/cm³ → 7.896 /mm at exactly 10 keV.
  assert.ok(Math.abs(sensorMu('Si', 12.398419843320026 / 10) - 33.89 * 0.233) < 1e-9);
  assert.equal(sensorMu('Si', 0.0251), 0);
});
