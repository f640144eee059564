export { Vec3 } from './vec3.js';
export { Mat3 } from './mat3.js';
export { mulberry32, gaussian } from './random.js';
