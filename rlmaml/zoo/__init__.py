"""The zoo of trained runs: its entries against the paper, their evaluation and the README table."""
