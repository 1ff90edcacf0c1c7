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
  multislerp:
    "interpolates any number of models on the hypersphere: the weighted mean of their directions, rescaled to the weighted mean of their norms (Multi-SLERP; on task vectors when a base is given).",
  nearswap:
    "takes the second model's value wherever it lies within a distance t of the base's, and moves only part of the way (t divided by the distance) where they differ more (NearSwap).",
  arcee_fusion:
    "takes the second model's value only where its change from the base is important (change size times the KL divergence of the row's softmax) beyond median + 1.5·IQR, and keeps the base elsewhere (Arcee Fusion).",
  sce: "keeps the task-vector positions that vary most across the models, weights each model by the mean square of its task vector, drops entries against the majority sign, and adds the weighted average to the base (SCE, from FuseChat).",
  karcher:
    "averages the models on the unit sphere (their Karcher, or Riemannian, mean direction, found iteratively) and rescales the result to the mean of their norms.",
  ram: "keeps each weight change that only one model made, averages the changes several models made to the same weight, and leaves unchanged weights at the base (Reinforced Agent Merging).",
  ramplus_tl:
    "merges like RAM (unique weight changes kept, shared ones averaged) and scales each model's unique changes up by a factor that grows with how many of its changes it shares, per tensor (RAM+).",
};
