"""The `minise` command, called in-process through minise.cli.main with tiny settings."""
import os
import signal
import subprocess
import sys
import time

import pytest

from minise.cli import IMAGE_OPS, VECTOR_OPS, main
from minise.train import load_checkpoint, read_metrics

TINY = ["--dataset", "synthetic", "--width", "4", "--epochs", "1", "--batch-size", "128", "--quiet"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err
    return code, out, err


def assert_one_line_error(code, err, *fragments):
    assert code == 2
    lines = [line for line in err.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("minise ") and "error:" in lines[0], err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])


# -- help --------------------------------------------------------------------------------------------

@pytest.mark.parametrize("command", ["train", "evaluate", "summary", "gradcheck", "compare"])
def test_every_command_has_help_with_an_example(command, capsys):
    with pytest.raises(SystemExit) as done:
        main([command, "--help"])
    assert done.value.code == 0
    text = capsys.readouterr().out
    assert "examples:" in text and f"minise {command}" in text
    options = [word for word in text.split() if word.startswith("--") and word != "--help"]
    assert options, "every command has options"


def test_top_level_help_and_no_command(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert all(c in text for c in ("train", "evaluate", "summary", "gradcheck", "compare"))
    assert main([]) == 2


def test_python_dash_m_minise_runs():
    done = subprocess.run([sys.executable, "-m", "minise", "--version"], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0 and done.stdout.startswith("minise ")


# -- train, resume, evaluate -------------------------------------------------------------------------

def test_train_then_resume_then_evaluate(tmp_path, capsys):
    out = str(tmp_path / "run")
    code, stdout, err = run(capsys, "train", *TINY, "--out", out)
    assert code == 0, err
    assert "test accuracy" in stdout and "epoch 1/1" in err
    assert {"metrics.jsonl", "metrics.csv", "last.npz", "best.npz"} <= set(os.listdir(out))
    saved = load_checkpoint(os.path.join(out, "last.npz"))
    assert saved["config"]["model"] == "se_resnet20" and saved["epoch"] == 1

    code, stdout, err = run(capsys, "train", *TINY[:-3], "--epochs", "2", "--batch-size", "128", "--quiet",
                            "--out", out, "--resume")
    assert code == 0, err
    assert "resuming" in err and "epoch 2/2" in err and "epoch 1/2" not in err
    assert [r["epoch"] for r in read_metrics(out)] == [1, 2]
    accuracy = stdout.split("test accuracy ")[1].split("%")[0]

    code, stdout, err = run(capsys, "evaluate", os.path.join(out, "last.npz"))
    assert code == 0, err
    assert f"accuracy {accuracy}%" in stdout and "se_resnet20" in stdout


def test_best_checkpoint_is_chosen_on_a_validation_split_not_on_the_test_set(tmp_path, capsys):
    out = str(tmp_path / "run")
    code, stdout, err = run(capsys, "train", *TINY[:-3], "--epochs", "2", "--batch-size", "128", "--quiet",
                            "--out", out)
    assert code == 0, err
    assert load_checkpoint(os.path.join(out, "last.npz"))["config"]["val_fraction"] == 0.1
    assert "best.npz: epoch" in stdout and "validation accuracy" in stdout
    # the per-epoch "val" figures are those of the held-out tenth of the 512 training images
    code, stdout, _ = run(capsys, "evaluate", out, "--split", "val")
    assert code == 0 and "/52)" in stdout
    assert f"accuracy {100 * read_metrics(out)[-1]['val_accuracy']:.2f}%" in stdout
    assert "/460)" in run(capsys, "evaluate", out, "--split", "train")[1]
    assert "/512)" in run(capsys, "evaluate", out)[1]

    code, stdout, err = run(capsys, "train", *TINY, "--val-fraction", "0", "--out", str(tmp_path / "none"))
    assert code == 0 and "val loss" not in err and "chosen on training accuracy" in stdout
    code, _, err = run(capsys, "evaluate", str(tmp_path / "none"), "--split", "val")
    assert_one_line_error(code, err, "without a validation split")
    with pytest.raises(SystemExit):
        main(["train", "--val-fraction", "1"])
    assert "[0, 1)" in capsys.readouterr().err


def test_train_plain_twin_with_adam_and_warmup(tmp_path, capsys):
    code, stdout, err = run(capsys, "train", *TINY, "--no-se", "--optimizer", "adam", "--warmup", "1",
                            "--schedule", "step", "--out", str(tmp_path))
    assert code == 0, err
    assert load_checkpoint(tmp_path / "last.npz")["config"]["model"] == "resnet20"
    assert read_metrics(tmp_path)[0]["lr"] == pytest.approx(0.0005)        # half of adam's 1e-3 in warm-up


# -- bad input: one line, exit status 2, nothing left behind -------------------------------------------

def test_unknown_model(tmp_path, capsys):
    code, _, err = run(capsys, "train", *TINY, "--model", "se_resnet21", "--out", str(tmp_path / "x"))
    assert_one_line_error(code, err, "unknown model 'se_resnet21'", "se_resnet20")
    assert not (tmp_path / "x").exists()


def test_missing_data_directory(tmp_path, capsys):
    code, _, err = run(capsys, "train", "--dataset", "mnist", "--data-dir", str(tmp_path / "nowhere"),
                       "--out", str(tmp_path / "x"))
    assert_one_line_error(code, err, "nowhere", "--download")
    assert not (tmp_path / "x").exists()


def test_corrupted_dataset_file(tmp_path, capsys):
    folder = tmp_path / "data" / "mnist"
    folder.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte", "t10k-images-idx3-ubyte",
                 "t10k-labels-idx1-ubyte"):
        (folder / name).write_bytes(b"\x00\x00\x08\x03garbage")
    code, _, err = run(capsys, "train", "--dataset", "mnist", "--data-dir", str(tmp_path / "data"),
                       "--out", str(tmp_path / "x"))
    assert_one_line_error(code, err, "idx")
    assert not (tmp_path / "x").exists()


def test_corrupted_and_missing_checkpoints(tmp_path, capsys):
    bad = tmp_path / "last.npz"
    bad.write_bytes(b"PK\x03\x04 this is not a zip file")
    code, _, err = run(capsys, "evaluate", str(bad))
    assert_one_line_error(code, err, "not a readable checkpoint")
    code, _, err = run(capsys, "evaluate", str(tmp_path / "absent.npz"))
    assert_one_line_error(code, err, "no checkpoint")
    code, _, err = run(capsys, "train", *TINY, "--out", str(tmp_path / "empty"), "--resume")
    assert_one_line_error(code, err, "no last.npz")


def test_checkpoint_from_another_model(tmp_path, capsys):
    out = str(tmp_path / "run")
    assert run(capsys, "train", *TINY, "--out", out)[0] == 0
    before = open(os.path.join(out, "last.npz"), "rb").read()
    code, _, err = run(capsys, "train", *TINY, "--no-se", "--out", out, "--resume")
    assert_one_line_error(code, err, "trained with --model se_resnet20, not resnet20", "pass --model se_resnet20")
    assert open(os.path.join(out, "last.npz"), "rb").read() == before
    code, _, err = run(capsys, "train", *TINY, "--val-fraction", "0.2", "--out", out, "--resume")
    assert_one_line_error(code, err, "trained with --val-fraction 0.1, not 0.2", "pass --val-fraction 0.1")
    assert open(os.path.join(out, "last.npz"), "rb").read() == before
    code, _, err = run(capsys, "evaluate", out, "--model", "resnet32")
    assert_one_line_error(code, err, "holds model se_resnet20, not resnet32")
    code, _, err = run(capsys, "evaluate", out, "--dataset", "cifar10", "--data-dir", str(tmp_path))
    assert_one_line_error(code, err)


@pytest.mark.parametrize("options, said", [
    (["--width", "8"], "trained with model options (--width, --reduction) {'width': 4}, not {'width': 8}"),
    (["--reduction", "4"], "model options (--width, --reduction) {'width': 4}, not {'reduction': 4, 'width': 4}"),
    (["--optimizer", "adam"], "trained with --optimizer sgd, not adam"),
    (["--lr", "0.2"], "trained with --lr 0.05, not 0.2"),
    (["--weight-decay", "0"], "trained with --weight-decay 0.0005, not 0.0"),
    (["--schedule", "step"], "trained with --schedule cosine, not step"),
    (["--seed", "3"], "trained with --seed 0, not 3"),
    (["--no-augment"], "trained with augmentation (--no-augment) True, not False"),
])
def test_resuming_with_other_options_is_refused_naming_them(tmp_path, capsys, options, said):
    out = str(tmp_path / "run")
    assert run(capsys, "train", *TINY, "--out", out)[0] == 0
    before = open(os.path.join(out, "last.npz"), "rb").read()
    code, _, err = run(capsys, "train", *TINY, *options, "--out", out, "--resume")
    assert_one_line_error(code, err, said)
    assert open(os.path.join(out, "last.npz"), "rb").read() == before


def test_sigterm_saves_and_exits_143(tmp_path):
    out = tmp_path / "run"
    env = dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    process = subprocess.Popen([sys.executable, "-m", "minise", "train", *TINY, "--epochs", "50", "--out", str(out)],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    deadline = time.monotonic() + 120
    while not (out / "last.npz").exists() and time.monotonic() < deadline and process.poll() is None:
        time.sleep(0.05)                             # one epoch saved: the run is well under way
    process.send_signal(signal.SIGTERM)
    _, err = process.communicate(timeout=120)
    assert process.returncode == 143, err
    assert "terminated (SIGTERM)" in err and "saved" in err and "Traceback" not in err


def test_a_diverging_run_stops_with_status_1_naming_the_step(tmp_path, capsys):
    out = tmp_path / "run"
    code, _, err = run(capsys, "train", *TINY, "--epochs", "3", "--lr", "10", "--batch-size", "32", "--out", str(out))
    assert code == 1 and "training diverged at" in err and "Try a lower learning rate" in err, err
    assert len(err.strip().splitlines()) == 1
    assert not out.exists()                          # it diverged in epoch 1: nothing to keep


def test_resume_from_a_checkpoint_whose_fields_have_the_wrong_type_is_one_line(tmp_path, capsys):
    from minise.io import save
    out = str(tmp_path / "run")
    assert run(capsys, "train", *TINY, "--out", out)[0] == 0
    state = load_checkpoint(os.path.join(out, "last.npz"))
    for field, value in (("epoch", "1"), ("loader", [1, 2]), ("optimizer", {"state": {}, "param_groups": 3})):
        save(dict(state, **{field: value}), os.path.join(out, "last.npz"))
        code, _, err = run(capsys, "train", *TINY, "--out", out, "--resume")
        assert_one_line_error(code, err, "last.npz")


def test_bad_numbers_are_refused_by_the_parser(capsys):
    with pytest.raises(SystemExit) as done:
        main(["train", "--epochs", "0"])
    assert done.value.code == 2 and "must be positive" in capsys.readouterr().err
    for option, value in (("--seed", "-1"), ("--warmup", "-2"), ("--weight-decay", "-0.5")):
        with pytest.raises(SystemExit) as done:
            main(["train", option, value])
        err = capsys.readouterr().err
        assert done.value.code == 2 and "must be 0 or more" in err and "positive" not in err, err


@pytest.mark.parametrize("option, zero", [("--seed", "00"), ("--warmup", "+0"), ("--weight-decay", "0.00"),
                                          ("--weight-decay", "0e0")])
def test_options_that_allow_zero_take_every_spelling_of_it(option, zero):
    from minise.cli import build_parser
    args = build_parser().parse_args(["train", option, zero])
    assert getattr(args, option[2:].replace("-", "_")) == 0


# -- summary, gradcheck, compare -----------------------------------------------------------------------

def test_summary(capsys):
    code, out, _ = run(capsys, "summary", "se_resnet20", "--input-size", "1", "8", "8")
    assert code == 0 and "Total parameters" in out and "(1, 8, 8)" in out
    imagenet = run(capsys, "summary", "se_resnet50")[1]                       # the paper's 28.1 M, 1000 classes
    assert "Total parameters: 28,088,024" in imagenet and "(3, 224, 224)" in imagenet
    assert "Total parameters: 26,059,514" in run(capsys, "summary", "se_resnet50", "--num-classes", "10")[1]
    plain = run(capsys, "summary", "se_resnet20", "--no-se")[1]
    assert "SE blocks:        0 parameters" in plain
    code, _, err = run(capsys, "summary", "resnet20", "--reduction", "4")
    assert_one_line_error(code, err, "--reduction")


@pytest.mark.parametrize("op", IMAGE_OPS + VECTOR_OPS)
def test_gradcheck_every_op(op, capsys):
    code, out, err = run(capsys, "gradcheck", op)
    assert code == 0, out + err
    assert "gradcheck passed" in out


def test_gradcheck_options_and_a_wrong_backward(capsys, monkeypatch):
    code, out, _ = run(capsys, "gradcheck", "conv2d", "--shape", "2", "2", "7", "7", "--kernel-size", "3",
                       "--stride", "2", "--padding", "1", "--seed", "3")
    assert code == 0 and "x (2, 2, 7, 7)" in out
    from minise.functional.activation import SigmoidFunction
    original = SigmoidFunction.backward
    monkeypatch.setattr(SigmoidFunction, "backward", lambda self, gy: tuple(g * 1.01 for g in original(self, gy)))
    code, out, _ = run(capsys, "gradcheck", "se_block", "--shape", "2", "4", "3", "3")
    assert code == 1 and "FAILED" in out
    code, _, err = run(capsys, "gradcheck", "linear", "--shape", "2", "3", "4")
    assert_one_line_error(code, err, "--shape")


def test_compare(tmp_path, capsys):
    code, out, err = run(capsys, "compare", *TINY, "--reduction", "2", "--out", str(tmp_path))
    assert code == 0, err
    table = out[out.index("model"):].splitlines()
    assert table[1].startswith("se_resnet20") and table[2].startswith("resnet20")
    se_params, plain_params = (int(line.split()[2].replace(",", "")) for line in table[1:3])
    assert se_params > plain_params
    assert sorted(d for d in os.listdir(tmp_path) if os.path.isdir(tmp_path / d)) == ["resnet20", "se_resnet20"]


def test_the_command_switches_on_the_allocator_setting(capsys, monkeypatch):
    """`import minise` changes no process-wide setting; the minise command opts in to the malloc tuning."""
    import minise.cli
    calls = []
    monkeypatch.setattr(minise.cli, "tune_malloc", lambda: calls.append(1))
    assert run(capsys, "summary", "resnet20")[0] == 0 and calls == [1]
