// Runs instead of npm's and pnpm's implicit `node-gyp rebuild` (a package with a binding.gyp and no install
// script gets one): the addon is built on first use or by `harmonia engine build`.
