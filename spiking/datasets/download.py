"""Download and verify the neuromorphic datasets (archives, URLs and MD5 checksums).

Nothing here runs at import or inside the Dataset classes: call :func:`prepare` explicitly.
Some hosts (N-MNIST/N-Caltech101 on Mendeley/Dropbox, DVS128 Gesture on IBM Box) need a browser;
:func:`prepare` then verifies archives you placed in ``download_dir`` and extracts them.

Checksums are the published ones (the same values tonic and spikingjelly use). The download
itself (checksums, ``.part`` files, resume, safe extraction) is :mod:`sampling.download`.
"""

from __future__ import annotations

import os
from pathlib import Path

from sampling.download import Resource, extract, fetch, verify

__all__ = ["RESOURCES", "prepare"]


_NMNIST = "https://data.mendeley.com/public-files/datasets/468j46mzdv/files/"
_FIGSHARE = "https://ndownloader.figshare.com/files/"
_ZENKE = "https://zenkelab.org/datasets/"

RESOURCES: dict[str, tuple[Resource, ...]] = {
    "nmnist": (
        Resource(
            "Train.zip",
            _NMNIST + "39c25547-014b-4137-a934-9d29fa53c7a0/file_downloaded",
            "20959b8e626244a1b502305a9e6e2031",
            True,
        ),
        Resource(
            "Test.zip",
            _NMNIST + "05a4d654-7e03-4c15-bdfa-9bb2bcbea494/file_downloaded",
            "69ca8762b2fe404d9b9bad1103e97832",
            True,
        ),
    ),
    "ncaltech101": (
        Resource(
            "Caltech101.zip",
            "https://www.garrickorchard.com/datasets/n-caltech101",
            "66201824eabb0239c7ab992480b50ba3",
            False,
        ),
    ),
    "dvs128gesture": (
        Resource(
            "DvsGesture.tar.gz",
            "https://ibm.ent.box.com/s/3hiq58ww1pbbjrinh367ykfdf60xsfm8/folder/50167556794",
            "8a5c71fb11e24e5ca5b11866ca6c00a1",
            False,
        ),
    ),
    "cifar10dvs": tuple(
        Resource(f"{name}.zip", _FIGSHARE + fid, md5, True)
        for name, fid, md5 in (
            ("airplane", "7712788", "0afd5c4bf9ae06af762a77b180354fdd"),
            ("automobile", "7712791", "8438dfeba3bc970c94962d995b1b9bdd"),
            ("bird", "7712794", "a9c207c91c55b9dc2002dc21c684d785"),
            ("cat", "7712812", "52c63c677c2b15fa5146a8daf4d56687"),
            ("deer", "7712815", "b6bf21f6c04d21ba4e23fc3e36c8a4a3"),
            ("dog", "7712818", "f379ebdf6703d16e0a690782e62639c3"),
            ("frog", "7712842", "cad6ed91214b1c7388a5f6ee56d08803"),
            ("horse", "7712851", "e7cbbf77bec584ffbf913f00e682782a"),
            ("ship", "7712836", "41c7bd7d6b251be82557c6cce9a7d5c9"),
            ("truck", "7712839", "89f3922fd147d9aeff89e76a2b0b70a7"),
        )
    ),
    "shd": (
        Resource("shd_train.h5.zip", _ZENKE + "shd_train.h5.zip", "f3252aeb598ac776c1b526422d90eecb", True),
        Resource("shd_test.h5.zip", _ZENKE + "shd_test.h5.zip", "1503a5064faa34311c398fb0a1ed0a6f", True),
    ),
    "ssc": (
        Resource("ssc_train.h5.zip", _ZENKE + "ssc_train.h5.zip", "d102be95e7144fcc0553d1f45ba94170", True),
        Resource("ssc_valid.h5.zip", _ZENKE + "ssc_valid.h5.zip", "b4eee3516a4a90dd0c71a6ac23a8ae43", True),
        Resource("ssc_test.h5.zip", _ZENKE + "ssc_test.h5.zip", "a35ff1e9cffdd02a20eb850c17c37748", True),
    ),
}


def prepare(
    dataset: str, root: str | os.PathLike, download_dir: str | os.PathLike | None = None, download: bool = True
) -> Path:
    """Fetch (when ``download``), verify and extract every archive of ``dataset`` into ``root``.

    Returns ``root``. ``dataset`` is one of :data:`RESOURCES`. Archives go to ``download_dir``
    (default ``<root>/download``) through :func:`sampling.download.fetch` (checksums, ``.part``
    files, resume); archives from hosts that need a browser must be placed there by hand.

    Raises:
        ValueError: unknown dataset or checksum mismatch. FileNotFoundError: an archive missing
        (with ``download=False``, or one that must be downloaded by hand).
    """
    if dataset not in RESOURCES:
        raise ValueError(f"prepare: unknown dataset {dataset!r} (valid: {sorted(RESOURCES)})")
    root = Path(root)
    download_dir = Path(download_dir) if download_dir is not None else root / "download"
    for res in RESOURCES[dataset]:
        if download:
            path = fetch(res, download_dir)
        else:
            path = download_dir / res.filename
            verify(path, res)
        extract(path, root)
    return root
