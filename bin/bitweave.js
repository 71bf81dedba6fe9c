#!/usr/bin/env node
'use strict';
require('../dist/host/cli/main.js').main(process.argv.slice(2));
