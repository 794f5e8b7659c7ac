"""Segmentation: the grid, scikit-image's superpixels with lime_image's defaults, relabelling, errors."""

import sys

import numpy as np
import pytest

import tabxai as tx


@pytest.fixture(scope="module")
def astronaut():
    skimage = pytest.importorskip("skimage")
    from skimage import data, transform

    assert skimage
    return transform.resize(data.astronaut(), (48, 48), anti_aliasing=True)


def test_grid_patches_are_regular_and_cover_the_image():
    labels = tx.image.segment(np.zeros((10, 7, 3)), "grid", grid=(3, 2))
    assert labels.shape == (10, 7) and labels.dtype == np.int64
    assert np.array_equal(np.unique(labels), np.arange(6))
    # rows 0-3 / 4-6 / 7-9 and columns 0-3 / 4-6: y * rows // height, x * cols // width
    assert labels[0, 0] == 0 and labels[0, 6] == 1 and labels[4, 0] == 2 and labels[9, 6] == 5
    sizes = np.bincount(labels.ravel())
    assert sizes.max() - sizes.min() <= 7


@pytest.mark.parametrize("method", ["slic", "quickshift", "felzenszwalb"])
def test_superpixels_are_scikit_image_relabelled_from_zero(astronaut, method):
    from skimage import segmentation

    labels = tx.image.segment(astronaut, method, random_state=0)
    assert labels.shape == (48, 48)
    assert np.array_equal(np.unique(labels), np.arange(labels.max() + 1)) and labels.max() >= 3
    arguments = {"slic": dict(n_segments=50, compactness=10.0, start_label=0),
                 "quickshift": dict(kernel_size=4, max_dist=200, ratio=0.2),
                 "felzenszwalb": dict(scale=100.0, sigma=0.8, min_size=20)}[method]
    if method == "quickshift":
        arguments["rng" if "rng" in segmentation.quickshift.__code__.co_varnames else "random_seed"] = 0
    direct = getattr(segmentation, method)(astronaut, **arguments)
    # the same partition: labels map one to one
    pairs = set(zip(labels.ravel().tolist(), direct.ravel().tolist()))
    assert len(pairs) == labels.max() + 1 == len(np.unique(direct))


def test_params_override_defaults_and_layouts_agree(astronaut):
    fine = tx.image.segment(astronaut, "slic", n_segments=100)
    coarse = tx.image.segment(astronaut, "slic", n_segments=10)
    assert fine.max() > coarse.max()
    channel_first = tx.image.segment(np.moveaxis(astronaut, -1, 0), "slic", layout="NCHW", n_segments=10)
    assert np.array_equal(channel_first, coarse)
    as_bytes = tx.image.segment((astronaut * 255).round().astype(np.uint8), "slic", n_segments=10)
    assert (as_bytes == coarse).mean() > 0.95


def test_grey_images_work_with_slic_but_not_quickshift(astronaut):
    grey = astronaut.mean(axis=2)
    labels = tx.image.segment(grey, "slic", n_segments=20)
    assert labels.shape == (48, 48) and labels.max() >= 3
    with pytest.raises(ValueError, match="quickshift segments colour"):
        tx.image.segment(grey, "quickshift")


def test_missing_scikit_image_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "skimage", None)
    with pytest.raises(ImportError, match=r'pip install "tabxai\[image\]"'):
        tx.image.segment(np.zeros((8, 8, 3)), "slic")
    assert tx.image.segment(np.zeros((8, 8, 3)), "grid").max() == 63


def test_importing_tabxai_does_not_import_scikit_image():
    import subprocess

    code = "import sys, tabxai as tx; tx.image.explain; print('skimage' in sys.modules, 'keras' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["False", "False"]


def test_bad_segmentation_arguments():
    with pytest.raises(ValueError, match="`method` must be one of"):
        tx.image.segment(np.zeros((8, 8)), "watershed")
    with pytest.raises(TypeError, match="grid"):
        tx.image.segment(np.zeros((8, 8)), "grid", n_segments=4)
    with pytest.raises(ValueError, match="grid"):
        tx.image.segment(np.zeros((8, 8)), "grid", grid=(9, 2))
