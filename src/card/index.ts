export type { CardInput, CardSource } from "./card-input.js";
export { buildFrontMatter, type FrontMatter } from "./front-matter.js";
export { CARD_MARKER, renderCard } from "./render-card.js";
