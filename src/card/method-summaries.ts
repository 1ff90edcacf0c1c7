/** What each method does, in words a model user can follow; the card links the paper beside it. */
export const METHOD_SUMMARIES: Record<string, string> = {
  linear: "averages the models' weights, each scaled by its weight (a model soup).",
  task_arithmetic:
    "adds each fine-tune's task vector (its difference from the base) to the base, scaled by its weight.",
  ties: "trims each task vector to its largest-magnitude entries, elects a sign per weight by weighted majority, and adds only the entries that agree with it (TIES-Merging).",
  dare_linear:
    "drops each task-vector entry at random with probability 1 − density and rescales the survivors by 1/density (DARE), then adds the weighted task vectors to the base.",
  dare_ties:
    "drops each task-vector entry at random with probability 1 − density and rescales the survivors by 1/density (DARE), then keeps only the entries whose sign agrees with the weighted majority (TIES) before adding them to the base.",
  breadcrumbs:
    "removes both the largest outliers and the smallest entries of each task vector (Model Breadcrumbs), then adds the weighted task vectors to the base.",
  breadcrumbs_ties:
    "removes the largest outliers and the smallest entries of each task vector (Model Breadcrumbs) and keeps only sign-agreeing entries (TIES).",
  della:
    "drops task-vector entries at random with a probability that falls with their magnitude rank (DELLA), rescales the survivors, and keeps sign-agreeing entries (TIES).",
  della_linear:
    "drops task-vector entries at random with a probability that falls with their magnitude rank (DELLA), rescales the survivors, and adds the weighted task vectors to the base.",
  slerp:
    "interpolates between two models along the great circle through their weights (spherical linear interpolation).",
  nuslerp:
    "spherically interpolates two models (or their task vectors from a base) with a factor taken from their weights.",
  model_stock:
    "moves from the base towards the average of the fine-tunes by a factor computed from the angle between their task vectors (Model Stock).",
  passthrough: "copies tensors unchanged, for example to stack layer ranges of several models.",
};
