#!/usr/bin/env node
// The command, outside dist/ so that package managers can link it before the first build of a checkout.
import '../dist/bin.js';
