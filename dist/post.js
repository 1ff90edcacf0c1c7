import { n as getState, T as TEMP_DIR_STATE } from './chunks/state.js';
import { rm } from 'node:fs/promises';
import 'os';
import 'crypto';
import 'fs';
import 'path';
import 'http';
import 'https';
import 'net';
import 'tls';
import 'events';
import 'assert';
import 'util';
import 'node:assert';
import 'node:net';
import 'node:http';
import 'node:stream';
import 'node:buffer';
import 'node:util';
import 'node:querystring';
import 'node:events';
import 'node:diagnostics_channel';
import 'node:tls';
import 'node:zlib';
import 'node:perf_hooks';
import 'node:util/types';
import 'node:worker_threads';
import 'node:url';
import 'node:async_hooks';
import 'node:console';
import 'node:dns';
import 'string_decoder';
import 'child_process';
import 'timers';

/**
 * The post step: removes what a cancelled or failed run left behind. Exported as `run()`, like
 * main.ts, so `@github/local-action` can run it; post-index.ts is the bundle's entry.
 */
async function run() {
    const tempDir = getState(TEMP_DIR_STATE);
    if (tempDir)
        await rm(tempDir, { recursive: true, force: true });
}

await run();
