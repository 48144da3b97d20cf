"""Standard Inception FID through torch-fidelity (optional extra ``graphspike[fid]``), never downloading.

torch-fidelity reproduces the TensorFlow Inception-v3 FID of Heusel et al. to machine precision,
but fetches the ``weights-inception-2015-12-05`` file on first use unless given a path. Here the
path is required: pass the ``.pth`` file you already have (``feature_extractor_weights_path`` of
torch-fidelity); nothing is downloaded at run time. Grey images are repeated to 3 channels.
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

__all__ = ["inception_fid"]


class _Uint8Images(torch.utils.data.Dataset):
    def __init__(self, images: torch.Tensor) -> None:
        x = ((images.detach().cpu().float().clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8)  # [-1, 1] -> 0..255
        self.images = x.expand(-1, 3, -1, -1) if x.shape[1] == 1 else x  # [N, 3, H, W]

    def __len__(self) -> int:
        return self.images.shape[0]

    def __getitem__(self, i: int) -> torch.Tensor:
        return self.images[i]


def inception_fid(
    generated: torch.Tensor, real: torch.Tensor, weights_path: str | os.PathLike, cuda: bool = False
) -> float:
    """Inception FID between ``generated`` and ``real`` images (float [N, C, H, W] in [-1, 1], C 1 or 3).

    Raises:
        ImportError: torch-fidelity missing (``pip install 'graphspike[fid]'``).
        FileNotFoundError: ``weights_path`` is not an existing file (nothing is downloaded).
        ValueError: images not [N, 1|3, H, W].
    """
    for name, x in (("generated", generated), ("real", real)):
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] not in (1, 3):
            raise ValueError(
                f"inception_fid: {name} must be images [N, 1 or 3, H, W] in [-1, 1] "
                f"(got {tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__})"
            )
    if weights_path is None or not Path(weights_path).is_file():
        raise FileNotFoundError(
            f"inception_fid: weights_path must be an existing Inception-v3 weights file "
            f"(got {weights_path!r}); it is never downloaded at run time"
        )
    try:
        import torch_fidelity
    except ImportError as err:
        raise ImportError("inception_fid: needs torch-fidelity; pip install 'graphspike[fid]'") from err
    metrics = torch_fidelity.calculate_metrics(
        input1=_Uint8Images(generated),
        input2=_Uint8Images(real),
        fid=True,
        cuda=cuda,
        cache=False,
        verbose=False,
        feature_extractor_weights_path=str(weights_path),
    )
    return float(metrics["frechet_inception_distance"])
