"""The lesson's house: imports point one way, and the commands the files show work."""

import ast
import importlib
import json
import re
import subprocess
import sys

import pytest

import common
from conftest import ROOT

MODULES = {path.stem: path for path in ROOT.glob("*.py")}


def project_imports(path) -> tuple[set[str], list[str]]:
    """The project's files that `path` imports at its top, and any it imports anywhere else."""
    tree = ast.parse(path.read_text())
    top, hidden = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name.split(".")[0] for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module.split(".")[0]]
        else:
            continue
        for name in filter(MODULES.__contains__, names):
            (top.add(name) if node in tree.body else hidden.append(f"{path.name} line {node.lineno}: {name}"))
    return top, hidden


def test_imports_point_one_way_up_the_readme_table():
    # The README's file table, top to bottom, is the order of the layers.
    table = re.findall(r"^\| `(\w+)\.py`", (ROOT / "README.md").read_text(), re.MULTILINE)
    assert sorted(table) == sorted(MODULES), "every file in the README's table, once"
    for position, name in enumerate(table):
        top, hidden = project_imports(MODULES[name])
        assert not hidden, f"imports hidden in functions or branches: {hidden}"
        below = top - set(table[:position])
        assert not below, f"{name}.py imports {sorted(below)}, which the table lists below it"


@pytest.mark.parametrize("script", ["nondigits", "writers"])
def test_a_sheet_of_what_the_network_learns_from_is_drawn_as_the_docstring_says(script, tmp_path, capsys):
    assert f"python {script}.py" in (ROOT / f"{script}.py").read_text()
    result = subprocess.run([sys.executable, str(ROOT / f"{script}.py")], cwd=tmp_path, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "checkpoints" / f"{script}.png").stat().st_size > 1000
    # Never over a picture of the user's own (common.run prints the UserError as one line), and a seed
    # that no generator takes is refused in argparse: in this process, to spare starting PyTorch twice.
    mine = tmp_path / "mine.png"
    mine.write_bytes(b"my own picture")
    main = importlib.import_module(script).main
    with pytest.raises(common.UserError, match="not written by these scripts"):
        main(["--out", str(mine)])
    assert mine.read_bytes() == b"my own picture"
    with pytest.raises(SystemExit) as refused:
        main(["--seed", "-1", "--out", str(tmp_path / "sheet.png")])
    assert refused.value.code == 2 and "must be a whole number" in capsys.readouterr().err


def test_the_readme_examples_read_as_the_readme_says(cnn_checkpoint):
    readme = (ROOT / "README.md").read_text()
    expected = {"seven.png": "7", "year.png": "2026", "notebook.jpg": "2026", "A.png": None, "smiley.png": None,
                "list.png": "365\n2026\n42"}
    for name in expected:
        assert f"python predict.py docs/examples/{name}" in readme or f"docs/examples/{name}" in readme
    result = subprocess.run([sys.executable, "predict.py", "--checkpoint", str(cnn_checkpoint), "--json",
                             *(f"docs/examples/{name}" for name in expected)], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    readings = [json.loads(line) for line in result.stdout.splitlines()]
    assert [r["prediction"] for r in readings] == list(expected.values())


def shown_commands() -> dict[str, set[str]]:
    """Every `python <script>.py ...` that the README or a docstring shows: the options each script is shown with."""
    texts = [(ROOT / "README.md").read_text()] + [ast.get_docstring(ast.parse(p.read_text())) or ""
                                                  for p in MODULES.values()]
    shown: dict[str, set[str]] = {}
    for text in texts:
        for script, rest in re.findall(r"(?:^[ $]*|`)python (\w+\.py)([^`#\n]*)", text, re.MULTILINE):
            shown.setdefault(script, set()).update(re.findall(r"--[\w-]+", rest))
    return shown


def test_every_command_shown_is_a_script_that_takes_those_options():
    # Training would take minutes: `--help` shows that the script starts and knows every option shown;
    # the commands that end quickly (predict.py on the examples, nondigits.py, writers.py) run in full above.
    shown = shown_commands()
    assert {"train_cnn.py", "train_mlp.py", "predict.py", "draw.py", "evaluate.py", "benchmark.py",
            "nondigits.py", "writers.py", "finetune.py"} <= set(shown)
    # All at once: each spends its time importing PyTorch, and the machine may have cores to spare.
    running = {script: subprocess.Popen([sys.executable, script, "--help"], cwd=ROOT, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE) for script in sorted(shown)}
    for script, options in sorted(shown.items()):
        stdout, stderr = running[script].communicate(timeout=120)
        assert running[script].returncode == 0 and stdout.startswith("usage:"), f"{script}: {stderr}"
        unknown = [option for option in options if option not in stdout]
        assert not unknown, f"{script} is shown with {unknown}, which its --help does not know"
