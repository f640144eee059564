/**
 * Figures the decision rules need, measured from a step's output files when the program did not
 * report them itself — so the rules never depend on how a program chose to name its figures.
 */
import { readExperiments } from '../../core/io/expt.js';
import type { Figures } from './context.js';

/** From imported.expt: number of sweeps, the widest scan (°), the wavelength (Å). */
export async function measureImport(exptPath: string): Promise<Figures> {
  const list = await readExperiments(exptPath);
  const scans = new Set(list.map((e) => e.scan).filter((s) => s));
  let width = 0;
  for (const s of scans) width = Math.max(width, Math.abs(s!.oscillation[1]) * (s!.imageRange[1] - s!.imageRange[0] + 1));
  return {
    n_sweeps: list.length,
    scan_width_deg: width,
    wavelength: list[0]?.beam?.wavelength ?? null,
    n_images: [...scans].reduce((n, s) => n + s!.imageRange[1] - s!.imageRange[0] + 1, 0),
  };
}
