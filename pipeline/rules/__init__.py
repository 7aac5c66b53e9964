"""Classical fusion rules and source-only baselines (Table rows "max", "mean", "visible", "infrared").

One plugin module per rule (pipeline.plugins): its file name is its params name (`methods.rules`),
its `PLUGIN` literal names its function. Images are float tensors in [0, 1]: infrared
(B, 1, H, W), visible (B, 3, H, W); every rule returns RGB (B, 3, H, W).
"""
