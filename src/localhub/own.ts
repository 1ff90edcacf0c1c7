/**
 * Reads a key only if the record itself has it: file paths and branch names come from clients,
 * and `constructor` or `__proto__` must not find Object.prototype's members.
 */
export function own<T>(record: Record<string, T>, key: string): T | undefined {
  return Object.hasOwn(record, key) ? record[key] : undefined;
}
