"""TensorLoader: normalised batches, shuffling, crop-and-flip augmentation, seeded resume, sharding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from supernet.data import CIFAR10_MEAN, CIFAR10_STD, ImageSet, TensorLoader


def _ids_set(n: int = 50, h: int = 8) -> ImageSet:
    """Random images (distinct with overwhelming probability) with labels = position % 10."""
    rng = np.random.default_rng(0)
    img = rng.integers(1, 256, (n, h, h, 3), dtype=np.uint8)
    return ImageSet(img, np.arange(n, dtype=np.int64) % 10, np.array([str(i) for i in range(n)]), tuple("abcdefghij"))


def _denorm(x: torch.Tensor) -> np.ndarray:
    m = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1)
    s = torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    return torch.round((x * s + m) * 255).to(torch.int64).permute(0, 2, 3, 1).numpy()


def _cycle(loader):
    while True:
        yield from loader


def test_loader_plain_batches_are_normalised_images():
    ds = _ids_set()
    ld = TensorLoader(ds, batch_size=16, shuffle=False, augment=False)
    batches = list(ld)
    assert len(ld) == 4 and [len(y) for _, y in batches] == [16, 16, 16, 2]
    x, y = batches[1]
    assert x.dtype == torch.float32 and x.shape == (16, 3, 8, 8) and y.dtype == torch.int64
    m, s = torch.tensor(CIFAR10_MEAN).view(1, 3, 1, 1), torch.tensor(CIFAR10_STD).view(1, 3, 1, 1)
    ref = (torch.from_numpy(ds.images[16:32]).permute(0, 3, 1, 2).float() / 255 - m) / s
    assert torch.allclose(x, ref, atol=1e-5)
    assert y.tolist() == ds.labels[16:32].tolist()
    assert len(TensorLoader(ds, batch_size=16, drop_last=True)) == 3
    assert [len(y) for _, y in TensorLoader(ds, batch_size=16, drop_last=True)] == [16, 16, 16]
    # NCHW input and channels_last output give the same values
    nchw = TensorLoader(ds.images.transpose(0, 3, 1, 2), ds.labels, layout="NCHW", batch_size=16, shuffle=False,
                        augment=False, channels_last=True)
    xn, _ = next(iter(nchw))
    assert xn.is_contiguous(memory_format=torch.channels_last) and torch.equal(xn, batches[0][0])


def test_loader_shuffle_covers_every_image_once_per_epoch():
    ds = _ids_set()
    ld = TensorLoader(ds.images, np.arange(50), batch_size=7, augment=False, seed=5)
    e1 = torch.cat([y for _, y in ld]).tolist()
    e2 = torch.cat([y for _, y in ld]).tolist()
    assert sorted(e1) == sorted(e2) == list(range(50))
    assert e1 != list(range(50)) and e1 != e2 and ld.epoch == 2


def test_loader_augmentation_is_a_crop_and_flip_of_the_padded_image():
    ds = _ids_set(n=64, h=8)
    ld = TensorLoader(ds.images, np.arange(64), batch_size=64, shuffle=True, augment=True, pad=2, seed=1)
    x, ids = next(iter(ld))
    got = _denorm(x)
    padded = np.pad(ds.images, ((0, 0), (2, 2), (2, 2), (0, 0)))
    seen_flip, seen_off = set(), set()
    for k, i in enumerate(ids.tolist()):
        matches = []
        for dy in range(5):
            for dx in range(5):
                crop = padded[i, dy:dy + 8, dx:dx + 8]
                for fl in (False, True):
                    if np.array_equal(crop[:, ::-1] if fl else crop, got[k]):
                        matches.append((dy, dx, fl))
        assert len(matches) == 1, f"image {i}: {matches}"
        seen_flip.add(matches[0][2])
        seen_off.add(matches[0][:2])
    assert seen_flip == {False, True} and len(seen_off) > 12  # both flips, many of the 25 offsets


def test_loader_augmentation_statistics():
    img = np.zeros((4000, 4, 4, 3), np.uint8)
    img[:, 0, 0] = 255  # one bright pixel: where it lands reveals offset and flip
    ld = TensorLoader(img, np.zeros(4000), batch_size=4000, pad=1, seed=0)
    x, _ = next(iter(ld))
    pos = np.argwhere(_denorm(x)[..., 0] == 255)  # (k, 3): sample, row, col
    # offset d in {0,1,2}^2 moves the pixel to (1-dy, 1-dx): it is cropped away unless dy, dx <= 1
    assert 0.40 < len(pos) / 4000 < 0.49  # 4/9 of the offsets keep it
    assert len(np.unique(pos[:, 0])) == len(pos)
    assert abs((pos[:, 2] >= 2).mean() - 0.5) < 0.05  # the flipped half lands on the right
    rows = np.bincount(pos[:, 1], minlength=4)
    assert rows[2] == 0 and rows[3] == 0 and abs(rows[0] / rows[1] - 1) < 0.15


def test_loader_seeds_and_resume_reproduce_batches():
    ds = _ids_set(n=50)

    def make(seed: int = 0) -> TensorLoader:
        return TensorLoader(ds, batch_size=8, seed=seed)

    ea = [(x, y) for _, (x, y) in zip(range(12), _cycle(make()))]
    eb = [(x, y) for _, (x, y) in zip(range(12), _cycle(make()))]
    assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(ea, eb))
    assert not torch.equal(next(iter(make(seed=1)))[0], ea[0][0])

    # uninterrupted: 3 epochs of 7 batches; interrupted mid epoch 2, at an epoch end, early in epoch 1
    full = [(x, y) for _, (x, y) in zip(range(21), _cycle(make()))]
    for cut in (10, 7, 3):
        first = make()
        it = _cycle(first)
        got = [next(it) for _ in range(cut)]
        state = first.state_dict()
        resumed = make(seed=123)  # the seed is overridden by the saved generator state
        resumed.load_state_dict(state)
        assert resumed.epoch == cut // 7 and resumed.position == cut % 7
        got += [b for _, b in zip(range(21 - cut), _cycle(resumed))]
        assert all(torch.equal(p[0], q[0]) and torch.equal(p[1], q[1]) for p, q in zip(full, got))


def test_loader_state_mismatch_and_bad_input():
    ds = _ids_set()
    st = TensorLoader(ds, batch_size=8).state_dict()
    with pytest.raises(ValueError, match="batch_size"):
        TensorLoader(ds, batch_size=16).load_state_dict(st)
    with pytest.raises(ValueError, match="uint8"):
        TensorLoader(ds.images.astype(np.float32), ds.labels)
    with pytest.raises(ValueError, match="labels"):
        TensorLoader(ds.images, ds.labels[:-1])


def test_loader_shards_partition_an_epoch():
    ds = _ids_set(n=51)
    got = []
    for r in range(3):
        ld = TensorLoader(ds.images, np.arange(51), batch_size=5, world_size=3, rank=r, seed=9, augment=False)
        assert ld.num_samples == 17 and len(ld) == 4
        got.append(torch.cat([y for _, y in ld]).tolist())
    flat = sum(got, [])
    assert len(flat) == len(set(flat)) == 51
