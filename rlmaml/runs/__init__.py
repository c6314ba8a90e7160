"""The run platform shared by both modes: configs, run directories, the training loop, checkpoints,
progress logs, torchrun sharding."""
