"""Bad settings and bad command lines: a clear message, exit status 2, no traceback, nothing written."""

from __future__ import annotations

import pytest

from gankit import config as C
from gankit.cli import main
from gankit.errors import GankitError


@pytest.mark.parametrize(
    "override, words",
    [
        ("optim.d.lrr=1e-4", "did you mean 'optim.d.lr'"),
        ("train.epoch=3", "did you mean 'train.epochs'"),
        ("train.epochs=three", "train.epochs must be a whole number"),
        ("train.epochs=2.5", "train.epochs must be a whole number"),
        ("data.flip=1", "data.flip must be true or false"),
        ("optim.g.lr=fast", "optim.g.lr must be a number"),
        ("optim.g.lr=0", "optim.g.lr must be a positive number"),
        ("optim.d.lr=-1e-4", "optim.d.lr must be a positive number"),
        ("optim.d.lr=nan", "optim.d.lr must be a positive number"),
        ("train.batch_size=0", "train.batch_size must be at least 1"),
        ("train.d_steps=0", "train.d_steps must be at least 1"),
        ("data.resolution=48", "not valid: use 28 or a power of two"),
        ("model.resolution=100", "not valid: use 28 or a power of two"),
        ("loss.kind=wgan", "did you mean"),
        ("train.on_nan=retry", "choose one of: stop, rollback"),
        ("train.rollback_lr_factor=1.5", "train.rollback_lr_factor must be in (0, 1)"),
        ("seed=-1", "seed must be in"),
        ("trainsteps", "--set expects key=value"),
    ],
)
def test_bad_settings_are_explained(override, words):
    with pytest.raises(GankitError) as e:
        C.load_preset("ring-2d", [override])
    assert words in str(e.value)


def test_unknown_key_in_a_file_suggests_the_nearest(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("[train]\nbatchsize = 64\n")
    with pytest.raises(
        GankitError, match=r"unknown config key 'train.batchsize' \(did you mean 'train.batch_size'\?\)"
    ):
        C.load_file(f)


def test_a_section_that_is_not_a_table(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text("train = 5\n")
    with pytest.raises(GankitError, match="train must be a table"):
        C.load_file(f)
    with pytest.raises(GankitError, match="train must be a table"):
        C.load_file(f, ["train.epochs=3"])


def test_toml_syntax_error_gives_the_line(tmp_path):
    f = tmp_path / "c.toml"
    f.write_text('name = "x"\n[train]\nepochs = = 3\n')
    with pytest.raises(GankitError, match=r"not valid TOML.*line 3"):
        C.load_file(f)


def test_unknown_preset_lists_the_valid_ones():
    with pytest.raises(GankitError) as e:
        C.load_preset("ring2d")
    msg = str(e.value)
    assert "did you mean 'ring-2d'" in msg
    for name in C.preset_names():
        assert name in msg


def test_the_callers_dict_is_not_changed_by_overrides():
    data = {"train": {"epochs": 1}}
    C.build(data, ["train.epochs=3"])
    assert data == {"train": {"epochs": 1}}


# ------------------------------------------------------------------ through the command line


def run_cli(capsys, argv):
    code = main(argv)
    out, err = capsys.readouterr()
    assert "Traceback" not in err, err
    return code, err


@pytest.mark.parametrize(
    "argv, words",
    [
        (["train", "ring2d"], "no preset named 'ring2d'"),
        (["train", "ring-2d", "--set", "train.batch_size=0"], "train.batch_size must be at least 1"),
        (["train", "ring-2d", "--set", "optim.g.lr=0"], "optim.g.lr must be a positive number"),
        (["train", "--config", "missing.toml"], "does not exist"),
        (["train"], "name a preset"),
    ],
)
def test_cli_user_mistakes_exit_2_without_traceback(tmp_path, monkeypatch, capsys, argv, words):
    monkeypatch.chdir(tmp_path)
    code, err = run_cli(capsys, argv)
    assert code == 2 and words in err
    assert list(tmp_path.iterdir()) == []  # nothing written


def test_cli_toml_error_names_the_line(tmp_path, capsys):
    f = tmp_path / "c.toml"
    f.write_text("[train]\nepochs = 3x\nsteps = 1\n")
    code, err = run_cli(capsys, ["train", "--config", str(f)])
    assert code == 2 and "line 2" in err


def test_cli_run_directory_that_does_not_exist(tmp_path, capsys):
    code, err = run_cli(capsys, ["train", "--resume", str(tmp_path / "nope")])
    assert code == 2 and "does not exist" in err
    code, err = run_cli(capsys, ["sample", str(tmp_path / "nope"), "--out", str(tmp_path / "s.png")])
    assert code == 2 and "does not exist" in err


def test_cli_run_directory_without_checkpoint(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    code, err = run_cli(capsys, ["train", "--resume", str(tmp_path / "run")])
    assert code == 2 and "holds no checkpoint" in err
    code, err = run_cli(capsys, ["sample", str(tmp_path / "run"), "--out", str(tmp_path / "s.png")])
    assert code == 2 and "no checkpoint" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]


def test_cli_resume_of_a_finished_run(tmp_path, capsys):
    out = tmp_path / "run"
    sets = [
        "--set",
        "train.steps=3",
        "--set",
        "model.hidden=8",
        "--set",
        "data.size=512",
        "--set",
        "train.sample_grid=10",
        "--set",
        "train.log_every=1",
    ]
    assert main(["train", "ring-2d", "--quiet", "--out", str(out)] + sets) == 0
    before = (out / "checkpoints" / "last.pt").read_bytes()
    code, err = run_cli(capsys, ["train", "--resume", str(out), "--quiet"])
    assert code == 2 and "already finished" in err and "resume with" in err
    assert (out / "checkpoints" / "last.pt").read_bytes() == before
    # --out pointing at an existing run is refused, and the run is untouched
    code, err = run_cli(capsys, ["train", "ring-2d", "--out", str(out)])
    assert code == 2 and "already exists" in err
    assert (out / "checkpoints" / "last.pt").read_bytes() == before


def test_internal_error_prints_a_traceback_and_what_to_report(monkeypatch, capsys):
    from gankit import cli

    def broken(args):
        raise ZeroDivisionError("a bug")

    parser = cli.build_parser()
    parser._subparsers._group_actions[0].choices["presets"].set_defaults(func=broken)
    monkeypatch.setattr(cli, "build_parser", lambda: parser)
    code = main(["presets"])
    err = capsys.readouterr().err
    assert code == 1
    assert "Traceback" in err and "ZeroDivisionError" in err
    assert "internal error" in err and "report" in err
