"""The standard FID network: where its weights are looked for, the first-use download with its
SHA-256 check, the offline message, and (where the real weights are here) a cross-check of
gankit's FID/KID against torch-fidelity on the same images.

The download, hash and offline paths run on a small fake weights file served from a file:// URL:
no network is needed and none is used."""

from __future__ import annotations

import dataclasses
import hashlib
import os

import pytest
import torch
from shapes import shapes

from gankit.errors import GankitError
from gankit.metrics import weights as W
from gankit.metrics.features import INCEPTION_NAME, feature_net_for, inception_available, load_inception


@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty user cache and torch hub, and no weights path in the environment."""
    monkeypatch.setenv("GANKIT_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    monkeypatch.delenv("GANKIT_INCEPTION_WEIGHTS", raising=False)
    return tmp_path


def fake_spec(tmp_path, payload: bytes = b"not really inception weights\n" * 100, name: str = "fake.pth"):
    """A WeightsSpec for a small file published at a file:// URL, with its true hash."""
    src = tmp_path / "server" / name
    src.parent.mkdir(parents=True, exist_ok=True)
    src.write_bytes(payload)
    return dataclasses.replace(
        W.INCEPTION,
        file=name,
        sha256=hashlib.sha256(payload).hexdigest(),
        size=len(payload),
        urls=(src.as_uri(),),
        aliases=(),
    )


def test_first_use_downloads_into_the_user_cache_and_checks_the_hash(cache, monkeypatch):
    monkeypatch.setenv("GANKIT_OFFLINE", "0")
    spec = fake_spec(cache)
    got = W.fetch(spec)
    assert (
        got == cache / "cache" / "weights" / "fake.pth"
        and got.read_bytes() == (cache / "server" / "fake.pth").read_bytes()
    )
    (cache / "server" / "fake.pth").unlink()  # second use: read from the cache, no download
    assert W.fetch(spec) == got
    assert not [p for p in got.parent.iterdir() if p.name.startswith(".part-")]  # no partial file left


def test_a_download_with_the_wrong_hash_is_refused_and_not_kept(cache, monkeypatch):
    monkeypatch.setenv("GANKIT_OFFLINE", "0")
    spec = dataclasses.replace(fake_spec(cache), sha256="0" * 64)
    with pytest.raises(GankitError, match="wrong SHA-256") as e:
        W.fetch(spec)
    assert spec.urls[0] in str(e.value) and "0" * 64 in str(e.value)
    assert not (W.weights_dir() / spec.file).exists()
    assert not list(W.weights_dir().iterdir())  # nor a partial download


def test_a_corrupt_cached_file_is_an_error_that_says_what_to_do(cache):
    spec = fake_spec(cache)
    (W.weights_dir()).mkdir(parents=True)
    (W.weights_dir() / spec.file).write_bytes(b"truncated")
    with pytest.raises(GankitError, match="Delete it and fetch the file again") as e:
        W.fetch(spec)
    assert spec.sha256 in str(e.value)


def test_offline_the_message_names_the_file_the_hash_and_where_to_put_it(cache, monkeypatch):
    monkeypatch.setenv("GANKIT_OFFLINE", "1")
    with pytest.raises(GankitError) as e:
        W.fetch(W.INCEPTION)
    msg = str(e.value)
    assert "GANKIT_OFFLINE=1" in msg and W.INCEPTION.urls[0] in msg and W.INCEPTION.sha256 in msg
    assert str(cache / "cache" / "weights" / "pt_inception-2015-12-05-6726825d.pth") in msg
    assert "GANKIT_INCEPTION_WEIGHTS" in msg
    assert not inception_available()
    with pytest.raises(GankitError, match="GANKIT_OFFLINE=1"):  # the network is never swapped for another
        feature_net_for("folder", 3)


def test_no_network_is_a_clear_error(cache, monkeypatch):
    monkeypatch.setenv("GANKIT_OFFLINE", "0")
    spec = dataclasses.replace(fake_spec(cache), urls=((cache / "nowhere.pth").as_uri(),))
    with pytest.raises(GankitError, match="could not download") as e:
        W.fetch(spec)
    assert "put it at" in str(e.value)


def test_weights_are_found_by_environment_variable_and_in_torchs_hub_cache(cache, monkeypatch):
    monkeypatch.setenv("GANKIT_OFFLINE", "1")
    spec = dataclasses.replace(fake_spec(cache), aliases=("other-name.pth",))
    hub = cache / "torch" / "hub" / "checkpoints"
    hub.mkdir(parents=True)
    (hub / "other-name.pth").write_bytes((cache / "server" / "fake.pth").read_bytes())
    assert W.fetch(spec) == hub / "other-name.pth"  # e.g. torch-fidelity's name for the same bytes
    monkeypatch.setenv(spec.env, str(cache / "server" / "fake.pth"))
    assert W.fetch(spec) == cache / "server" / "fake.pth"
    monkeypatch.setenv(spec.env, str(cache / "missing.pth"))
    with pytest.raises(GankitError, match="does not exist"):  # an explicit path is not second-guessed
        W.fetch(spec)


def random_inception_file(path):
    """torch-fidelity's Inception-v3 layout with random values (for the slow tests: the real file is
    not downloadable everywhere). Batch norm statistics are calibrated on a few images, so the
    features vary from image to image as a trained network's do (uncalibrated, they collapse to
    one point and every FID is 0)."""
    from torch_fidelity import feature_extractor_inceptionv3 as fi

    real_load = fi.FeatureExtractorInceptionV3.load_state_dict
    try:  # build the module without any weights file: skip its loading step
        fi.FeatureExtractorInceptionV3.load_state_dict = lambda self, state: None
        fi_load = fi.load_state_dict_from_url
        fi.load_state_dict_from_url = lambda *a, **k: {}
        torch.manual_seed(0)
        net = fi.FeatureExtractorInceptionV3("x", ["2048"])
    finally:
        fi.FeatureExtractorInceptionV3.load_state_dict = real_load
        fi.load_state_dict_from_url = fi_load
    bns = [m for m in net.modules() if isinstance(m, torch.nn.BatchNorm2d)]
    for m in bns:
        m.reset_running_stats()
        m.momentum = None  # a plain average over the calibration batch
    net.train()
    with torch.no_grad():
        net(shapes(24, 64, seed=7))
    net.eval()
    torch.save(net.state_dict(), path)
    return path


@pytest.mark.slow
def test_inception_runs_on_a_hash_checked_file_and_names_itself(cache, monkeypatch):
    path = random_inception_file(cache / "random.pth")
    monkeypatch.setattr(W, "INCEPTION", dataclasses.replace(W.INCEPTION, sha256=W.sha256_of(path)))
    monkeypatch.setattr("gankit.metrics.features.INCEPTION", W.INCEPTION)
    monkeypatch.setenv("GANKIT_INCEPTION_WEIGHTS", str(path))
    net = load_inception()
    assert net.name == INCEPTION_NAME and net.weights_sha256 == W.sha256_of(path) and "TF1 bilinear" in net.resize
    f, z = net.embed(shapes(3, 32))
    assert f.shape == (3, 2048) and z.shape == (3, 1008)
    g, _ = net.embed(shapes(3, 32).float() / 127.5 - 1)  # floats are quantised to the same uint8 first
    assert torch.allclose(f, g, atol=1e-5)


def crosscheck(path, n: int = 300):
    """gankit's FID and KID vs torch-fidelity's on the same uint8 images with the weights at `path`."""
    import torch_fidelity

    from gankit.metrics import fid, kid

    class Images(torch.utils.data.Dataset):
        def __init__(self, x):
            self.x = x

        def __len__(self):
            return len(self.x)

        def __getitem__(self, i):
            return self.x[i]

    a, b = shapes(n, 32, seed=1), shapes(n, 32, seed=2)
    b[: n // 2] = b[: n // 2].flip(-2)  # a real difference to measure
    net = load_inception()
    ours = {**fid(net.embed(a)[0], net.embed(b)[0]), **kid(net.embed(a)[0], net.embed(b)[0], subsets=1, subset_size=n)}
    theirs = torch_fidelity.calculate_metrics(
        input1=Images(a),
        input2=Images(b),
        fid=True,
        kid=True,
        cuda=False,
        kid_subsets=1,
        kid_subset_size=n,
        verbose=False,
        feature_extractor_weights_path=str(path),
    )
    return ours, theirs


@pytest.mark.slow
def test_fid_and_kid_match_torch_fidelity_with_random_weights(cache, monkeypatch):
    """The whole path (quantising, TF1 resize inside the net, 2048-d features, the Frechet and MMD
    formulas) against torch-fidelity's own pipeline, on a random-valued file of the real layout."""
    path = random_inception_file(cache / "random.pth")
    monkeypatch.setattr("gankit.metrics.features.INCEPTION", dataclasses.replace(W.INCEPTION, sha256=W.sha256_of(path)))
    monkeypatch.setenv("GANKIT_INCEPTION_WEIGHTS", str(path))
    ours, theirs = crosscheck(path, 120)
    assert ours["fid"] > 1e-3 and abs(ours["kid"]) > 1e-6  # not a degenerate network
    assert ours["fid"] == pytest.approx(theirs["frechet_inception_distance"], rel=1e-3)
    assert ours["kid"] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-3, abs=1e-7)


def test_fid_and_kid_match_torch_fidelity_with_the_real_weights(monkeypatch):
    path = W.located(W.INCEPTION)
    if path is None or W.sha256_of(path) != W.INCEPTION.sha256:
        pytest.skip(
            "the FID Inception weights are not here (GANKIT_OFFLINE or no network): "
            f"place {W.INCEPTION.file} in {W.weights_dir()} to run this cross-check"
        )
    torch.set_num_threads(min(4, os.cpu_count() or 1))
    ours, theirs = crosscheck(path)
    assert ours["fid"] == pytest.approx(theirs["frechet_inception_distance"], rel=1e-3)
    assert ours["kid"] == pytest.approx(theirs["kernel_inception_distance_mean"], rel=1e-3, abs=1e-6)
    assert ours["fid"] > 1  # the flipped half is a difference the network sees
