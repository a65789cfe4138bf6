#!/usr/bin/env node
import { setFlagsFromString } from 'node:v8';

// Most commands live a second or two, and V8's optimizing compiler spent about a third
// of their CPU time (on its background threads) compiling functions that then ran only
// briefly. Four times V8's budget before optimizing a function leaves out the lukewarm
// ones: generate of 1 003 nodes took ~15 % less CPU time (npm run bench:cli); what stays
// hot, as in long commands, is still optimized. Set before the CLI's code is loaded.
setFlagsFromString('--interrupt-budget=270336');

const { run } = await import('../dist/src/cli/main.js');
process.exitCode = await run(process.argv.slice(2));
