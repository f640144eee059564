export * from './types.js';
export type { ImageHeader, ScanPoint, PanelWindow } from './header.js';
export { openImageFile, looksLikeImage, type ImageFile } from './detect.js';
export { importSweeps, expandInputs, selectImageRange, openImageSource, readRange, splitTemplate, templateFile, filesOfTemplate } from './sweep.js';
export { openHdf5Frames, openNexus, type Hdf5Frames } from './nexus.js';
export { decodeByteOffset, encodeByteOffset } from './byteOffset.js';
export { sensorMu } from './models.js';
