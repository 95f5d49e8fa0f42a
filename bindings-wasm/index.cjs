'use strict';
// Node, `require`: the nodejs build, with the CommonJS copy of js/api.mjs that build.sh writes.
const raw = require('./pkg/nodejs/anchor_webhooks_wasm.js');
const { createApi } = require('./pkg/nodejs/api.cjs');

module.exports = createApi(raw);
