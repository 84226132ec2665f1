#!/usr/bin/env node
// The `edgeseek` command (package bin): the compiled CLI in dist/.
import { main } from '../dist/src/cli/main.js';

process.exitCode = await main(process.argv.slice(2));
