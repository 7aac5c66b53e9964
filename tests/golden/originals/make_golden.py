"""Golden data for the released originals: the authors' own network code at the released
configuration, seeded weights, a 37x45 pair (not a multiple of any window or stride), the raw
forward output and the image each original test script writes.

    PYTHONPATH=. python tests/golden/originals/make_golden.py --upstream DIR   (from the repository root)

DIR holds checkouts of the three repositories at the commits below (their network files are not
copied into this project: the repositories carry no licence). Needs timm (SwinFusion) and einops (EMMA).

    DIR/SwinFusion   github.com/Linfeng-Tang/SwinFusion      7fb403d37b302f6d89fd830a7b6453b6396ad67f  models/network_swinfusion1.py
    DIR/SeAFusion    github.com/Linfeng-Tang/SeAFusion       5fd9c52cacd9cd1154cf32c37fa402392d75be26  FusionNet.py
    DIR/MMIF-EMMA    github.com/Zhaozixiang1228/MMIF-EMMA    11c4fc3829621ab2eccd23f6e5dc41ec5e8654a0  nets/Ufuser.py, nets/Unet5.py

Each <arch>.npz holds the checkpoint's key layout and derived buffers (seeded.py rebuilds the
weights from the seed), the inputs, `raw` and `post`. The test-script steps below are transcribed
from test_swinfusion.py, SeAFusion test.py and MMIF-EMMA test.py (GPU calls removed); the project's
own implementation is pipeline/originals/postprocess.py, checked against these arrays.
"""
from __future__ import annotations

import argparse
import importlib
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[3]))
from tests.golden.originals.seeded import fixed_keys, manifest, rebuild  # noqa: E402

HERE = Path(__file__).resolve().parent
SIZE = (37, 45)  # not a multiple of SwinFusion's window (8), EMMA's stride (8) or its tile (32)
SWIN_IMG_SIZE = 16  # img_size only sizes the saved attn_mask buffers (128 in the release: 4 MB each)
UNET_SIZE = (32, 48)  # UNet5 needs multiples of 16


def _import(upstream: Path, repo: str, module: str):
    sys.path.insert(0, str(upstream / repo))
    try:
        return importlib.import_module(module)
    finally:
        sys.path.pop(0)
        sys.modules.pop(module.split(".")[0], None)  # SwinFusion's and EMMA's packages are both not unique names


def _seeded(net: torch.nn.Module, seed: int) -> dict[str, np.ndarray]:
    """Load seeded weights into the original net (strict, its own layout); the npz entries describing them."""
    entries = manifest(net.state_dict(), fixed_keys(net.state_dict()), seed)
    net.load_state_dict(rebuild(entries), strict=True)
    return entries


def inputs(seed: int = 0) -> dict[str, np.ndarray]:
    """uint8 infrared, visible RGB and its luminance (cv2 BGR2GRAY on float, rounded, as EMMA's image_read_cv2)."""
    rng = np.random.default_rng(seed)
    ramp = np.linspace(0, 160, SIZE[1])[None, :]  # structure plus noise, so min-max stretching matters
    ir = np.clip(ramp + rng.integers(0, 96, SIZE), 0, 255).astype(np.uint8)
    rgb = rng.integers(0, 256, SIZE + (3,)).astype(np.uint8)
    f = rgb.astype(np.float32)
    y = np.round(np.float32(0.299) * f[..., 0] + np.float32(0.587) * f[..., 1] + np.float32(0.114) * f[..., 2])
    return {"ir": ir, "vis_rgb": rgb, "vis_y": y.astype(np.uint8)}


def swinfusion(upstream: Path, data: dict, seed: int = 3) -> dict[str, np.ndarray]:
    """seed 3: the first whose output is not mostly clamped to 0 or 1 in the 8-bit image (seeds 1-15 tried)."""
    net = _import(upstream, "SwinFusion", "models.network_swinfusion1").SwinFusion(
        upscale=1, in_chans=1, img_size=SWIN_IMG_SIZE, window_size=8, img_range=1., depths=[6, 6, 6, 6],
        embed_dim=60, num_heads=[6, 6, 6, 6], mlp_ratio=2, upsampler=None, resi_connection='1conv').eval()
    out = _seeded(net, seed)
    img_a = torch.from_numpy(data["ir"].astype(np.float32) / 255.)[None, None]
    img_b = torch.from_numpy(data["vis_y"].astype(np.float32) / 255.)[None, None]
    window_size = 8
    with torch.no_grad():
        out["raw"] = net(img_a, img_b).numpy()
        # test_swinfusion.py main()
        _, _, h_old, w_old = img_a.size()
        h_pad = (h_old // window_size + 1) * window_size - h_old
        w_pad = (w_old // window_size + 1) * window_size - w_old
        img_a = torch.cat([img_a, torch.flip(img_a, [2])], 2)[:, :, :h_old + h_pad, :]
        img_a = torch.cat([img_a, torch.flip(img_a, [3])], 3)[:, :, :, :w_old + w_pad]
        img_b = torch.cat([img_b, torch.flip(img_b, [2])], 2)[:, :, :h_old + h_pad, :]
        img_b = torch.cat([img_b, torch.flip(img_b, [3])], 3)[:, :, :, :w_old + w_pad]
        output = net(img_a, img_b)
        output = output[..., :h_old * 1, :w_old * 1]
        output = output.detach()[0].float().cpu()
    img = output.data.squeeze().float().clamp_(0, 1).cpu().numpy()  # utils_image.tensor2uint
    out["post"] = np.uint8((img * 255.0).round())
    return out


def seafusion(upstream: Path, data: dict) -> dict[str, np.ndarray]:
    net = _import(upstream, "SeAFusion", "FusionNet").FusionNet(output=1).eval()
    out = _seeded(net, seed=2)

    def RGB2YCrCb(input_im):  # SeAFusion test.py, .cuda(0) removed
        im_flat = input_im.transpose(1, 3).transpose(1, 2).reshape(-1, 3)  # (nhw,c)
        R = im_flat[:, 0]
        G = im_flat[:, 1]
        B = im_flat[:, 2]
        Y = 0.299 * R + 0.587 * G + 0.114 * B
        Cr = (R - Y) * 0.713 + 0.5
        Cb = (B - Y) * 0.564 + 0.5
        Y = torch.unsqueeze(Y, 1)
        Cr = torch.unsqueeze(Cr, 1)
        Cb = torch.unsqueeze(Cb, 1)
        temp = torch.cat((Y, Cr, Cb), dim=1)
        return temp.reshape(list(input_im.size())[0], list(input_im.size())[2], list(input_im.size())[3], 3,
                            ).transpose(1, 3).transpose(2, 3)

    def YCrCb2RGB(input_im):  # SeAFusion test.py, .cuda(0) removed
        im_flat = input_im.transpose(1, 3).transpose(1, 2).reshape(-1, 3)
        mat = torch.tensor([[1.0, 1.0, 1.0], [1.403, -0.714, 0.0], [0.0, -0.344, 1.773]])
        bias = torch.tensor([0.0 / 255, -0.5, -0.5])
        temp = (im_flat + bias).mm(mat)
        return temp.reshape(list(input_im.size())[0], list(input_im.size())[2], list(input_im.size())[3], 3,
                            ).transpose(1, 3).transpose(2, 3)

    # TaskFusion_dataset 'val': RGB / 255 (C, H, W), infrared / 255 (1, H, W); batch of one
    images_vis = torch.tensor(np.asarray(data["vis_rgb"], dtype=np.float32).transpose((2, 0, 1)) / 255.0)[None]
    images_ir = torch.tensor(np.expand_dims(np.asarray(data["ir"], dtype=np.float32) / 255.0, axis=0))[None]
    with torch.no_grad():
        images_vis_ycrcb = RGB2YCrCb(images_vis)
        logits = net(images_vis_ycrcb, images_ir)
        out["raw_vis_ycrcb"], out["raw"] = images_vis_ycrcb.numpy(), logits.numpy()
        fusion_ycrcb = torch.cat((logits, images_vis_ycrcb[:, 1:2, :, :], images_vis_ycrcb[:, 2:, :, :]), dim=1)
        fusion_image = YCrCb2RGB(fusion_ycrcb)
        ones = torch.ones_like(fusion_image)
        zeros = torch.zeros_like(fusion_image)
        fusion_image = torch.where(fusion_image > ones, ones, fusion_image)
        fusion_image = torch.where(fusion_image < zeros, zeros, fusion_image)
        fused_image = fusion_image.cpu().numpy()
        fused_image = fused_image.transpose((0, 2, 3, 1))
        fused_image = (fused_image - np.min(fused_image)) / (np.max(fused_image) - np.min(fused_image))
        fused_image = np.uint8(255.0 * fused_image)
    out["post"] = fused_image[0]
    return out


def _img_save(image: np.ndarray) -> np.ndarray:
    """What MMIF-EMMA utils.img_save writes: skimage.io.imsave -> imageio's float -> uint8 (image_as_uint)."""
    mi, ma = np.nanmin(image), np.nanmax(image)
    if 0 <= mi and ma <= 1:
        return (image.astype(np.float64) * 255 + 0.499999999).astype(np.uint8)
    return ((image.astype("float64") - mi) / (ma - mi) * 255 + 0.499999999).astype(np.uint8)


def emma(upstream: Path, data: dict) -> dict[str, np.ndarray]:
    model = _import(upstream, "MMIF-EMMA", "nets.Ufuser").Ufuser().eval()
    out = _seeded(model, seed=3)
    IR = data["ir"].astype(np.float32)[np.newaxis, np.newaxis, ...] / 255  # image_read_cv2 GRAY / 255
    VI = data["vis_y"].astype(np.float32)[np.newaxis, np.newaxis, ...] / 255
    raw = []
    with torch.no_grad():  # MMIF-EMMA test.py, the branch for sizes not divisible by 32
        h, w = IR.shape[2:]
        h1 = h - h % 32
        w1 = w - w % 32
        h2 = h % 32
        w2 = w % 32
        fused_temp = np.zeros((h, w), dtype=np.float32)
        data_Fuse = model(torch.FloatTensor(IR)[:, :, :h1, :w1], torch.FloatTensor(VI)[:, :, :h1, :w1])
        raw.append(data_Fuse.numpy())
        fused_temp[:h1, :w1] = np.squeeze((data_Fuse * 255).cpu().numpy())
        data_Fuse = model(torch.FloatTensor(IR)[:, :, :h1, -w1:], torch.FloatTensor(VI)[:, :, :h1, -w1:])
        raw.append(data_Fuse.numpy())
        fused_temp[:h1, -w2:] = np.squeeze((data_Fuse * 255).cpu().numpy())[:, -w2:]
        data_Fuse = model(torch.FloatTensor(IR)[:, :, -h1:, :w1], torch.FloatTensor(VI)[:, :, -h1:, :w1])
        raw.append(data_Fuse.numpy())
        fused_temp[-h2:, :w1] = np.squeeze((data_Fuse * 255).cpu().numpy())[-h2:, :]
        data_Fuse = model(torch.FloatTensor(IR)[:, :, -h1:, -w1:], torch.FloatTensor(VI)[:, :, -h1:, -w1:])
        raw.append(data_Fuse.numpy())
        fused_temp[-h2:, -w2:] = np.squeeze((data_Fuse * 255).cpu().numpy())[-h2:, -w2:]
        fused_temp = (fused_temp - np.min(fused_temp)) / (np.max(fused_temp) - np.min(fused_temp))
        fused_temp = ((fused_temp) * 255)
    out["raw"] = np.concatenate(raw)  # the four corner tiles, in the script's order
    out["post"] = _img_save(fused_temp)
    return out


def unet5(upstream: Path, data: dict) -> dict[str, np.ndarray]:
    net = _import(upstream, "MMIF-EMMA", "nets.Unet5").UNet5(input_channel=1).eval()  # train_Fusion.py: eval()
    out = _seeded(net, seed=4)
    x = torch.rand((1, 1) + UNET_SIZE, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        out["raw_input"], out["raw"] = x.numpy(), net(x).numpy()
    return out


MAKERS = {"swinfusion": swinfusion, "seafusion": seafusion, "emma": emma, "unet5": unet5}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--upstream", type=Path, required=True, help="folder with the three checkouts")
    parser.add_argument("--only", choices=sorted(MAKERS), action="append")
    args = parser.parse_args()
    data = inputs()
    for arch in args.only or MAKERS:
        entries = MAKERS[arch](args.upstream, data)
        if arch != "unet5":
            entries.update(data)
        np.savez_compressed(HERE / f"{arch}.npz", **entries)
        raw = entries["raw"]
        print(f"{arch}: raw {raw.shape} mean {raw.mean():.4f} std {raw.std():.4f}; "
              f"post {entries.get('post', np.zeros(1)).shape}, {(HERE / f'{arch}.npz').stat().st_size} bytes")


if __name__ == "__main__":
    main()
