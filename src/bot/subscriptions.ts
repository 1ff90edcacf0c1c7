/**
 * The subscription index: for each served repository, the Hub models its manifests follow.
 * Hub repo ids compare case-insensitively (the Hub redirects other casings), so keys are
 * lower-cased; repositories come back with the name they were configured with.
 */

export interface RepoSubscription {
  repo: string;
  models: string[];
  /** The commit or branch the models were read at. */
  ref: string;
  updatedAt: string;
}

export class SubscriptionIndex {
  private readonly byRepo = new Map<string, RepoSubscription>();
  private readonly modelKeys = new Map<string, Set<string>>();

  /** Replaces what `repo` follows. */
  replace(repo: string, models: readonly string[], ref: string, at: Date = new Date()): void {
    const key = repo.toLowerCase();
    const unique = [...new Set(models)].sort();
    this.byRepo.set(key, { repo, models: unique, ref, updatedAt: at.toISOString() });
    this.modelKeys.set(key, new Set(unique.map((m) => m.toLowerCase())));
  }

  /** Served repositories whose manifests follow `model`, in a stable order. */
  subscribers(model: string): string[] {
    const wanted = model.toLowerCase();
    const repos: string[] = [];
    for (const [key, models] of this.modelKeys) {
      if (models.has(wanted)) repos.push(this.byRepo.get(key)!.repo);
    }
    return repos.sort();
  }

  get(repo: string): RepoSubscription | undefined {
    return this.byRepo.get(repo.toLowerCase());
  }

  /** How many repositories have been read, and how many distinct models they follow. */
  stats(): { repos: number; models: number } {
    const models = new Set<string>();
    for (const keys of this.modelKeys.values()) for (const key of keys) models.add(key);
    return { repos: this.byRepo.size, models: models.size };
  }
}
