"""Meta-World task families (Yu et al. 2019) on rlmaml's batched physics: ML1's reach, push
and pick-place, with Meta-World's own models read from an installed metaworld 3.1.1."""
