'use strict'
// The native addon, through the loader the napi CLI generates (`../index.js`), required here only: on a
// platform this package has no addon for, that loader blames npm ("npm has a bug related to optional
// dependencies ... try `npm i` again"), which reinstalling cannot fix. This says what can.

function load() {
  try {
    return require('../index.js')
  } catch (error) {
    if (!String(error?.message).startsWith('Cannot find native binding')) throw error
    throw new Error(
      `anchor-webhooks: this copy of the package has no native addon for ${process.platform}-${process.arch} ` +
        '(it holds anchor-webhooks.<platform>.node only for the platforms it was built on, see "Platforms" in its ' +
        'README): build the addon on this platform (bindings-node/scripts/build.mjs --release), or use ' +
        'anchor-webhooks-wasm, which needs no native code',
      { cause: error },
    )
  }
}

module.exports = load()
