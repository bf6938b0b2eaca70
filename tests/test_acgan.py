"""AC-GAN's auxiliary classifier (model.aux_classifier, issue 15): a class head on D's features whose
cross-entropy joins D's loss (real and generated images) and G's (its own samples)."""

from __future__ import annotations

import pytest
import torch

from gankit.api import make_trainer
from gankit.config import load_preset
from gankit.errors import GankitError
from gankit.nets import build_networks, count_parameters
from gankit.nets.conditional import auxiliary_loss

QUIET = ["device=cpu", "eval.every=0", "log.tensorboard=off", "log.progress=off", "speed.amp=off"]
SMALL_MLP = ["model.g=mlp", "model.d=mlp", "model.hidden=64", "model.latent_dim=8", "train.batch_size=64", *QUIET]


@pytest.mark.parametrize("preset", ["cgan-mnist", "dcgan-mnist32-cond"])
def test_the_class_head_is_one_linear_map_and_reads_the_image_alone(preset):
    plain = load_preset(preset, ["model.num_classes=10", "model.aux_classifier=0"]).model
    aux = load_preset(preset, ["model.num_classes=10", "model.aux_classifier=1.0"]).model
    shape = (1, 32, 32) if "32" in preset else (1, 28, 28)
    _, d_plain = build_networks(plain, shape)
    g, d = build_networks(aux, shape)
    assert not hasattr(d_plain, "aux") or d_plain.aux is None  # off: the critic is unchanged
    head = d.aux
    assert count_parameters(d) == count_parameters(d_plain) + head.in_features * 10 + 10
    x = torch.randn(6, *shape)
    d.eval()
    y0, y1 = torch.zeros(6, dtype=torch.long), torch.ones(6, dtype=torch.long)
    with torch.no_grad():
        logits = d.classify(x)
        assert logits.shape == (6, 10)
        assert not torch.equal(d(x, y0), d(x, y1))  # the score depends on the label asked for
        loss = auxiliary_loss(d, x, y0)
    assert float(loss) == pytest.approx(float(torch.nn.functional.cross_entropy(logits, y0)))


def test_training_with_the_auxiliary_classifier_teaches_d_the_classes(data_root, one_thread):
    from gankit.data.idx import load_idx_images

    torch.manual_seed(0)
    cfg = load_preset("cgan-mnist", [*SMALL_MLP, "train.steps=80", "model.aux_classifier=1.0"])
    trainer = make_trainer(cfg, None, data_root, progress=False)
    trainer.fit()
    images, labels = load_idx_images("mnist", data_root, "test")
    x = images[:1000].float() / 127.5 - 1
    with torch.no_grad():
        acc = (trainer.D.classify(x).argmax(1) == labels[:1000]).float().mean()
    assert acc > 0.6  # 80 steps of the class term: far above chance (0.1)
    # without the term there is no head to learn anything
    off = make_trainer(load_preset("cgan-mnist", [*SMALL_MLP, "train.steps=1"]), None, data_root, progress=False)
    assert off.D.aux is None


def test_an_auxiliary_classifier_needs_a_conditional_model_and_a_positive_weight():
    with pytest.raises(GankitError, match="needs a conditional model"):
        load_preset("mlp-mnist", ["model.aux_classifier=1.0"])
    with pytest.raises(GankitError, match="positive weight"):
        load_preset("cgan-mnist", ["model.aux_classifier=-1"])
