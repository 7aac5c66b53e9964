"""Original checkpoint key <-> project state-dict key, per architecture.

A rule is a pair of templates; placeholders match the same value on both sides, except the side
letter ({S} 'A'/'B' <-> {s} 'a'/'b') and EMMA's 1-based numbers ({k} <-> {j} = k - 1). Rules are
applied in order (original -> project) or in reverse order (project -> original).
"""
from __future__ import annotations

import re

_GROUPS = {"i": r"\d+", "m": r"\d+", "S": "[AB]", "s": "[ab]", "k": "[1-9]", "j": r"\d",
           "p": "norm1|norm2|attn|mlp"}
_TO_PROJECT = {"S": ("s", str.lower), "k": ("j", lambda v: str(int(v) - 1))}
_TO_ORIGINAL = {"s": ("S", str.upper), "j": ("k", lambda v: str(int(v) + 1))}

RULES = {
    "swinfusion": [
        ("^patch_embed.norm.", "^patch_norm."),
        ("^layers_Ex_{S}.0.residual_group.blocks.{i}.", "^extract_{s}.{i}.path."),
        ("^norm_Ex_{S}.", "^norm_extract_{s}."),
        ("^layers_Fusion.{i}.residual_group_{S}.blocks.{m}.", "^fusion.{i}.self_{s}.{m}.path."),
        ("^layers_Fusion.{i}.residual_group.blocks.{m}.{p}_{S}.", "^fusion.{i}.cross.{m}.path_{s}.{p}."),
        ("^norm_Fusion_{S}.", "^norm_fusion_{s}."),
        ("^conv_after_body_Fusion.", "^conv_after_fusion."),
        ("^layers_Re.0.residual_group.blocks.{i}.", "^recon.{i}.path."),
        ("^norm_Re.", "^norm_recon."),
    ],
    "seafusion": [
        ("^vis_conv.conv.", "^vis_encoder.conv."),
        ("^inf_conv.conv.", "^ir_encoder.conv."),
        ("^vis_rgbd{i}.", "^vis_encoder.rgbd{i}."),
        ("^inf_rgbd{i}.", "^ir_encoder.rgbd{i}."),
        (".dense.conv{i}.conv.", ".dense{i}."),
        (".convdown.conv.", ".conv_down."),
        (".convup.conv.", ".conv_up."),
        (".sobelconv.convx.", ".sobel.conv_x."),
        (".sobelconv.convy.", ".sobel.conv_y."),
    ],
    "emma": [
        ("^V_en_{k}.", "^vis_encoder.blocks.{j}."),
        ("^I_en_{k}.", "^ir_encoder.blocks.{j}."),
        ("^V_down{k}.", "^vis_encoder.downs.{j}."),
        ("^I_down{k}.", "^ir_encoder.downs.{j}."),
        ("^f_{k}.", "^fuse.{j}."),
        ("^de_{i}.", "^de{i}."),
        ("^up{i}.0.", "^up{i}."),
        ("^last.0.", "^last."),
        (".GlobalFeature.norm{i}.body.", ".global_branch.norm{i}."),
        (".GlobalFeature.attn.", ".global_branch.attn."),
        (".attn.scale$", ".attn.temperature$"),  # after the rule above, so that both directions meet it
        (".GlobalFeature.mlp.", ".global_branch.ffn."),
        (".LocalFeature.Extraction.{i}.conv.0.", ".local_branch.{i}.conv1."),
        (".LocalFeature.Extraction.{i}.conv.2.", ".local_branch.{i}.conv2."),
        (".FFN.", ".merge."),
    ],
}

# Buffers the original saves but derives from the configuration (the project recomputes them).
DERIVED = {"swinfusion": re.compile(r"\.(attn_mask|relative_position_index)$")}


def _pattern(template: str) -> re.Pattern:
    """Template -> regex: literal text escaped, {x} -> named group, ^ / $ kept as anchors."""
    head = "^" if template.startswith("^") else ""
    tail = "$" if template.endswith("$") else ""
    body = template[len(head):len(template) - len(tail)]
    parts = re.split(r"\{(\w)\}", body)
    regex = "".join(re.escape(p) if n % 2 == 0 else f"(?P<{p}>{_GROUPS[p]})" for n, p in enumerate(parts))
    return re.compile(head + regex + tail)


def _fill(template: str, values: dict[str, str], convert: dict) -> str:
    out = template.strip("^$")
    for name, value in values.items():
        target, fn = convert.get(name, (name, lambda v: v))
        out = out.replace("{" + target + "}", fn(value))
    return out


def _apply(key: str, rules, convert) -> str:
    for source, target in rules:
        key = _pattern(source).sub(lambda m: _fill(target, m.groupdict(), convert), key)
    return key


def to_project(arch: str, key: str) -> str:
    """Original checkpoint key -> the project's key."""
    return _apply(key, RULES[arch], _TO_PROJECT)


def to_original(arch: str, key: str) -> str:
    """The project's key -> the original checkpoint key it is read from."""
    return _apply(key, [(t, s) for s, t in reversed(RULES[arch])], _TO_ORIGINAL)
