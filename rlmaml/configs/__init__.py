"""Experiment configs shipped with rlmaml, addressable by file name without `.yaml`."""
