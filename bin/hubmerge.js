#!/usr/bin/env node
// Installed entry point: runs the compiled CLI (npm run build / prepare emits lib/).
import { main } from "../lib/cli/main.js";

process.exitCode = await main(process.argv);
