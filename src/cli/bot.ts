import type { Command } from "commander";
import { startBot } from "../bot/bot.js";
import { loadBotConfig } from "../bot/config.js";

interface BotFlags {
  config?: string;
}

export function registerBot(program: Command): void {
  program
    .command("bot")
    .description(
      "serve the Hub bot: Hugging Face webhooks → GitHub repository_dispatch, so the Action re-merges when a source model changes",
    )
    .option(
      "--config <file>",
      "YAML settings (repositories, manifest globs, port, ...); also HUBMERGE_BOT_CONFIG",
    )
    .addHelpText(
      "after",
      "\nSecrets come from the environment: HF_WEBHOOK_SECRET, GITHUB_TOKEN or GITHUB_APP_ID + GITHUB_APP_PRIVATE_KEY,\n" +
        "GITHUB_WEBHOOK_SECRET (optional). Also read: PORT, HUBMERGE_BOT_REPOS, GITHUB_API_URL. See docs/bot.md.",
    )
    .action(async (flags: BotFlags) => {
      const file = flags.config ?? (process.env["HUBMERGE_BOT_CONFIG"] || undefined);
      const config = await loadBotConfig({ file, env: process.env });
      const bot = await startBot({ config });
      await new Promise<void>((resolve) => {
        // A second signal finds no handler and ends the process at once.
        const stop = () => {
          process.off("SIGINT", stop);
          process.off("SIGTERM", stop);
          void bot.close().then(resolve);
        };
        process.once("SIGINT", stop);
        process.once("SIGTERM", stop);
      });
      // A GitHub request still backing off after the shutdown time must not keep the process alive.
      setTimeout(() => process.exit(), 1000).unref();
    });
}
