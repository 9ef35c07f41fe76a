"""Seeded synthetic images whose class is visible in colour and stripes, for fast tests and demos."""

from __future__ import annotations

import numpy as np

from .images import ImageSet

__all__ = ["synthetic_images"]


def synthetic_images(
    n: int,
    *,
    num_classes: int = 10,
    image_size: int = 32,
    seed: int = 0,
    pattern_seed: int = 0,
    noise: float = 40.0,
) -> ImageSet:
    """Seeded synthetic images whose class is visible in colour and stripe frequency.

    Each class has a prototype (drawn from ``pattern_seed``, so sets made with different ``seed`` share
    classes): a base RGB colour and horizontal stripes of a class-specific frequency and phase. Samples add
    a random brightness shift, a random vertical shift of the stripes and Gaussian pixel noise (``noise``,
    in 0..255 units). Stripes are horizontal, so flips and small crops keep the class. Labels are balanced
    (``n // num_classes`` each, the remainder spread over the first classes) and shuffled.
    """
    if n < 1 or num_classes < 2:
        raise ValueError("need n >= 1 and num_classes >= 2")
    proto = np.random.default_rng(pattern_seed)
    colours = proto.uniform(40, 215, size=(num_classes, 3))
    freqs = 1.0 + np.arange(num_classes) % 5 + proto.uniform(0, 0.3, num_classes)
    amp = np.where(np.arange(num_classes) // 5 % 2 == 0, 50.0, -50.0)[:, None] * np.array([1.0, 0.6, 0.3])
    rng = np.random.default_rng(seed)
    labels = np.resize(np.arange(num_classes), n)
    labels = rng.permutation(labels).astype(np.int64)
    rows = np.arange(image_size)[None, :] / image_size
    shift = rng.uniform(0, 1, size=(n, 1))
    stripes = np.sin(2 * np.pi * (freqs[labels][:, None] * rows + shift))  # (n, H)
    img = colours[labels][:, None, None, :] + stripes[:, :, None, None] * amp[labels][:, None, None, :]
    img = img + rng.normal(0, 15, size=(n, 1, 1, 3)) + rng.normal(0, noise, size=(n, image_size, image_size, 3))
    images = np.clip(np.rint(img), 0, 255).astype(np.uint8)
    files = np.array([f"synthetic/{i}" for i in range(n)], dtype=str)
    return ImageSet(images, labels, files, tuple(f"class{c}" for c in range(num_classes)))

