"""The MAML core shared by both modes: parameters as dicts, the inner loop, seeding, statistics."""
