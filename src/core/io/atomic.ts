import { promises as fs, writeFileSync, renameSync, unlinkSync } from 'node:fs';
import path from 'node:path';

function tempName(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.${process.pid}.${Date.now()}.tmp`);
}

/**
 * Write a file so that readers never see half of it: write a temporary file beside it, then
 * rename (atomic on POSIX within one filesystem). `data` may be an iterable of chunks, written in
 * order as they are produced.
 */
export async function writeFileAtomic(target: string, data: string | Uint8Array | Iterable<Uint8Array> | AsyncIterable<Uint8Array>): Promise<void> {
  const tmp = tempName(target);
  try {
    await fs.writeFile(tmp, data);
    await fs.rename(tmp, target);
  } catch (e) {
    await fs.rm(tmp, { force: true });
    throw e;
  }
}

export function writeFileAtomicSync(target: string, data: string | Uint8Array): void {
  const tmp = tempName(target);
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, target);
  } catch (e) {
    try { unlinkSync(tmp); } catch { /* already gone */ }
    throw e;
  }
}
