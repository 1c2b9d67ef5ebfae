// CommonJS host: `require` every subpath (see runtime-scenario.cjs). Copied into the smoke project.
'use strict';
const { run } = require('./runtime-scenario.cjs');

run({ kind: 'cjs', projectDir: process.cwd(), load: async (specifier) => require(specifier) }).catch(
  (error) => {
    console.error(error);
    process.exit(1);
  },
);
