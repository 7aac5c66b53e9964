"""SegMiF/WeTr segmentation checkpoint -> transformers SegFormer ``save_pretrained`` folder.

SegMiF (JinyuanLiu-CV/SegMiF @12eb8ee) releases a WeTr: SegFormer's original MiT encoder
(``encoder.*``) and all-MLP head (``decoder.*``). Sizes are read from tensor shapes:

- hidden size C_i: ``encoder.patch_embed{i}.proj.weight`` (C_i, C_{i-1}, p_i, p_i), p_i the patch size;
- depth: the number of ``encoder.block{i}.{j}``; MLP ratio: ``mlp.fc1.weight`` (r*C_i, C_i);
- sr ratio: ``attn.sr.weight`` (C_i, C_i, s_i, s_i), no ``attn.sr`` when s_i = 1 (checked against the given ones);
- decoder hidden D: ``decoder.linear_c1.proj.weight`` (D, C_1); classes n: ``decoder.linear_pred.weight`` (n, D, 1, 1).

Attention heads are not in any shape (MiT-B3: 1,2,5,8), nor are patch strides: MiT's code fixes
them at 4,2,2,2. The config is :func:`pipeline.downstream.fused_segmenter.segformer_config`'s, so a
standard MiT checkpoint gets exactly the config the segment stage builds. Sr/MLP ratios, patch
sizes or strides that differ from that function's fixed values are set on the config afterwards
(passed through, not added to ``segformer_config``: the segment stages' code stays unchanged) and
listed in ``report["non_default_settings"]``: the segment stage cannot build such a model.
"""
from __future__ import annotations

import hashlib
import pickle
import re
import warnings
from pathlib import Path

import torch

MIT_STRIDES = (4, 2, 2, 2)
_PASSED_THROUGH = ("sr_ratios", "mlp_ratios", "patch_sizes", "strides")  # fixed in segformer_config
# WeTr builds a 1x1 conv `classifier` on the last stage that its forward never calls.
_UNUSED = ("classifier.weight", "classifier.bias")

# SegMiF name -> transformers 5.x name(s); {i} is the stage (1-based in SegMiF, 0-based in transformers).
# Several targets: the tensor is split along dim 0 in that order (attn.kv stacks key then value).
_BLOCK, _STAGE = "segformer.stages.{i}.blocks.{j}.", "segformer.stages.{i}."
_RULES = [
    ("encoder.patch_embed{i}.proj.{p}", (_STAGE + "patch_embeddings.proj.{p}",)),
    ("encoder.patch_embed{i}.norm.{p}", (_STAGE + "patch_embeddings.layer_norm.{p}",)),
    ("encoder.norm{i}.{p}", (_STAGE + "layer_norm.{p}",)),
    ("encoder.block{i}.{j}.norm1.{p}", (_BLOCK + "layernorm_before.{p}",)),
    ("encoder.block{i}.{j}.norm2.{p}", (_BLOCK + "layernorm_after.{p}",)),
    ("encoder.block{i}.{j}.attn.q.{p}", (_BLOCK + "attention.q_proj.{p}",)),
    ("encoder.block{i}.{j}.attn.kv.{p}", (_BLOCK + "attention.k_proj.{p}", _BLOCK + "attention.v_proj.{p}")),
    ("encoder.block{i}.{j}.attn.proj.{p}", (_BLOCK + "attention.o_proj.{p}",)),
    ("encoder.block{i}.{j}.attn.sr.{p}", (_BLOCK + "attention.sequence_reduction.sequence_reduction.{p}",)),
    ("encoder.block{i}.{j}.attn.norm.{p}", (_BLOCK + "attention.sequence_reduction.layer_norm.{p}",)),
    ("encoder.block{i}.{j}.mlp.{m}.{p}", (_BLOCK + "mlp.{m}.{p}",)),
    ("decoder.linear_c{i}.proj.{p}", ("decode_head.linear_projections.{i}.proj.{p}",)),
    ("decoder.linear_fuse.conv.{p}", ("decode_head.linear_fuse.{p}",)),  # mmcv ConvModule: conv, bn, ReLU
    ("decoder.linear_fuse.bn.{p}", ("decode_head.batch_norm.{p}",)),
    ("decoder.linear_pred.{p}", ("decode_head.classifier.{p}",)),
]
_FIELDS = {"i": r"\d", "j": r"\d+", "m": r"fc1|fc2|dwconv\.dwconv", "p": r"\w+"}


def _regex(template: str) -> re.Pattern:
    pattern = re.escape(template)
    for name, body in _FIELDS.items():
        pattern = pattern.replace(re.escape("{%s}" % name), f"(?P<{name}>{body})")
    return re.compile(pattern)


def _apply(template: str, fields: dict, stage_shift: int) -> str:
    fields = dict(fields, **({"i": int(fields["i"]) + stage_shift} if "i" in fields else {}))
    return template.format(**fields)


def to_transformers_name(key: str) -> tuple[str, ...]:
    """Target name(s) of a SegMiF key, () when no rule knows it."""
    for source, targets in _RULES:
        match = _regex(source).fullmatch(key)
        if match:
            return tuple(_apply(t, match.groupdict(), -1) for t in targets)
    return ()


def to_segmif_name(key: str) -> str | None:
    """SegMiF name a transformers key comes from (the inverse of :func:`to_transformers_name`)."""
    for source, targets in _RULES:
        for target in targets:
            match = _regex(target).fullmatch(key)
            if match:
                return _apply(source, match.groupdict(), +1)
    return None


class ConversionError(ValueError):
    """The checkpoint does not fit the SegFormer built for it; lists every problem at once."""

    def __init__(self, unknown=(), missing=(), mismatched=(), notes=()):
        self.unknown, self.missing, self.mismatched = sorted(unknown), sorted(missing), sorted(mismatched)
        lines = list(notes)
        if self.unknown:
            lines.append(f"{len(self.unknown)} unknown key(s), not a SegMiF/WeTr tensor: " + ", ".join(self.unknown))
        if self.missing:
            lines.append(f"{len(self.missing)} missing key(s): " + ", ".join(self.missing))
        for key, got, want in self.mismatched:
            lines.append(f"shape mismatch {key}: checkpoint {tuple(got)}, model {tuple(want)}")
        super().__init__("; ".join(lines) or "conversion failed")


def _torch_load(path: Path):
    """(object, weights_only): the safe loader first; full unpickling only with a warning."""
    try:
        try:
            return torch.load(path, map_location="cpu", weights_only=True), True
        except pickle.UnpicklingError as err:
            if "safe_globals" not in str(err):  # torch suggests allowlisting only for foreign objects, not corruption
                raise
            warnings.warn(f"{path}: holds objects beyond tensors, so torch.load(weights_only=True) refuses it; "
                          f"falling back to full unpickling: only do this with a file you trust", stacklevel=3)
            return torch.load(path, map_location="cpu", weights_only=False), False
    except Exception as err:  # torch.load raises KeyError, EOFError, RuntimeError, ... on files it cannot read
        raise ConversionError(notes=[f"{path}: not a readable torch.save file ({type(err).__name__}: "
                                     f"{str(err).splitlines()[0] if str(err) else ''})"]) from err


def read_segmif_state(path, info: dict | None = None) -> dict[str, torch.Tensor]:
    """Tensors of a SegMiF checkpoint: unwraps ``state_dict``/``model``, strips DataParallel's ``module.``.

    ``info``, when given, receives ``weights_only`` (whether the safe loader sufficed).
    """
    state, safe = _torch_load(Path(path))
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ConversionError(notes=[f"{path}: holds a {type(state).__name__}, not a state dict"])
    out = {}
    for key, value in state.items():
        if not isinstance(value, torch.Tensor):
            raise ConversionError(notes=[f"{path}: {key!r} is a {type(value).__name__}, not a tensor"])
        while key.startswith("module."):
            key = key[len("module."):]
        out[key] = value
    if info is not None:
        info["weights_only"] = safe
    return out


def _rename(state: dict) -> tuple[dict, dict, list[str]]:
    """(transformers-named tensors, SegMiF key -> its target names, unknown SegMiF keys)."""
    new, targets_of, unknown = {}, {}, []
    for key, value in state.items():
        targets = to_transformers_name(key)
        if not targets:
            unknown.append(key)
            continue
        targets_of[key] = targets
        for target, part in zip(targets, value.chunk(len(targets), dim=0) if len(targets) > 1 else (value,)):
            new[target] = part.clone()  # own storage: safetensors refuses tensors that share memory
    return new, targets_of, unknown


def _check(state: dict, new: dict, targets_of: dict, unknown: list, target: dict) -> None:
    """ConversionError unless the renamed tensors are exactly ``target``'s keys and shapes.

    Shapes are compared in SegMiF's terms: a split tensor must be its targets stacked along dim 0.
    """
    mismatched = []
    for key, targets in targets_of.items():
        if all(t in target for t in targets):
            want = target[targets[0]]
            want = (sum(target[t][0] for t in targets), *want[1:]) if len(targets) > 1 else want
            if tuple(state[key].shape) != want:
                mismatched.append((f"{key} (-> {', '.join(targets)})", tuple(state[key].shape), want))
        else:  # the rule knows the name, this architecture has no such tensor (e.g. a parameter typo)
            unknown.append(f"{key} (-> {', '.join(t for t in targets if t not in target)})")
    missing = [f"{to_segmif_name(k) or '?'} (for {k})" for k in set(target) - set(new)]
    if unknown or missing or mismatched:
        raise ConversionError(unknown, missing, mismatched)


def _sizes(state: dict, sr_ratios) -> dict:
    """Encoder/decoder sizes from the tensor shapes (see the module docstring); ConversionError on gaps."""
    need = [f"encoder.patch_embed{i}.proj.weight" for i in range(1, 5)] + [
        "decoder.linear_c1.proj.weight", "decoder.linear_pred.weight"]
    missing = [key for key in need if key not in state]
    # depth = last block index + 1, so a block absent in the middle shows up as missing keys
    depths = [1 + max((int(m[1]) for k in state if (m := re.match(rf"encoder\.block{i}\.(\d+)\.", k))), default=-1)
              for i in range(1, 5)]
    missing += [key for i in range(1, 5) if (key := f"encoder.block{i}.0.mlp.fc1.weight") not in state]
    if missing:
        raise ConversionError(missing=missing, notes=["cannot read the model's sizes"])
    embeds = [state[f"encoder.patch_embed{i}.proj.weight"] for i in range(1, 5)]
    hidden = [int(w.shape[0]) for w in embeds]
    mlp = [state[f"encoder.block{i}.0.mlp.fc1.weight"].shape[0] / hidden[i - 1] for i in range(1, 5)]
    sr_ckpt = [int(state[k].shape[-1]) if (k := f"encoder.block{i}.0.attn.sr.weight") in state else 1
               for i in range(1, 5)]
    if list(sr_ratios) != sr_ckpt:
        raise ConversionError(notes=[f"sr ratios {list(sr_ratios)} given, the checkpoint's attn.sr kernels "
                                     f"say {sr_ckpt}"])
    return dict(hidden_sizes=hidden, depths=depths, patch_sizes=[int(w.shape[-1]) for w in embeds],
                mlp_ratios=[int(r) if r == int(r) else r for r in mlp], sr_ratios=sr_ckpt, strides=list(MIT_STRIDES),
                decoder_hidden_size=int(state["decoder.linear_c1.proj.weight"].shape[0]),
                num_classes=int(state["decoder.linear_pred.weight"].shape[0]))


def _target_shapes(config) -> dict[str, tuple]:
    """Key -> shape of ``SegformerForSemanticSegmentation(config).state_dict()``, built on the meta device."""
    from transformers import SegformerForSemanticSegmentation

    with torch.device("meta"):
        model = SegformerForSemanticSegmentation(config)
    return {key: tuple(value.shape) for key, value in model.state_dict().items()}


def convert_segmif_state(state: dict, num_heads=(1, 2, 5, 8), sr_ratios=(8, 4, 2, 1),
                         num_classes: int | None = None, seed: int = 0):
    """SegMiF/WeTr tensors -> ``(SegformerConfig, transformers state dict, report)``.

    ``num_classes`` different from the checkpoint's re-initialises ``decode_head.classifier`` as
    transformers does (weight ~ N(0, initializer_range), bias 0), from ``torch.Generator`` seeded ``seed``.
    Raises :class:`ConversionError` on any unknown, missing or misshapen tensor.
    """
    from pipeline.downstream.fused_segmenter import segformer_config

    state = dict(state)
    dropped = sorted(key for key in _UNUSED if state.pop(key, None) is not None)
    sizes = _sizes(state, sr_ratios)
    heads = [int(h) for h in num_heads]
    bad_heads = [f"stage {i + 1}: {c} channels, {h} heads"
                 for i, (c, h) in enumerate(zip(sizes["hidden_sizes"], heads)) if h < 1 or c % h]
    if len(heads) != 4 or bad_heads:
        raise ConversionError(notes=[f"num_heads {heads}: need 4 divisors of the hidden sizes {sizes['hidden_sizes']}"
                                     + "".join(f"; {line}" for line in bad_heads)])
    n_ckpt = sizes["num_classes"]
    n_out = n_ckpt if num_classes is None else int(num_classes)
    config = segformer_config(n_out, sizes["hidden_sizes"], sizes["depths"], heads, sizes["decoder_hidden_size"])
    extra = {k: sizes[k] for k in _PASSED_THROUGH if list(getattr(config, k)) != sizes[k]}
    for name, value in extra.items():  # only what differs, so a standard checkpoint keeps the stage's exact config
        setattr(config, name, value)
    if n_out != n_ckpt:  # the checkpoint's classifier is replaced, not converted
        state = {k: v for k, v in state.items() if not k.startswith("decoder.linear_pred.")}
    new, targets_of, unknown = _rename(state)
    report = {"dropped": dropped, "classifier_reinitialised": None, "filled": [], "sizes": sizes,
              "non_default_settings": sorted(extra)}
    target = _target_shapes(config)
    bn_count = "decode_head.batch_norm.num_batches_tracked"
    if bn_count in target and bn_count not in new:  # optional in older checkpoints; only counts training steps
        new[bn_count] = torch.tensor(0, dtype=torch.long)
        report["filled"].append(bn_count)
    if n_out != n_ckpt:
        generator = torch.Generator().manual_seed(seed)
        weight = torch.empty(n_out, sizes["decoder_hidden_size"], 1, 1)
        new["decode_head.classifier.weight"] = weight.normal_(0.0, config.initializer_range, generator=generator)
        new["decode_head.classifier.bias"] = torch.zeros(n_out)
        report["classifier_reinitialised"] = {"from": n_ckpt, "to": n_out, "seed": seed,
                                              "init": f"normal(0, {config.initializer_range}), bias 0"}
    _check(state, new, targets_of, unknown, target)
    report["tensors"] = len(new)
    return config, new, report


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def convert_segmif_checkpoint(path, out_dir, num_heads=(1, 2, 5, 8), sr_ratios=(8, 4, 2, 1),
                              num_classes: int | None = None, seed: int = 0) -> dict:
    """Write ``out_dir`` atomically: ``config.json``, ``model.safetensors`` and ``conversion.json``.

    The safetensors file holds the installed transformers' own key names (``save_original_format=False``:
    no reverse renaming to 4.x names). Returns the contents of ``conversion.json``.
    """
    from transformers import SegformerForSemanticSegmentation

    from pipeline.atomic import atomic_dir, dumps_json

    path = Path(path)
    info: dict = {}
    config, state, report = convert_segmif_state(read_segmif_state(path, info), num_heads, sr_ratios, num_classes, seed)
    report["weights_only_load"] = info["weights_only"]
    with torch.device("meta"):  # no random init: every tensor comes from the checkpoint
        model = SegformerForSemanticSegmentation(config)
    model.load_state_dict(state, strict=True, assign=True)
    model.eval()
    fields = ("hidden_sizes", "depths", "num_attention_heads", "sr_ratios", "mlp_ratios", "patch_sizes", "strides",
              "decoder_hidden_size", "num_labels")
    summary = {k: getattr(config, k) for k in fields}
    record = {"source": {"file": path.name, "sha256": _sha256(path)}, "report": report,
              "config": {k: list(v) if isinstance(v, (list, tuple)) else v for k, v in summary.items()}}
    with atomic_dir(out_dir) as tmp:
        model.save_pretrained(tmp, save_original_format=False)  # 5.x always writes safetensors
        (tmp / "conversion.json").write_text(dumps_json(record))
    return record
