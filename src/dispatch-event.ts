/**
 * The `repository_dispatch` event type the Hub bot sends when a source model changes and the
 * Action listens for. Both faces name it; neither imports the other, so it lives here.
 */
export const SOURCE_UPDATED_EVENT = "hubmerge-source-updated";
