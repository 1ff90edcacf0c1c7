/**
 * Remembers the GitHub webhook deliveries already handled, so that a replay costs nothing. A
 * delivery is known by its `X-GitHub-Delivery` id and by the digest of its body: the id is not
 * covered by the signature, so a captured body replayed under a fresh id is still caught.
 * Both tables keep only the most recent entries (replays of very old deliveries are harmless:
 * a push only makes the bot re-read the branch head).
 */
import { createHash } from "node:crypto";
import { RecentSet } from "./recent-set.js";

export class DeliveryGuard {
  private readonly ids: RecentSet;
  private readonly bodies: RecentSet;

  constructor(capacity: number) {
    this.ids = new RecentSet(capacity);
    this.bodies = new RecentSet(capacity);
  }

  /** Records a verified delivery; false when its id or its body was seen before (a replay). */
  admit(deliveryId: string | undefined, body: Uint8Array): boolean {
    const digest = createHash("sha256").update(body).digest("hex");
    const replay = this.bodies.has(digest) || (deliveryId !== undefined && this.ids.has(deliveryId));
    this.bodies.add(digest);
    if (deliveryId !== undefined) this.ids.add(deliveryId);
    return !replay;
  }
}
