"""Where the miniature protein model-quality set comes from: ProteinGCN's decoys, with checksums.

4 targets x (native + 5 Rosetta decoys with per-residue lDDT-CA ``.error`` files + ``TM.dat``) from
malllabiisc/ProteinGCN (Apache-2.0, ``data/protein/<target>/``, commit
4e56d3875d7f463413396896ddb838984f8feb18). SHA-256 values were computed from verified copies. The
download itself (``.part`` files, resume, verification) is :func:`sampling.download.fetch`.
"""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from sampling.download import Resource, fetch_all

__all__ = ["PROTEINGCN_DECOYS", "download_decoys"]

_BASE = "https://raw.githubusercontent.com/malllabiisc/ProteinGCN/4e56d3875d7f463413396896ddb838984f8feb18/data/protein"
_SHA256 = {
    "1ew0A/TM.dat": "586c99978546869356eb2c772dd073d55189a9772857ed37a9323773cb77976d",
    "1ew0A/native.pdb": "067a432eaf7293379b1030bea1fb622fc3a9d267753cd0a33876156bd5788369",
    "1ew0A/tag0001.al.pdb": "2cfb674424b724241a55bf4cc6bc888a39459b4f050f78bf8dafa725c6b6e65f",
    "1ew0A/tag0001.al.pdb.error": "6a912dc64083aaab26e31f24ea68c802e0e7e485598cad0dfcaf02d9fe282e0f",
    "1ew0A/tag0002.al.pdb": "a5a11bbee05fd73f6840aed36540c7ea621a4798fc0b1ef85015433190b6682f",
    "1ew0A/tag0002.al.pdb.error": "f74d6e0655f8544b1105536b8513d58111b7f48f830819e9edaf74c7ae8c10a4",
    "1ew0A/tag0003.al.pdb": "49d24e08f3c3b9d7bafdf6ea400de38ef42f2a80416d45da02beddb4d3afbc3f",
    "1ew0A/tag0003.al.pdb.error": "44cdbb1960cbf02d3c02851bed99192b6083e7663bc4d5b39a8b7dce7db9d557",
    "1ew0A/tag0004.al.pdb": "ab6f0c17b59f4a2f93506067d3fd38742dd7f2f7e58df8d812de373a85de2d81",
    "1ew0A/tag0004.al.pdb.error": "08af9ab8a2d9caa5351ad1f3ffc4ecf5646fc1d532578276a131eb9f83a99c13",
    "1ew0A/tag0005.al.pdb": "9300fc9ca0bad8dcb0810e78ca6afe5dc8200bcfdfa3ff95f7299a7885cfc8cc",
    "1ew0A/tag0005.al.pdb.error": "fddef6a51cad3c4b6e286be9fe4a7f5a0679ce90c17c1481b3c60305ab671055",
    "1eyvA/TM.dat": "19470327275015f10bb50cd776055db3412a5382bc71f4d62fd26a118f7e83c3",
    "1eyvA/native.pdb": "4925520386eb63d929c854dd09f29483dccfc3df0b7e1558a7acef727310949d",
    "1eyvA/tag0001.al.pdb": "771f781cb037971942af0ecb3190aef9bdb59f9db25a2d6dde894ad0dfac4de9",
    "1eyvA/tag0001.al.pdb.error": "666c5e77d8d3e64ddd6f590b85f0da6e3400457c1efdc429a6b7d61995ede308",
    "1eyvA/tag0002.al.pdb": "a25b9d51161d22f92f95190386d39b784863114dc3b896b84f7b8fccc6c525fe",
    "1eyvA/tag0002.al.pdb.error": "0852a6aa610f03c7af536dc77471e001278a9c8001c9bea7747535b38f6ee7e5",
    "1eyvA/tag0003.al.pdb": "16436e5830b1b8c75b464c3b8d95278940f4d77e8e534dad087ced7a74d84239",
    "1eyvA/tag0003.al.pdb.error": "5ceb8f312b3e867667c269759e15957b415a1df69dc65f256205bad435b77dcd",
    "1eyvA/tag0004.al.pdb": "946c97ee8f14701c16c6f8c4372e74cee38add9a27bebb58b0b8d1559f07a3c2",
    "1eyvA/tag0004.al.pdb.error": "c4d23c361c006a76cc8d7d178ccc930c83be01c3048ae7ef01119abbd05338e8",
    "1eyvA/tag0005.al.pdb": "791cbbb503b88e86e251177a29a98cd85ca9abcc79cdffc48a31c654a68d038b",
    "1eyvA/tag0005.al.pdb.error": "d3470dc35b14563e57a9dd17ea3c1eaa8313755eba2700d6d8ed8379233dd8d3",
    "1ez3A/TM.dat": "5134977f65d0d95a44a42b0dbae314e458ef5d77ef5b15a35c971fc53823344c",
    "1ez3A/native.pdb": "45cfe1b9bd7764160c6323c921a13643eca39d1b9d452f894e0c613113f66e8d",
    "1ez3A/tag0006.al.pdb": "018fac45359a89645cacbe7ba65fd891b4113647b0df70eec7747da219103b29",
    "1ez3A/tag0006.al.pdb.error": "d2dd93361da31912fc70ab9e57baa02d3b91b46e2a5f6d644e14f395f458d416",
    "1ez3A/tag0011.al.pdb": "f16ce23c741c6a41540168d1877f9610debed50c9b26b7d971bac2af256dbd72",
    "1ez3A/tag0011.al.pdb.error": "33beae6a681c05330d97cd431f648580a235c04b5d5bb8c597d8873014b3bbde",
    "1ez3A/tag0012.al.pdb": "55d05d251acd06738a29b485e6562d9d3103f287e9f09e01b37f86adac9a2ef6",
    "1ez3A/tag0012.al.pdb.error": "2eb2f292acbf317c6a2c532d3291da2b313ad58ad930feb63acf4c402cbb6445",
    "1ez3A/tag0013.al.pdb": "4c434e447f7e69e7236ff6ed2159de872040e7181d3a42ba709f0bab10d7ace9",
    "1ez3A/tag0013.al.pdb.error": "57fa96df63fb3ab01024910c6e5e38dcb98a57f673420abeb6dcd60a0734e8fa",
    "1ez3A/tag0015.al.pdb": "be3b60ea1d5aefe4926a17f29d429ade7aa23e04fa6f001fd9086dc0a6858926",
    "1ez3A/tag0015.al.pdb.error": "70af71723a28cfb459748f1855984c267fb0cf5a867493d00f50bb1f4b546687",
    "1ezgA/TM.dat": "53fcaec52e68870df4137376c2817a0a2b76383913efeddd435090b3862626e8",
    "1ezgA/native.pdb": "f2a34d323fa581e9e863bbf4ad90c61371197839e1b8a8598f93f359125da708",
    "1ezgA/tag0001.al.pdb": "f7a805bc2814b21b9cd4e57527abf7fa0c83b50881a048b4133ae3a8288e2d7b",
    "1ezgA/tag0001.al.pdb.error": "81e8ed1077529fc4808cf8cfebe8b15a2cc1928d0ef6a91cca185de5037c5f6f",
    "1ezgA/tag0002.al.pdb": "39da2e91292fa0cfee2f1cb8660a56e6a19283471134e7ac4aa75697a4980f80",
    "1ezgA/tag0002.al.pdb.error": "c2733c917d9d508c9d9900f449533ccee7408af07400089c3829dc4f17ac987a",
    "1ezgA/tag0003.al.pdb": "992f7d7b080b91654e4dff5044f6fd8cbd62bbd28d632a8a3563f96796786319",
    "1ezgA/tag0003.al.pdb.error": "ab515deb4635b4e735592ea2119f7394775698596d663f0fe5f657713e2e725f",
    "1ezgA/tag0004.al.pdb": "096172876d8c644400f8da707a3ddc48ff43322c78d58e0bb204d06aafa81e87",
    "1ezgA/tag0004.al.pdb.error": "fe4f8807c9692df13d8ef90a6404c6250d48ad14cf2c9c0bd909c691bc36137a",
    "1ezgA/tag0005.al.pdb": "38925bd8ecf6b4f84156a91962e9029077b3259177b92a92e2c64df888bd4d32",
    "1ezgA/tag0005.al.pdb.error": "2888e0ab1abe13ad0cedc2bffc26e94fab9efc75b2e884dc086ddd8703a95390",
}

# target -> its files (downloaded into <root>/<target>/)
PROTEINGCN_DECOYS: dict[str, tuple[Resource, ...]] = {
    target: tuple(
        Resource(path.split("/")[1], f"{_BASE}/{path}", sha256=sha)
        for path, sha in _SHA256.items()
        if path.startswith(target + "/")
    )
    for target in sorted({path.split("/")[0] for path in _SHA256})
}


def download_decoys(root: str | os.PathLike, *, opener: Callable[..., Any] = urllib.request.urlopen) -> Path:
    """Fetch the 4 targets into ``<root>/<target>/`` (what :func:`graphnets.protein.load_decoy_set` reads);
    files present and verified are kept. Returns ``root``.

    Raises:
        ValueError: checksum mismatch. OSError / URLError: network failure (a partial file resumes).
    """
    for target, resources in PROTEINGCN_DECOYS.items():
        fetch_all(resources, Path(root) / target, opener=opener)
    return Path(root)
