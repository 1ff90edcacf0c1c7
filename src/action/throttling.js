// Re-exported from plain JavaScript on purpose: the plugin's own type declarations augment
// @octokit/core's options with a strict `throttle` type, which breaks the bot's `octokit` client
// (typed loosely by the `octokit` package). The Action needs only the runtime; throttling.d.ts
// declares the little it uses.
export { throttling } from "@octokit/plugin-throttling";
