/**
 * An error the user can act on: bad input file, wrong parameter, impossible geometry. The CLI
 * prints its message as one line and exits non-zero; no stack trace. `code` lets the pipeline
 * tell failures apart (e.g. 'too_few_spots', 'no_lattice', 'unit_cell_mismatch').
 */
export class UserError extends Error {
  constructor(message: string, readonly code: string = 'user_error') {
    super(message);
    this.name = 'UserError';
  }
}

/** A file that is missing, truncated or corrupt; the message always names the file. */
export class FileFormatError extends UserError {
  constructor(readonly path: string, detail: string) {
    super(`${path}: ${detail}`, 'bad_file');
    this.name = 'FileFormatError';
  }
}

/** A parameter that is unknown or has a value of the wrong type; the message names it. */
export class ParameterError extends UserError {
  constructor(message: string) {
    super(message, 'bad_parameter');
    this.name = 'ParameterError';
  }
}
