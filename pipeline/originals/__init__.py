"""The authors' released checkpoints ("Original" rows): key conversion to the project's models,
and each original test script's pre- and post-processing."""
