"""Every notebook of examples/notebooks runs, cell by cell in a real kernel,
against `gateway-server demo --emulate all` configured as docs/notebooks.md
says (the variables the demo prints); and no notebook in the repository
keeps outputs."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import nbformat
import pytest
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

from tests.examples.demo_server import demo_server

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = ROOT / "examples" / "notebooks"
APIS = {"nexthink", "kubenexus", "exasperation", "gateway", "compliance"}
# matplotlib's inline backend: headless (Agg underneath), and it hands each figure
# to the notebook as a PNG, so the test sees that a plot was drawn.
INLINE = "module://matplotlib_inline.backend_inline"


def read(path: Path) -> nbformat.NotebookNode:
    node: nbformat.NotebookNode = nbformat.read(path, as_version=4)  # type: ignore[no-untyped-call]
    return node  # (nbformat is untyped)


def repository_notebooks() -> list[Path]:
    """Every .ipynb that git would see: committed, staged or new (not ignored)."""
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard", "*.ipynb"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    return [ROOT / name for name in listed if (ROOT / name).exists()]


def test_every_api_has_a_notebook() -> None:
    assert {p.stem for p in NOTEBOOKS.glob("*.ipynb")} >= APIS


def test_no_notebook_in_the_repository_keeps_outputs() -> None:
    notebooks = repository_notebooks()
    assert set(NOTEBOOKS.glob("*.ipynb")) <= set(notebooks)
    kept = []
    for path in notebooks:
        nb = read(path)
        nbformat.validate(nb)
        for cell in nb.cells:
            if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
                kept.append(f"{path.relative_to(ROOT)}: cell {cell.get('id')}")
    assert not kept, f"outputs committed (clear them: .venv/bin/nbstripout FILE): {kept}"


@pytest.fixture(scope="module")
def demo_environment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The demo server, once for every notebook, and the variables it prints."""
    tmp = tmp_path_factory.mktemp("notebooks-demo")
    with demo_server(tmp, "--emulate", "all", "--nexthink-export-seconds", "1") as creds:
        yield creds["environment"]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("name", sorted(APIS))
def test_the_notebook_runs_against_the_demo(
    name: str,
    demo_environment: dict[str, str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    for key, value in {**demo_environment, "MPLBACKEND": INLINE}.items():
        monkeypatch.setenv(key, value)  # the kernel inherits them
    nb = read(NOTEBOOKS / f"{name}.ipynb")
    # the kernel talks over Unix sockets in tmp_path: no port opened for it
    kernel = KernelManager(kernel_name="python3", transport="ipc", ip=str(tmp_path / "kernel"))
    NotebookClient(
        nb, km=kernel, timeout=60, startup_timeout=60, resources={"metadata": {"path": NOTEBOOKS}}
    ).execute()  # a cell that raises fails here, with its traceback

    outputs = [o for cell in nb.cells if cell.cell_type == "code" for o in cell.outputs]
    shown = {kind for o in outputs for kind in o.get("data", {})}
    assert {"image/png", "text/html"} <= shown, "a plot and a table, at least"
    stderr = [o.text for o in outputs if o.output_type == "stream" and o.name == "stderr"]
    assert not stderr, "a notebook that warns today breaks tomorrow"
