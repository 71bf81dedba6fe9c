#!/usr/bin/env node
// npm `install` hook: builds the native engine with the system C compiler (no make). It
// never fails the install: without a compiler the reference backend still works and
// `--backend native` says what is missing. A source checkout has its Makefile (`make
// native`) and no dist/ yet when `npm ci` runs this, so there it does nothing.
'use strict';
const fs = require('node:fs');
const path = require('node:path');

if (!fs.existsSync(path.join(__dirname, '..', 'Makefile'))) {
  require('../dist/host/backends/native/build.js').installHook();
}
