/** Types for the one function we use from h5wasm-plugins (the package ships none). */
declare module 'h5wasm-plugins' {
  export function install_local_plugins(h5wasmModule: unknown): void;
}
