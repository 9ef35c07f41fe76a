"""Images for supernet training: CIFAR-10 (official python batches, image-folder trees), synthetic images,
train/valid splits and the on-device augmenting batch loader.

Nothing is ever downloaded unless :func:`download_cifar10` is called explicitly.  Every loader returns an
:class:`ImageSet` (uint8 NHWC images, int64 labels, file names); :func:`cifar10_splits` loads and splits in
one call; :class:`TensorLoader` turns an image set into augmented float batches on the training device.
"""

from .batches import load_cifar10_batches
from .cifar10 import load_cifar10, resolve_cifar10_source
from .download import CIFAR10_MD5, CIFAR10_URL, download_cifar10
from .folder import decode_image_folder, default_cache_dir, write_image_folder
from .images import (
    CIFAR10_CLASSES,
    CIFAR10_MEAN,
    CIFAR10_STD,
    ChecksumError,
    CorruptDataError,
    DataError,
    ImageSet,
    MissingDataError,
)
from .loader import TensorLoader
from .splits import cifar10_splits, nb201_split, stratified_split
from .synthetic import synthetic_images

__all__ = [
    "CIFAR10_CLASSES",
    "CIFAR10_MEAN",
    "CIFAR10_STD",
    "CIFAR10_URL",
    "CIFAR10_MD5",
    "DataError",
    "MissingDataError",
    "CorruptDataError",
    "ChecksumError",
    "ImageSet",
    "download_cifar10",
    "load_cifar10_batches",
    "decode_image_folder",
    "write_image_folder",
    "load_cifar10",
    "resolve_cifar10_source",
    "default_cache_dir",
    "nb201_split",
    "stratified_split",
    "cifar10_splits",
    "synthetic_images",
    "TensorLoader",
]
