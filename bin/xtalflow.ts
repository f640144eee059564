#!/usr/bin/env node
/**
 * xtalflow CLI: `xtalflow <program> [files…] [key=value …] [-c] [-v]`.
 * yargs gives the program list and help; parameters are parsed the DIALS way (core/params).
 */
import yargs from 'yargs';
import { hideBin } from 'yargs/helpers';
import { PROGRAMS } from '../src/stages/registry.js';
import { runProgram } from '../src/cli.js';

const argv = hideBin(process.argv);
const name = argv[0];

if (name && Object.hasOwn(PROGRAMS, name)) {
  process.exitCode = await runProgram(name, argv.slice(1));
} else {
  let y = yargs(argv)
    .scriptName('xtalflow')
    .usage('$0 <program> [files…] [key=value …]\n\nParameters are DIALS-style key=value (dotted scopes, PHIL files); -c lists them.')
    .strict()
    .demandCommand(1, 'name a program')
    .fail((msg, err) => {
      process.stderr.write(`xtalflow: error: ${err?.message ?? msg}\n`);
      process.exit(2);
    });
  for (const [p, summary] of Object.entries(PROGRAMS)) y = y.command(p, summary);
  await y.help().version().parseAsync();
}
