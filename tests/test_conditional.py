"""Conditional GANs (issue 15): labels as data (IDX label files, a folder's class subfolders),
labels that travel with their images through both loaders, the conditional networks, the loop's
G(z, y) / D(x, y), per-class grids and `gankit sample --class`, and the bad inputs around them."""

from __future__ import annotations

import json

import pytest
import tiny
import torch
from PIL import Image
from tiny import TINY_MLPS, train

from gankit.api import make_trainer
from gankit.cli import main
from gankit.config import load_preset
from gankit.data import Dataset, DeviceLoader, load_dataset
from gankit.data.stream import FolderFiles, StreamLoader
from gankit.errors import GankitError
from gankit.generation.latent import generate
from gankit.nets import build_networks, count_parameters, is_conditional

QUIET = [*tiny.QUIET, "speed.channels_last=off"]
# a small conditional MLP GAN on a user's tensor of labelled 28x28 images
TINY_IMAGES = [
    *TINY_MLPS,
    "train.batch_size=16",
    "train.steps=4",
    "train.log_every=2",
    "train.sample_grid=12",
    *QUIET,
]


def coded_images(n: int, classes: int = 3, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """uint8 images whose first pixel is the sample's index mod 256 and whose second is its label,
    so a batch tells which samples (and labels) it holds."""
    gen = torch.Generator().manual_seed(seed)
    x = (torch.rand(n, 1, 28, 28, generator=gen) * 255).to(torch.uint8)
    y = torch.randint(classes, (n,), generator=gen)
    x[:, 0, 0, 0] = (torch.arange(n) % 256).to(torch.uint8)
    x[:, 0, 0, 1] = y.to(torch.uint8)
    return x, y


def pixel(batch: torch.Tensor, j: int) -> torch.Tensor:
    """The uint8 value of pixel j of each image of a [-1, 1] batch."""
    return ((batch[:, 0, 0, j] + 1) * 127.5).round().long()


def class_folder(root, classes=("cat", "dog"), per_class=6, loose=0):
    """Folders of flat-coloured PNGs, one subfolder per class; class i is coloured 40 * (i + 1)."""
    for i, name in enumerate(classes):
        (root / name).mkdir(parents=True, exist_ok=True)
        for j in range(per_class):
            Image.new("RGB", (36, 40), (40 * (i + 1), j, 0)).save(root / name / f"{j}.png")
    for j in range(loose):
        Image.new("RGB", (36, 40), (250, 0, 0)).save(root / f"loose{j}.png")
    return root


# ---------------------------------------------------------------- labels as data


def test_labels_travel_with_their_images_in_every_slice_and_resume_position():
    x, y = coded_images(96)
    ds = Dataset("tensor", x, y)
    plain = list(DeviceLoader(ds, 16, seed=5, device="cpu").epoch(1, start=2))
    for rank in (0, 1):
        labelled = list(DeviceLoader(ds, 16, seed=5, device="cpu", rank=rank, world=2, labels=y).epoch(1, start=2))
        assert len(labelled) == len(plain) == 4
        for (images, labels), whole in zip(labelled, plain):
            assert images.shape[0] == labels.shape[0] == 8
            assert torch.equal(images, whole[rank * 8 : (rank + 1) * 8])  # the same images as unlabelled
            assert torch.equal(labels, y[pixel(images, 0)])  # each image's own label
    # an unconditional loader yields plain tensors, as before
    assert all(isinstance(b, torch.Tensor) for b in plain)


def test_folder_subfolders_are_classes_and_stream_like_in_memory(tmp_path):
    root = class_folder(tmp_path / "pets")
    cfg = load_preset("dcgan-rgb", [f"data.root='{root}'", "data.resolution=32", "data.stream=off"]).data
    ds = load_dataset(cfg)
    assert ds.classes == ["cat", "dog"] and ds.labels.tolist() == [0] * 6 + [1] * 6
    streamed = load_dataset(cfg.__class__(**{**cfg.__dict__, "stream": "on"}))
    assert isinstance(streamed, FolderFiles) and torch.equal(streamed.labels, ds.labels)
    a = list(StreamLoader(streamed, 4, seed=1, device="cpu", workers=0, labels=streamed.labels).epoch(0, 1))
    b = list(DeviceLoader(ds, 4, seed=1, device="cpu", labels=ds.labels).epoch(0, 1))
    for (xa, ya), (xb, yb) in zip(a, b):
        assert torch.equal(xa, xb) and torch.equal(ya, yb)
        red = ((xa[:, 0, 0, 0] + 1) * 127.5).round()  # the colour names the class
        assert torch.equal(ya, (red / 40 - 1).round().long())


def test_folder_without_subfolders_stays_unconditional_under_auto(tmp_path):
    root = tmp_path / "flat"
    root.mkdir()
    for j in range(8):
        Image.new("RGB", (32, 32), (j, 0, 0)).save(root / f"{j}.png")
    cfg = load_preset(
        "dcgan-rgb",
        [
            f"data.root='{root}'",
            "data.resolution=32",
            "model.conditional=auto",
            "train.batch_size=4",
            "train.steps=1",
            *QUIET,
        ],
    )
    trainer = make_trainer(cfg, progress=False)
    assert trainer.cfg.model.conditional == "false" and not is_conditional(trainer.G)
    with pytest.raises(GankitError, match="has no labels"):
        make_trainer(
            cfg.replace(model=cfg.model.__class__(**{**cfg.model.__dict__, "conditional": "true"})), progress=False
        )


def test_bad_labelled_folders_are_clear_errors(tmp_path):
    one = class_folder(tmp_path / "one", classes=("cat",))
    cfg = load_preset(
        "dcgan-rgb",
        [f"data.root='{one}'", "data.resolution=32", "model.conditional=true", "train.batch_size=4", *QUIET],
    )
    with pytest.raises(GankitError, match="one class only.*at least two classes"):
        make_trainer(cfg, progress=False)
    mixed = class_folder(tmp_path / "mixed", loose=2)
    with pytest.raises(GankitError, match="2 image.*directly in data.root"):
        make_trainer(
            load_preset(
                "dcgan-rgb",
                [f"data.root='{mixed}'", "data.resolution=32", "model.conditional=true", "train.batch_size=4", *QUIET],
            ),
            progress=False,
        )


def test_labels_out_of_range_or_of_another_length_are_clear_errors():
    x, y = coded_images(64)
    cfg = load_preset("ring-2d", [*TINY_IMAGES, "model.conditional=true", "model.num_classes=2"])
    with pytest.raises(GankitError, match="out of range.*0..1"):
        make_trainer(cfg, progress=False, data=(x, y))  # labels 0..2 for 2 classes
    with pytest.raises(GankitError, match="64 samples but 63 labels"):
        make_trainer(cfg, progress=False, data=(x, y[:63]))


def test_idx_label_file_of_another_length_is_a_clear_error(tmp_path, data_root):
    import gzip
    import shutil

    folder = tmp_path / "mnist"
    folder.mkdir()
    for f in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"):
        shutil.copy(data_root / "mnist" / f, folder / f)
    raw = gzip.decompress((data_root / "mnist" / "train-labels-idx1-ubyte.gz").read_bytes())
    short = raw[:4] + (59_990).to_bytes(4, "big") + raw[8 : 8 + 59_990]
    (folder / "train-labels-idx1-ubyte.gz").write_bytes(gzip.compress(short))
    cfg = load_preset("cgan-mnist", [f"data.root='{tmp_path}'"])
    with pytest.raises(GankitError, match="do not form an image/label pair"):
        load_dataset(cfg.data, download=False)


# ---------------------------------------------------------------- networks


@pytest.mark.parametrize("preset,plain", [("cgan-mnist", "mlp-mnist"), ("dcgan-mnist32-cond", "dcgan-mnist32")])
def test_unconditional_networks_keep_their_parameters_and_conditional_ones_use_labels(preset, plain):
    shape = (1, 32, 32) if "32" in preset else (1, 28, 28)
    before = build_networks(load_preset(plain).model, shape)
    cond_cfg = load_preset(preset, ["model.num_classes=10"]).model
    off = build_networks(
        cond_cfg.__class__(**{**cond_cfg.__dict__, "conditional": "false", "aux_classifier": 0}), shape
    )
    for a, b in zip(before, off):  # conditional = false: the seed networks, the same keys and sizes
        assert not is_conditional(b)
        assert {k: v.shape for k, v in a.state_dict().items()} == {k: v.shape for k, v in b.state_dict().items()}
    torch.manual_seed(0)
    G, D = build_networks(cond_cfg, shape)
    assert is_conditional(G) and is_conditional(D) and G.num_classes == 10
    for m in G.modules():  # conditional BN starts as plain BN (gamma 1, beta 0): give the classes their own
        if isinstance(m, torch.nn.Embedding):
            torch.nn.init.normal_(m.weight, 1.0, 0.5)
    G.eval()
    D.eval()
    z = torch.randn(4, cond_cfg.latent_dim)
    x3, x7 = G(z, torch.full((4,), 3)), G(z, torch.full((4,), 7))
    assert x3.shape == (4, *shape) and not torch.allclose(x3, x7)  # the label changes the sample
    assert not torch.allclose(D(x3, torch.full((4,), 3)), D(x3, torch.full((4,), 7)))
    extra = count_parameters(G) - count_parameters(before[0])
    if preset == "cgan-mnist":  # one-hot joined to z: 10 more inputs to G's first layer, 10 to D's
        assert extra == 10 * 64 and count_parameters(D) - count_parameters(before[1]) == 10 * 1024
    else:  # conditional BN: per-class gamma and beta (10 x 2 x 320) instead of 2 x 320 shared ones
        assert extra == 10 * 2 * (128 + 128 + 64) - 2 * (128 + 128 + 64)


def test_projection_discriminator_is_psi_of_phi_plus_the_embedding_inner_product():
    cfg = load_preset("dcgan-mnist32-cond", ["model.num_classes=10"]).model
    _, D = build_networks(cfg, (1, 32, 32))
    D.eval()
    x = torch.rand(5, 1, 32, 32) * 2 - 1
    y = torch.tensor([0, 3, 3, 9, 1])
    with torch.no_grad():
        phi = D.critic.net[:-1](x)
        expected = D.critic.net[-1](phi) + (D.embed.weight[y] * phi).sum(1, keepdim=True)
        assert torch.allclose(D(x, y), expected, atol=1e-6)


# ---------------------------------------------------------------- training, sampling, grids


def test_conditional_training_uses_the_labels_and_repeats_bitwise(tmp_path, one_thread):
    x, y = coded_images(128, classes=3)
    cfg = load_preset("ring-2d", [*TINY_IMAGES, "model.conditional=auto"])

    def trained(labels):
        trainer = make_trainer(cfg, progress=False, data=(x, labels))
        trainer.fit()
        return trainer

    a, b, shuffled = trained(y), trained(y), trained(y[torch.randperm(128, generator=torch.Generator().manual_seed(1))])
    assert a.cfg.model.conditional == "true" and a.cfg.model.num_classes == 3
    for p, q in zip(a.D.state_dict().values(), b.D.state_dict().values()):
        assert torch.equal(p, q)  # the fakes' labels come from the global RNG in a fixed order
    assert any(not torch.equal(p, q) for p, q in zip(a.D.state_dict().values(), shuffled.D.state_dict().values()))
    with pytest.raises(GankitError, match="out of range"):
        generate(a.G.eval(), torch.randn(2, 8), labels=torch.tensor([0, 3]))


def test_per_epoch_grids_have_one_row_per_class_and_sample_class(tmp_path, data_root, capsys):
    run = tmp_path / "cgan"
    assert train("cgan-mnist", run, "train.steps=2", "train.batch_size=8", *QUIET, data_root=data_root) == 0
    assert json.loads((run / "classes.json").read_text()) == [str(d) for d in range(10)]
    grid = Image.open(run / "samples" / "epoch-0001.png")
    assert grid.size == (2 + 10 * 30, 2 + 10 * 30)  # 100 samples: 10 rows (classes) of 10
    out = tmp_path / "all.png"
    assert main(["sample", str(run), "--class", "all", "--n", "4", "--out", str(out)]) == 0
    assert Image.open(out).height == 2 + 10 * 30
    npy = tmp_path / "three.npy"
    assert main(["sample", str(run), "--class", "3", "--n", "5", "--out", str(npy)]) == 0
    assert "5 samples of class 3" in capsys.readouterr().out
    assert main(["sample", str(run), "--class", "10"]) != 0
    assert "--class 10 is beyond this run's classes: it was trained on 10" in capsys.readouterr().err
    assert main(["sample", str(run), "--class", "seven"]) != 0
    assert "'seven' is not one of this run's classes" in capsys.readouterr().err


def test_class_on_an_unconditional_run_is_a_clear_error(tmp_path, capsys):
    run = tmp_path / "ring"
    assert train("ring-2d", run, "train.steps=2", "data.size=512", *QUIET) == 0
    assert main(["sample", str(run), "--class", "3"]) != 0
    assert "--class needs a conditional run" in capsys.readouterr().err


# ---------------------------------------------------------------- conditional accuracy


def test_conditional_accuracy_matches_a_confusion_matrix_count():
    from gankit.metrics.conditional import conditional_accuracy, per_class_accuracy

    gen = torch.Generator().manual_seed(0)
    logits = torch.randn(300, 10, generator=gen)
    labels = torch.randint(10, (300,), generator=gen)
    logits[:150] += 8 * torch.nn.functional.one_hot(labels[:150], 10)  # half of them asked-for
    confusion = torch.zeros(10, 10, dtype=torch.long)  # rows: asked for, columns: classified as
    confusion.index_put_((labels, logits.argmax(1)), torch.ones(300, dtype=torch.long), accumulate=True)
    values = conditional_accuracy(logits, labels)
    assert values["cond_acc"] == pytest.approx(float(confusion.diag().sum()) / 300)
    per_class = confusion.diag().double() / confusion.sum(1).double()
    assert per_class_accuracy(logits, labels) == pytest.approx(per_class.numpy())
    assert values["cond_acc_min"] == pytest.approx(float(per_class.min()))
    assert values["cond_classes"] == int((confusion.diag() == confusion.max(1).values).sum())


def test_conditional_accuracy_of_real_digits_is_the_classifiers_and_of_wrong_labels_is_chance(data_root):
    from gankit.data.idx import load_idx_images
    from gankit.metrics.classifier import load_classifier, to_classifier_input
    from gankit.metrics.conditional import conditional_accuracy

    images, labels = load_idx_images("mnist", data_root, "test")
    with torch.no_grad():
        logits = load_classifier("mnist")(to_classifier_input(images[:2000]))
    right = conditional_accuracy(logits, labels[:2000])
    assert right["cond_acc"] > 0.97 and right["cond_classes"] == 10  # the ceiling: the classifier's accuracy
    wrong = conditional_accuracy(logits, (labels[:2000] + 1) % 10)  # every sample asked for another digit
    assert wrong["cond_acc"] < 0.03 and wrong["cond_classes"] == 0


def test_eval_reports_conditional_accuracy_of_a_conditional_run(tmp_path, data_root, capsys):
    run = tmp_path / "cgan"
    small = ["train.batch_size=8", "model.g=mlp", "model.d=mlp", "model.hidden=16", *QUIET]
    assert train("cgan-mnist", run, "train.steps=2", *small, data_root=data_root) == 0
    assert main(["eval", str(run), "--metrics", "cond", "--n", "200", "--data-root", str(data_root)]) == 0
    out = capsys.readouterr().out
    assert "cond_acc" in out and "cond_classes" in out
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert {r["metric"] for r in records} >= {"cond_acc", "cond_acc_min", "cond_classes"}
    plain = tmp_path / "plain"
    assert train("mlp-mnist", plain, "train.steps=1", *small, data_root=data_root) == 0
    assert main(["eval", str(plain), "--metrics", "cond", "--n", "50", "--data-root", str(data_root)]) != 0
    assert "this run is unconditional" in capsys.readouterr().err


def test_a_resumed_conditional_run_sees_the_same_labelled_batches(tmp_path, one_thread):
    from gankit import api
    from gankit.run import RunDir

    x, y = coded_images(96, classes=3)
    cfg = load_preset("ring-2d", [*TINY_IMAGES, "model.conditional=true", "train.steps=5"])
    straight = make_trainer(cfg, progress=False, data=(x, y))
    straight.fit()
    run = RunDir.create("half", tmp_path / "half")
    half = make_trainer(
        cfg.replace(train=cfg.train.__class__(**{**cfg.train.__dict__, "steps": 2})), run, progress=False, data=(x, y)
    )
    half.fit()  # 2 steps into the first epoch of 6 batches, then resumed to 5
    resumed = api.resume(run, overrides=["train.steps=5"], progress=False, data=(x, y))
    resumed.fit()
    for a, b in zip(straight.D.state_dict().values(), resumed.D.state_dict().values()):
        assert torch.equal(a, b)


def test_every_d_step_gets_its_own_batchs_labels_in_either_order(data_root, one_thread):
    """With several D steps, the real labels D is given are those of the real batch it sees (g-first
    and d-first alike); the fakes' labels are the ones G was asked for."""
    from gankit.api import make_trainer
    from gankit.config import load_preset

    for order in ("g-first", "d-first"):
        cfg = load_preset(
            "cgan-mnist",
            [
                f"train.order={order}",
                "train.d_steps=3",
                "train.batch_size=8",
                "device=cpu",
                "eval.every=0",
                "log.tensorboard=off",
                "train.steps=1",
            ],
        )
        trainer = make_trainer(cfg, data_root=data_root, progress=False)
        group = [b for _, b in zip(range(3), trainer.loader.epoch(0))]
        seen, d_step = [], trainer.d_step

        def recording(real, fake, y_real=None, y_fake=None, d_step=d_step, seen=seen):
            seen.append((real, y_real, y_fake))
            d_step(real, fake, y_real, y_fake)

        trainer.d_step = recording
        trainer.train_group(group)
        for (real, y_real, y_fake), (x, y) in zip(seen, group):
            assert torch.equal(real, x) and torch.equal(y_real, y), order
            assert y_fake is not None and y_fake.shape == y.shape
