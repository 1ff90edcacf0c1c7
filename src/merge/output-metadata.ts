/**
 * The `__metadata__` of every shard a merge writes. It names the tool version, so it is part of
 * the bytes: verify rebuilds it from the record's tool, not the running one.
 */
export function outputMetadata(
  tool: { name: string; version: string },
  method: string,
): Record<string, string> {
  return { format: "pt", merged_by: `${tool.name} ${tool.version}`, merge_method: method };
}
