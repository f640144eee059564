/**
 * Integration of a synthetic sweep with known intensities and profile widths
 * (test/core/integration/synthetic.ts): the σ_b/σ_m estimate, summation and profile fitting must
 * recover the truth, and σ(I) must describe the actual scatter.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { run, resolveParams } from '../../../src/stages/integrate/index.js';
import { silentLog } from '../../../src/core/log.js';
import { UserError } from '../../../src/core/errors.js';
import { Flags } from '../../../src/core/reflections/flags.js';
import { strongTable, syntheticSweep } from '../../core/integration/synthetic.js';
import { pearson } from './truth_cc.js';

const sweep = syntheticSweep();
const strong = strongTable(sweep);
const params = resolveParams({ nproc: 1, 'integration.block.size': 2 });
const resultP = run([sweep.experiment], strong, params, { log: silentLog, open: async () => sweep.source() });

/** Fraction of a 3D Gaussian inside its n_sigma = 3 ellipsoid: P(χ²₃ ≤ 9). */
const FG_FRACTION = 0.97071;

function fullyRecorded() {
  return resultP.then((res) => {
    const t = res.outputs.reflections;
    const part = t.double('partiality'), flags = t.sizeT('flags'), hkl = t.miller('miller_index'), ent = t.bool('entering');
    const p = sweep.predictions, truthOf = new Map<string, number>();
    for (let i = 0; i < p.n; i++) truthOf.set(`${p.miller[3 * i]},${p.miller[3 * i + 1]},${p.miller[3 * i + 2]},${p.entering[i]}`, sweep.intensity[i]);
    const rows: number[] = [], truth: number[] = [];
    for (let j = 0; j < t.nrows; j++) {
      if (!(part[j] > 0.999 && ((flags[j] >>> 0) & Flags.integrated_sum))) continue;
      const I = truthOf.get(`${hkl[3 * j]},${hkl[3 * j + 1]},${hkl[3 * j + 2]},${ent[j]}`);
      if (I === undefined) continue;
      rows.push(j); truth.push(I);
    }
    return { t, res, rows, truth };
  });
}

test('σ_b and σ_m estimated from the strong spots match the simulated widths', async () => {
  const res = await resultP;
  const { sigmaBDeg, sigmaMDeg } = res.outputs.sigmas[0];
  // pixels (0.1° wide here) and frames (0.5°) broaden the observed spread: expected
  // √(σ² + w²/12) ≈ 0.066° and ≈ 0.24°, plus a little from weak neighbours
  assert.ok(sigmaBDeg > sweep.sigmaBDeg && sigmaBDeg < 1.3 * sweep.sigmaBDeg, `σ_b ${sigmaBDeg} vs ${sweep.sigmaBDeg}`);
  assert.ok(sigmaMDeg > sweep.sigmaMDeg && sigmaMDeg < 1.35 * sweep.sigmaMDeg, `σ_m ${sigmaMDeg} vs ${sweep.sigmaMDeg}`);
  // printed and written as DIALS defines σ_b: the RMS of the 2-D offset (ε1, ε2) of a circular
  // Gaussian of per-axis width σ is √2·σ
  const printed = res.figures.sigma_b_deg as number;
  assert.ok(Math.abs(printed / (Math.SQRT2 * sigmaBDeg) - 1) < 1e-12, `printed σ_b ${printed}`);
  const profile = res.outputs.experiments[0].profile as { sigma_b: number; sigma_m: number };
  assert.equal(profile.sigma_b, printed);
  assert.equal(profile.sigma_m, sigmaMDeg);
});

test('a σ_b given as a parameter is read in DIALS\' sense (√2 × the per-axis width)', () => {
  assert.ok(Math.abs(resolveParams({ 'profile.gaussian_rs.parameters.sigma_b': 0.0829 }).sigmaBDeg! - 0.0829 / Math.SQRT2) < 1e-15);
  assert.equal(resolveParams({ 'profile.gaussian_rs.parameters.sigma_m': 0.5 }).sigmaMDeg, 0.5);
});

test('summation recovers the true intensities with honest σ', async () => {
  const { t, rows, truth, res } = await fullyRecorded();
  assert.ok(rows.length > 100, `${rows.length} fully recorded reflections`);
  const I = t.double('intensity.sum.value'), V = t.double('intensity.sum.variance');
  const { sigmaBDeg, sigmaMDeg } = res.outputs.sigmas[0];
  void sigmaBDeg; void sigmaMDeg;
  let ratio = 0, w = 0;
  const z: number[] = [];
  rows.forEach((j, k) => { ratio += I[j]; w += truth[k]; });
  const scale = ratio / w;
  // the estimated σ differ a little from the truth, so the captured fraction is near, not at, 0.9707
  assert.ok(Math.abs(scale - FG_FRACTION) < 0.03, `ΣI_sum/ΣI_true = ${scale}`);
  rows.forEach((j, k) => z.push((I[j] - scale * truth[k]) / Math.sqrt(V[j])));
  const sd = Math.sqrt(z.reduce((a, v) => a + v * v, 0) / z.length);
  assert.ok(sd > 0.8 && sd < 1.3, `SD of (I − I_true)/σ = ${sd}`);
  assert.ok(pearson(rows.map((j) => I[j]), truth) > 0.995);
});

test('profile fitting recovers the true intensities, at least as precisely as summation for weak spots', async () => {
  const { t, rows, truth } = await fullyRecorded();
  const flags = t.sizeT('flags');
  const prfRows = rows.filter((j) => (flags[j] >>> 0) & Flags.integrated_prf);
  assert.ok(prfRows.length > 0.95 * rows.length, `${prfRows.length} of ${rows.length} profile fitted`);
  const P = t.double('intensity.prf.value'), S = t.double('intensity.sum.value'), VP = t.double('intensity.prf.variance');
  const tr = new Map(rows.map((j, k) => [j, truth[k]]));
  const T = prfRows.map((j) => tr.get(j)!);
  const scale = prfRows.reduce((a, j) => a + P[j], 0) / T.reduce((a, v) => a + v, 0);
  assert.ok(Math.abs(scale - FG_FRACTION) < 0.03, `ΣI_prf/ΣI_true = ${scale}`);
  const weak = prfRows.filter((j) => tr.get(j)! < 200);
  const rms = (X: Float64Array) => Math.sqrt(weak.reduce((a, j) => a + (X[j] - scale * tr.get(j)!) ** 2, 0) / weak.length);
  assert.ok(weak.length > 20);
  assert.ok(rms(P) < rms(S), `weak spots: rms error prf ${rms(P)} vs sum ${rms(S)}`);
  // a broadened reference profile biases weak fits (their weights favour the peak): within 3 %
  const bias = weak.reduce((a, j) => a + P[j], 0) / weak.reduce((a, j) => a + scale * tr.get(j)!, 0);
  assert.ok(Math.abs(bias - 1) < 0.03, `weak spots: ΣI_prf / Σ(k·I_true) = ${bias}`);
  const z = prfRows.map((j) => (P[j] - scale * tr.get(j)!) / Math.sqrt(VP[j]));
  const sd = Math.sqrt(z.reduce((a, v) => a + v * v, 0) / z.length);
  assert.ok(sd > 0.8 && sd < 1.3, `SD of (I_prf − I_true)/σ = ${sd}`);
  const cc = t.double('profile.correlation');
  const strongCc = prfRows.filter((j) => tr.get(j)! > 5000).map((j) => cc[j]);
  assert.ok(strongCc.reduce((a, v) => a + v, 0) / strongCc.length > 0.9, 'profile CC of strong spots');
});

test('partiality of reflections cut by the scan ends follows the Gaussian rocking curve', async () => {
  const res = await resultP;
  const t = res.outputs.reflections;
  const part = t.double('partiality'), xyz = t.vec3('xyzcal.px'), zeta = t.double('zeta');
  const sm = res.outputs.sigmas[0].sigmaMDeg, osc = 0.5;
  let checked = 0;
  for (let j = 0; j < t.nrows; j++) {
    const z = xyz[3 * j + 2], n = sweep.images.length;
    // distance to the nearer scan end in units of the rocking width σ_m/|ζ|
    const u = (Math.min(z, n - z) * osc * Math.abs(zeta[j])) / sm;
    if (u > 4) { assert.ok(part[j] > 0.9999, `interior reflection partiality ${part[j]}`); checked++; }
    if (z < 0 || z > n) assert.ok(part[j] < 0.5 + 1e-9, `reflection centred outside the scan: ${part[j]}`);
    if (Math.abs(u) < 1e-2) assert.ok(Math.abs(part[j] - 0.5) < 0.01, `centred on a scan end: ${part[j]}`);
  }
  assert.ok(checked > 100);
});

test('figures and DIALS-style tables are reported', async () => {
  const res = await resultP;
  assert.ok((res.figures.n_integrated_sum as number) > 200);
  assert.ok((res.figures.n_integrated_prf as number) > 200);
  assert.ok((res.figures.i_over_sigma_overall as number) > 1);
  const plots = res.figures.plots as unknown as Record<string, { series: unknown[] }>;
  assert.equal(Object.keys(plots).length, 1);
  assert.ok(res.tables.some((t) => t.text.includes('I/sigI')));
});

test('ice rings: reflections within 0.002 Å⁻² in 1/d² of an ice Ih ring are flagged and counted, the rest untouched', async () => {
  // hexagonal ice Ih (a 4.497, c 7.322 Å): d of the (100), (002), (101), (102) rings, the ones
  // this sweep's resolution range reaches
  const ringD = [3.897, 3.669, 3.441, 2.671];
  const plain = (await resultP).outputs.reflections;
  const res = await run([sweep.experiment], strong, resolveParams({ nproc: 1, 'integration.block.size': 2, 'integration.filter.ice_rings': true }), { log: silentLog, open: async () => sweep.source() });
  const t = res.outputs.reflections, d = t.double('d'), fl = t.sizeT('flags');
  let onRing = 0;
  for (let i = 0; i < t.nrows; i++) {
    const expected = ringD.some((r) => Math.abs(1 / (d[i] * d[i]) - 1 / (r * r)) < 0.002);
    assert.equal(((fl[i] >>> 0) & Flags.in_powder_ring) !== 0, expected, `row ${i}, d ${d[i]}`);
    if (expected) onRing++;
  }
  assert.ok(onRing > 10, `${onRing} reflections on the rings`);
  assert.equal(plain.sizeT('flags').filter((f) => ((f >>> 0) & Flags.in_powder_ring) !== 0).length, 0);
  const overall = res.tables.find((tb) => /Summary for experiment/.test(tb.title))!.text.split('\n').find((l) => l.trim().startsWith('overall'))!;
  // the summary counts every prediction, integrated or not; the table keeps the integrated ones
  const nIce = Number(overall.trim().split(/\s+/)[4]);
  assert.ok(nIce >= onRing && nIce <= 1.3 * onRing, `# ice ${nIce}, integrated on rings ${onRing}`);
});

test('an unreadable image mid-scan is reported with its number', async () => {
  await assert.rejects(
    run([sweep.experiment], strong, params, { log: silentLog, open: async () => sweep.source(5) }),
    (e: Error) => e instanceof UserError && /image 6\b/.test(e.message) && e.message.includes('synthetic_0006.cbf'),
  );
});

test('a scan without a crystal model is a clear error', async () => {
  const { crystal: _c, ...noCrystal } = sweep.experiment;
  await assert.rejects(run([noCrystal], strong, params, { log: silentLog, open: async () => sweep.source() }),
    (e: Error) => e instanceof UserError && /no crystal model/.test(e.message));
});
